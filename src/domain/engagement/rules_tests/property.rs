//! Random small histories: the figures do not depend on the order of the events, and each
//! post's reactions and replies are those of the contract's words, read literally (an add inside
//! the window with no removal after it inside; a reply inside the window), by brute force.

use super::*;
use proptest::prelude::*;

const POSTS: [&str; 3] = ["7", "8", "9"];
const USERS: [&str; 3] = [CM, U1, U2];
const EMOJI: [&str; 2] = ["👍", "🎉"];

fn event() -> impl Strategy<Value = (u8, usize, usize, usize, i64)> {
    // kind (0 add, 1 remove, 2 reply), post (3 = unknown), user, emoji, time in hours: on a
    // 6-hour grid, so that events often share a time and their ids decide.
    (
        0u8..3,
        0usize..4,
        0usize..3,
        0usize..2,
        (0i64..40).prop_map(|h| h * 6),
    )
}

fn history(
    posts: &[(i64, u64)],
    events: &[(u8, usize, usize, usize, i64)],
    ids: &[u32],
) -> Vec<EngagementEvent> {
    let base = t(FROM);
    let mut out: Vec<EngagementEvent> = posts
        .iter()
        .enumerate()
        .map(|(i, (hour, audience))| EngagementEvent {
            id: POSTS[i].into(),
            guild_id: G.into(),
            author_id: CM.into(),
            at: base + hour * HOUR,
            kind: EngagementKind::Post {
                channel_id: CHANNEL.into(),
                themes: vec![format!("t{}", i % 2)],
                audience: *audience,
            },
        })
        .collect();
    for (n, (kind, post, user, emoji, hour)) in events.iter().enumerate() {
        let post_id = POSTS.get(*post).copied().unwrap_or("999").to_string();
        let emoji = EMOJI[*emoji].to_string();
        out.push(EngagementEvent {
            // Ids of several lengths, so that numeric and text order differ at equal times.
            id: ids.get(n).map_or(n as u32 + 100_000, |x| *x).to_string(),
            guild_id: G.into(),
            author_id: USERS[*user].into(),
            at: base + hour * HOUR,
            kind: match kind {
                0 => EngagementKind::ReactionAdd { post_id, emoji },
                1 => EngagementKind::ReactionRemove { post_id, emoji },
                _ => EngagementKind::Reply { post_id },
            },
        });
    }
    out
}

/// The contract's words, by brute force: (reactions, replies) of post `p` at `now`.
fn literal(events: &[EngagementEvent], p: &EngagementEvent, now: Millis) -> (u64, u64) {
    let end = p.at + 7 * DAY;
    let inside = |e: &EngagementEvent| {
        e.kind.post_id() == Some(p.id.as_str())
            && p.at <= e.at
            && e.at < end
            && e.at <= now
            && e.author_id != p.author_id
    };
    let before = |a: &EngagementEvent, b: &EngagementEvent| {
        (a.at, crate::domain::id_order_key(&a.id)) < (b.at, crate::domain::id_order_key(&b.id))
    };
    let (mut reactions, mut replies) = (0, 0);
    for user in USERS {
        for emoji in EMOJI {
            let mine = |e: &&EngagementEvent| e.author_id == user && inside(e);
            let of = |e: &EngagementEvent, add: bool| match &e.kind {
                EngagementKind::ReactionAdd { emoji: x, .. } => add && x == emoji,
                EngagementKind::ReactionRemove { emoji: x, .. } => !add && x == emoji,
                _ => false,
            };
            let counted = events.iter().filter(mine).any(|add| {
                of(add, true)
                    && !events
                        .iter()
                        .filter(mine)
                        .any(|rm| of(rm, false) && before(add, rm))
            });
            reactions += counted as u64;
        }
    }
    for e in events.iter().filter(|e| inside(e)) {
        replies += matches!(e.kind, EngagementKind::Reply { .. }) as u64;
    }
    (reactions, replies)
}

proptest! {
    // Cheap cases, and the equal-time orderings they look for are rare: many of them.
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn figures_follow_the_contract_in_any_order(
        posts in proptest::collection::vec(((0i64..33).prop_map(|h| h * 6), 0u64..5), 1..=3),
        events in proptest::collection::vec(event(), 0..40),
        ids in proptest::collection::vec(1u32..300, 0..40),
        now_hour in 0i64..300,
        seed in any::<u64>(),
    ) {
        let mut ids = ids;
        ids.sort_unstable();
        ids.dedup();
        let h = History { events: history(&posts, &events, &ids) };
        let now = crate::domain::format_time(t(FROM) + now_hour * HOUR);
        let (from, to) = (FROM, "2026-11-18T00:00:00Z");
        let r = h.report(from, to, &now);
        for p in h.events.iter().filter(|e| matches!(e.kind, EngagementKind::Post { .. })) {
            if p.at > t(&now) {
                continue;
            }
            let f = r.current.top_posts.iter().find(|f| f.post.id == p.id);
            let f = f.expect("at most 3 posts: all are top posts");
            prop_assert_eq!((f.reactions, f.replies), literal(&h.events, p, t(&now)));
        }
        let mut shuffled = h.events.clone();
        let mut state = seed | 1;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            shuffled.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let again = History { events: shuffled }.report(from, to, &now);
        prop_assert_eq!(again, r);
    }
}
