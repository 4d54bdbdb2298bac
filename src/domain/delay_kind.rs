//! The three kinds of delay a report measures, and a value for each of them.

use std::ops::{Index, IndexMut};

/// A kind of delay (KPI.md): the response delay, its part inside business hours, and the
/// delay of a conversation's first response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DelayKind {
    Response,
    BusinessHours,
    FirstResponse,
}

impl DelayKind {
    /// Every kind, in the order the rollups store them.
    pub const ALL: [DelayKind; 3] = [
        DelayKind::Response,
        DelayKind::BusinessHours,
        DelayKind::FirstResponse,
    ];

    /// The kind's number in the rollup tables and the encoded parts.
    pub fn code(self) -> u8 {
        match self {
            DelayKind::Response => 0,
            DelayKind::BusinessHours => 1,
            DelayKind::FirstResponse => 2,
        }
    }

    pub fn from_code(code: u8) -> Option<DelayKind> {
        DelayKind::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// One value for each kind of delay.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ByKind<T> {
    pub response: T,
    pub business_hours: T,
    pub first_response: T,
}

impl<T> ByKind<T> {
    /// The value of each kind, made by `f`.
    pub fn from_fn(mut f: impl FnMut(DelayKind) -> T) -> ByKind<T> {
        ByKind {
            response: f(DelayKind::Response),
            business_hours: f(DelayKind::BusinessHours),
            first_response: f(DelayKind::FirstResponse),
        }
    }

    /// The same value for every kind.
    pub fn all(value: T) -> ByKind<T>
    where
        T: Clone,
    {
        ByKind::from_fn(|_| value.clone())
    }

    pub fn map<U>(self, mut f: impl FnMut(T) -> U) -> ByKind<U> {
        ByKind {
            response: f(self.response),
            business_hours: f(self.business_hours),
            first_response: f(self.first_response),
        }
    }

    /// Each kind with its value, in `DelayKind::ALL`'s order.
    pub fn iter(&self) -> impl Iterator<Item = (DelayKind, &T)> {
        DelayKind::ALL.into_iter().map(move |k| (k, &self[k]))
    }

    /// Each kind with its value, mutable, in `DelayKind::ALL`'s order.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (DelayKind, &mut T)> {
        [
            (DelayKind::Response, &mut self.response),
            (DelayKind::BusinessHours, &mut self.business_hours),
            (DelayKind::FirstResponse, &mut self.first_response),
        ]
        .into_iter()
    }

    /// The values, in `DelayKind::ALL`'s order.
    pub fn values(&self) -> impl Iterator<Item = &T> {
        [&self.response, &self.business_hours, &self.first_response].into_iter()
    }
}

impl<T, E> ByKind<Result<T, E>> {
    /// Every value, or the first error (in `DelayKind::ALL`'s order).
    pub fn transpose(self) -> Result<ByKind<T>, E> {
        Ok(ByKind {
            response: self.response?,
            business_hours: self.business_hours?,
            first_response: self.first_response?,
        })
    }
}

impl<T> Index<DelayKind> for ByKind<T> {
    type Output = T;

    fn index(&self, kind: DelayKind) -> &T {
        match kind {
            DelayKind::Response => &self.response,
            DelayKind::BusinessHours => &self.business_hours,
            DelayKind::FirstResponse => &self.first_response,
        }
    }
}

impl<T> IndexMut<DelayKind> for ByKind<T> {
    fn index_mut(&mut self, kind: DelayKind) -> &mut T {
        match kind {
            DelayKind::Response => &mut self.response,
            DelayKind::BusinessHours => &mut self.business_hours,
            DelayKind::FirstResponse => &mut self.first_response,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_in_stored_order() {
        let codes: Vec<u8> = DelayKind::ALL.iter().map(|k| k.code()).collect();
        assert_eq!(codes, [0, 1, 2]);
        for k in DelayKind::ALL {
            assert_eq!(DelayKind::from_code(k.code()), Some(k));
        }
        assert_eq!(DelayKind::from_code(3), None);
    }

    #[test]
    fn each_kind_indexes_its_own_field() {
        let mut v = ByKind::from_fn(|k| k.code());
        assert_eq!((v.response, v.business_hours, v.first_response), (0, 1, 2));
        v[DelayKind::FirstResponse] = 9;
        assert_eq!(v.first_response, 9);
        let seen: Vec<(DelayKind, u8)> = v.iter().map(|(k, x)| (k, *x)).collect();
        assert_eq!(
            seen,
            [
                (DelayKind::Response, 0),
                (DelayKind::BusinessHours, 1),
                (DelayKind::FirstResponse, 9)
            ]
        );
    }
}
