//! The community half of `reactif demo`: a few posts a day in an announcements channel and a
//! forum, with themes that do not all please alike, reactions (some taken back, some added
//! again, a few by the author), and replies, most soon after the post and a few after its
//! engagement window. Ordinary engagement events for the ingest path.

use super::DEMO_GUILD;
use crate::domain::engagement::{EngagementEvent, EngagementKind};
use crate::domain::{snowflake_at, Millis, DAY, HOUR, MINUTE};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// The community manager who posts.
const CM: &str = "1400000000000000001";
const ANNOUNCEMENTS: &str = "1300000000000000001";
const FORUM: &str = "1300000000000000002";
const MEMBERS: u64 = 400;
const EMOJI: [&str; 4] = ["👍", "🎉", "❤️", "🔥"];

/// A theme and how much its posts please: the mean share of the audience that engages.
const THEMES: [(&str, f64); 5] = [
    ("release", 0.045),
    ("events", 0.06),
    ("tips", 0.02),
    ("community", 0.035),
    ("survey", 0.015),
];

struct Gen {
    rng: SmallRng,
    events: Vec<EngagementEvent>,
    counter: u64,
    now: Millis,
}

impl Gen {
    fn push(&mut self, at: Millis, author: String, kind: EngagementKind) {
        if at > self.now {
            return;
        }
        self.counter += 1;
        self.events.push(EngagementEvent {
            id: (snowflake_at(at) | (self.counter & 0x3F_FFFF)).to_string(),
            guild_id: DEMO_GUILD.to_string(),
            author_id: author,
            at,
            kind,
        });
    }

    /// When someone reacts or replies: most within hours of the post, a long tail past a week.
    fn delay(&mut self) -> Millis {
        let u: f64 = self.rng.gen_range(1e-6..1.0);
        ((-u.ln()) * 10.0 * HOUR as f64) as Millis + MINUTE
    }

    fn member(&mut self) -> String {
        format!("15{:017}", self.rng.gen_range(1..=MEMBERS))
    }
}

/// `weeks` weeks of posts ending at `now`, with their reactions and replies up to `now`.
pub fn generate(now: Millis, weeks: u32, seed: u64) -> Vec<EngagementEvent> {
    let mut g = Gen {
        rng: SmallRng::seed_from_u64(seed ^ 0xE6A6),
        events: Vec::new(),
        counter: 0,
        now,
    };
    let start = now - weeks as i64 * 7 * DAY;
    let mut day = start - start.rem_euclid(DAY);
    while day < now {
        for _ in 0..g.rng.gen_range(1..=3) {
            let at = day + g.rng.gen_range(8 * HOUR..19 * HOUR);
            post(&mut g, at);
        }
        day += DAY;
    }
    g.events
}

fn post(g: &mut Gen, at: Millis) {
    let forum = g.rng.gen_bool(0.35);
    let (channel, audience) = if forum {
        (FORUM, g.rng.gen_range(250..400))
    } else {
        (ANNOUNCEMENTS, g.rng.gen_range(900..1200))
    };
    let mut themes: Vec<String> = Vec::new();
    let mut appeal = 0.0;
    for _ in 0..g.rng.gen_range(0..=2) {
        let (name, rate) = THEMES[g.rng.gen_range(0..THEMES.len())];
        if !themes.iter().any(|t| t == name) {
            themes.push(name.to_string());
            appeal += rate;
        }
    }
    let appeal = if themes.is_empty() {
        0.01
    } else {
        appeal / themes.len() as f64
    };
    let post_at = at;
    g.push(
        post_at,
        CM.to_string(),
        EngagementKind::Post {
            channel_id: channel.to_string(),
            themes,
            audience,
        },
    );
    if at > g.now {
        return;
    }
    let id = g.events.last().map(|e| e.id.clone()).unwrap_or_default();
    let reactions = (audience as f64 * appeal * g.rng.gen_range(0.5..1.5)) as u32;
    react(g, &id, post_at, reactions);
    // The author's own reaction, which never counts.
    if g.rng.gen_bool(0.2) {
        let kind = EngagementKind::ReactionAdd {
            post_id: id.clone(),
            emoji: EMOJI[0].to_string(),
        };
        g.push(post_at + MINUTE, CM.to_string(), kind);
    }
    let replies = (reactions as f64 * g.rng.gen_range(0.05..0.25)) as u32;
    for _ in 0..replies {
        let who = g.member();
        let t = post_at + g.delay();
        g.push(
            t,
            who,
            EngagementKind::Reply {
                post_id: id.clone(),
            },
        );
    }
}

/// `n` members react to post `id`: some take it back, and some of those add it again.
fn react(g: &mut Gen, id: &str, post_at: Millis, n: u32) {
    let add = |post_id: &str, emoji: &str| EngagementKind::ReactionAdd {
        post_id: post_id.to_string(),
        emoji: emoji.to_string(),
    };
    for _ in 0..n {
        let who = g.member();
        let emoji = EMOJI[g.rng.gen_range(0..EMOJI.len())];
        let t = post_at + g.delay();
        g.push(t, who.clone(), add(id, emoji));
        if g.rng.gen_bool(0.1) {
            let removed = t + g.delay() / 4;
            let kind = EngagementKind::ReactionRemove {
                post_id: id.to_string(),
                emoji: emoji.to_string(),
            };
            g.push(removed, who.clone(), kind);
            if g.rng.gen_bool(0.3) {
                let again = removed + g.delay() / 4;
                g.push(again, who, add(id, emoji));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_posts_have_reactions_replies_and_themes_up_to_now_only() {
        let now = 1_800_000_000_000;
        let events = generate(now, 3, 7);
        let posts = events
            .iter()
            .filter(|e| matches!(e.kind, EngagementKind::Post { .. }))
            .count();
        assert!((21..=63).contains(&posts), "{posts}");
        assert!(events.iter().all(|e| e.at <= now));
        let kinds = |name: &str| events.iter().filter(|e| e.kind.name() == name).count();
        assert!(
            kinds("reaction_add") > 10 * posts,
            "{}",
            kinds("reaction_add")
        );
        assert!(kinds("reaction_remove") > 0 && kinds("reply") > 0);
        let ids: std::collections::HashSet<&str> = events.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids.len(), events.len(), "ids are unique");
        assert_eq!(
            generate(now, 3, 7),
            events,
            "the same seed, the same history"
        );
    }
}
