//! Reports whose cost could follow a guild's size, kept bounded: the request export and a
//! report over some channels read one place at a time, only the places they need, and stop at
//! a limit (docs/operations.md, "Bounded inputs").

use super::{build_report, export_rows, Desk, ExportRow};
use crate::domain::kpi::{Report, Scope, Window};
use crate::domain::Event;
use crate::store::Result;

/// Rows of an export, at most (a CSV of about 10 MB).
pub const EXPORT_MAX_ROWS: usize = 100_000;
/// Events a report over some channels replays, at most (about 100 MB in memory).
pub const PLACES_REPORT_MAX_EVENTS: usize = 500_000;

/// An export, and whether it was cut at the limit.
pub struct Export {
    pub rows: Vec<ExportRow>,
    pub capped: bool,
}

impl Desk {
    /// The request export of one guild's `scope` over `window`, one place at a time (those of
    /// `scope.conversations`, or those where a customer wrote in the window), at most
    /// `max_rows` rows, in order of start.
    pub async fn export_bounded(
        &self,
        guild: &str,
        scope: &Scope,
        window: Window,
        max_rows: usize,
    ) -> Result<Export> {
        let places: Vec<String> = match &scope.conversations {
            Some(set) => set.iter().cloned().collect(),
            None => {
                self.store
                    .places_with_customer_messages(guild, window.from, window.to)
                    .await?
            }
        };
        let (all, _) = self.report_rules(scope).await?;
        let mut rows = Vec::new();
        let mut capped = false;
        for place in places {
            let events = self.store.place_events(guild, &place).await?;
            rows.extend(export_rows(&events, &all, scope, window));
            if rows.len() > max_rows {
                capped = true;
                rows.truncate(max_rows);
                break;
            }
        }
        rows.sort_by(|a, b| (a.start, &a.conversation).cmp(&(b.start, &b.conversation)));
        Ok(Export { rows, capped })
    }

    /// The report of a guild's `scope` limited to some places (`scope.conversations`, a
    /// channel's), replayed from those places' events only; `None` when they hold more than
    /// `max_events` events.
    pub async fn places_report(
        &self,
        guild: &str,
        scope: &Scope,
        window: Window,
        max_events: usize,
    ) -> Result<Option<Report>> {
        let mut events: Vec<Event> = Vec::new();
        for place in scope.conversations.iter().flatten() {
            events.extend(self.store.place_events(guild, place).await?);
            if events.len() > max_events {
                return Ok(None);
            }
        }
        events.retain(|e| e.at <= window.now);
        let (all, report_rules) = self.report_rules(scope).await?;
        Ok(Some(build_report(
            &events,
            &all,
            &report_rules,
            scope,
            window,
        )))
    }
}
