//! What a live event needs replayed: the conversation it belongs to, not the place's whole
//! history. A conversation cannot reach back over a close, nor over a silence of `idle` between
//! two customer or agent messages (it lapsed there), so everything before the last such
//! boundary changes nothing the live path decides (whether the event opens a conversation, the
//! place's latest answer and its survey).

use super::event::{Event, EventKind};
use super::{id_order_key, Millis};

/// Where the replay of `e` may start among `events` (the place's events at or after `since`,
/// in any order, `e` among them or not): `Some(events)`, sorted, from just after the last
/// boundary before `e`; `None` when no boundary shows within them (read further back).
pub fn since_last_boundary(
    mut events: Vec<Event>,
    e: &Event,
    since: Millis,
    idle: Millis,
) -> Option<Vec<Event>> {
    events.sort_by(|a, b| (a.at, id_order_key(&a.id)).cmp(&(b.at, id_order_key(&b.id))));
    let before_e = |x: &Event| (x.at, id_order_key(&x.id)) < (e.at, id_order_key(&e.id));
    let is_message =
        |x: &Event| matches!(x.kind, EventKind::CustomerMessage | EventKind::AgentMessage);
    // The message after the one being looked at, walking back from `e`.
    let mut next_message_at = is_message(e).then_some(e.at);
    for (i, x) in events.iter().enumerate().rev() {
        if !before_e(x) {
            continue;
        }
        if x.kind == EventKind::Close {
            return Some(events.split_off(i + 1));
        }
        if is_message(x) {
            if next_message_at.is_some_and(|next| next - x.at >= idle) {
                return Some(events.split_off(i + 1));
            }
            next_message_at = Some(x.at);
        }
    }
    // No boundary among them: the first message is one when nothing came for `idle` before it.
    let first = next_message_at.unwrap_or(e.at);
    (first - since >= idle).then_some(events)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::timeline::Timeline;
    use crate::domain::{GuildRules, HOUR, MINUTE};

    fn ev(id: u64, at: Millis, kind: EventKind) -> Event {
        Event {
            id: id.to_string(),
            guild_id: "g".into(),
            place: "p".into(),
            author_id: if kind == EventKind::AgentMessage {
                "a".into()
            } else {
                "c".into()
            },
            at,
            kind,
        }
    }

    const IDLE: Millis = 24 * HOUR;

    /// Three conversations: one closed, one that lapsed, and the open one.
    fn history() -> Vec<Event> {
        let day = 24 * HOUR;
        vec![
            ev(1, 0, EventKind::CustomerMessage),
            ev(2, MINUTE, EventKind::AgentMessage),
            ev(3, 2 * MINUTE, EventKind::Close),
            ev(4, 3 * MINUTE, EventKind::CustomerMessage),
            ev(5, 4 * MINUTE, EventKind::AgentMessage),
            ev(6, 2 * day, EventKind::CustomerMessage),
            ev(7, 2 * day + MINUTE, EventKind::Note),
            ev(8, 2 * day + 20 * HOUR, EventKind::AgentMessage),
            ev(9, 3 * day + 10 * HOUR, EventKind::CustomerMessage),
        ]
    }

    #[test]
    fn the_replay_starts_after_the_last_close_or_silence_and_decides_the_same() {
        let all = history();
        let e = all.last().unwrap().clone();
        let cut = since_last_boundary(all.clone(), &e, 0, IDLE).unwrap();
        let ids: Vec<&str> = cut.iter().map(|x| x.id.as_str()).collect();
        assert_eq!(ids, ["6", "7", "8", "9"]);
        let rules = GuildRules::default();
        let full = Timeline::build(&all, None, &|_| &rules);
        let part = Timeline::build(&cut, None, &|_| &rules);
        // Indexes into the timeline differ; what they describe does not.
        let conv = |tl: &Timeline| {
            let c = tl.conversations.last().unwrap();
            (
                c.opened_by.clone(),
                c.customer_id.clone(),
                c.lapses_at,
                c.close.clone(),
            )
        };
        assert_eq!(conv(&full), conv(&part));
        let req = |tl: &Timeline| {
            let r = tl.requests.last().unwrap();
            (r.start_id.clone(), r.answer.clone(), r.is_first)
        };
        assert_eq!(req(&full), req(&part));
        // Right after the close: the replay starts after it.
        let e = all[3].clone();
        let cut = since_last_boundary(all.clone(), &e, 0, IDLE).unwrap();
        assert_eq!(cut[0].id, "4");
    }

    #[test]
    fn without_a_boundary_in_sight_it_asks_to_read_further_back() {
        let all: Vec<Event> = history().into_iter().skip(5).collect();
        let e = all.last().unwrap().clone();
        // Read from 2 days 1 h on: event 6 (at 2 days) is out of sight, 8 to 9 is no silence.
        assert_eq!(
            since_last_boundary(all[1..].to_vec(), &e, 2 * IDLE + HOUR, IDLE),
            None
        );
        // Read from 1 day on: nothing came in the day before event 6.
        let cut = since_last_boundary(all.clone(), &e, IDLE, IDLE).unwrap();
        assert_eq!(cut.len(), 4);
    }

    #[test]
    fn an_event_arriving_late_still_sees_the_events_after_it() {
        let all = history();
        let late = all[7].clone();
        let cut = since_last_boundary(all.clone(), &late, 0, IDLE).unwrap();
        let ids: Vec<&str> = cut.iter().map(|x| x.id.as_str()).collect();
        assert_eq!(ids, ["6", "7", "8", "9"]);
    }
}
