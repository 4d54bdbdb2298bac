use super::present_reactions;
use crate::domain::engagement::{EngagementEvent, EngagementKind};

fn reaction(id: &str, at: i64, who: &str, emoji: &str, added: bool) -> EngagementEvent {
    let (post_id, emoji) = ("p".to_string(), emoji.to_string());
    EngagementEvent {
        id: id.into(),
        guild_id: "g".into(),
        author_id: who.into(),
        at,
        kind: match added {
            true => EngagementKind::ReactionAdd { post_id, emoji },
            false => EngagementKind::ReactionRemove { post_id, emoji },
        },
    }
}

fn pair(who: &str, emoji: &str) -> (String, String) {
    (who.to_string(), emoji.to_string())
}

#[test]
fn a_reaction_is_present_when_its_last_event_in_time_then_id_is_an_add() {
    let events = vec![
        // u 👍: add at 10, removed at 20, added again at 30 (listed out of order): present.
        reaction("3", 30, "u", "👍", true),
        reaction("1", 10, "u", "👍", true),
        reaction("2", 20, "u", "👍", false),
        // u 🎉: added then removed at the same millisecond; the larger id (as a number,
        // 10 > 9) is the later: removed.
        reaction("9", 40, "u", "🎉", true),
        reaction("10", 40, "u", "🎉", false),
        // v 👍: removed, then added: present.
        reaction("5", 50, "v", "👍", false),
        reaction("6", 60, "v", "👍", true),
        // w 👍: only removed: absent.
        reaction("7", 70, "w", "👍", false),
    ];
    let present = present_reactions(&events, "p");
    let expected = [pair("u", "👍"), pair("v", "👍")].into_iter().collect();
    assert_eq!(present, expected);
    assert!(present_reactions(&events, "other").is_empty());
}
