//! docs/engagement.md's rules, one test each, with expectations worked out by hand in the
//! comments. Times are UTC; the engagement window is the default 7 days unless a test says.
//! This file: one post's figures; `window`: a window's figures, themes, top posts and filters.

use super::*;
use crate::domain::kpi::{Rules, Window};
use crate::domain::{parse_time, GuildRules, Millis, DAY, HOUR};

const G: &str = "1";
const CHANNEL: &str = "10";
const CM: &str = "100";
const U1: &str = "201";
const U2: &str = "202";
const U3: &str = "203";
const P: &str = "2026-11-09T09:00:00Z";
const FROM: &str = "2026-11-09T00:00:00Z";
const TO: &str = "2026-11-16T00:00:00Z";

fn t(s: &str) -> Millis {
    parse_time(s).unwrap_or_else(|| panic!("bad test time {s}"))
}

/// `P` plus some milliseconds.
fn p_plus(ms: Millis) -> String {
    crate::domain::format_time(t(P) + ms)
}

/// A history written in any order; ids follow the order of writing unless given.
#[derive(Default)]
struct History {
    events: Vec<EngagementEvent>,
}

impl History {
    fn push(
        &mut self,
        id: Option<&str>,
        guild: &str,
        author: &str,
        at: &str,
        kind: EngagementKind,
    ) -> String {
        let id = id.map_or_else(|| format!("{}", 1000 + self.events.len()), str::to_string);
        self.events.push(EngagementEvent {
            id: id.clone(),
            guild_id: guild.into(),
            author_id: author.into(),
            at: t(at),
            kind,
        });
        id
    }
    fn post_in(&mut self, guild: &str, at: &str, themes: &[&str], audience: u64) -> String {
        let kind = EngagementKind::Post {
            channel_id: CHANNEL.into(),
            themes: themes.iter().map(|s| s.to_string()).collect(),
            audience,
        };
        self.push(None, guild, CM, at, kind)
    }
    fn post(&mut self, at: &str, themes: &[&str], audience: u64) -> String {
        self.post_in(G, at, themes, audience)
    }
    fn add(&mut self, post: &str, user: &str, emoji: &str, at: &str) {
        let kind = EngagementKind::ReactionAdd {
            post_id: post.into(),
            emoji: emoji.into(),
        };
        self.push(None, G, user, at, kind);
    }
    fn remove(&mut self, post: &str, user: &str, emoji: &str, at: &str) {
        let kind = EngagementKind::ReactionRemove {
            post_id: post.into(),
            emoji: emoji.into(),
        };
        self.push(None, G, user, at, kind);
    }
    fn reply(&mut self, post: &str, user: &str, at: &str) {
        self.push(
            None,
            G,
            user,
            at,
            EngagementKind::Reply {
                post_id: post.into(),
            },
        );
    }

    /// A report where the guilds of `windows` have their own engagement window.
    fn report_with(
        &self,
        windows: &[(&str, Millis)],
        filters: &Filters,
        from: &str,
        to: &str,
        now: &str,
    ) -> Report {
        let default = GuildRules::default();
        let custom: Vec<(&str, GuildRules)> = windows
            .iter()
            .map(|(g, ms)| {
                let r = GuildRules {
                    engagement_window_ms: *ms,
                    ..GuildRules::default()
                };
                (*g, r)
            })
            .collect();
        let lookup = |g: &str| {
            custom
                .iter()
                .find(|(id, _)| *id == g)
                .map_or(&default, |(_, r)| r)
        };
        let rules = Rules {
            lookup: &lookup,
            report: &default,
        };
        let w = Window {
            from: t(from),
            to: t(to),
            now: t(now),
        };
        report(&self.events, &rules, filters, w)
    }

    fn report(&self, from: &str, to: &str, now: &str) -> Report {
        self.report_with(&[], &Filters::default(), from, to, now)
    }

    /// One post's figures at `now`, by both entry points (they must agree): `post_figures` over
    /// all the events, and the replay of a report whose window holds only that post.
    fn post_at(&self, id: &str, now: &str) -> PostFigures {
        let e = self.events.iter().find(|e| e.id == id).expect("a post");
        let post = Post::from_event(e).expect("a post event");
        let direct = post_figures(post, 7 * DAY, t(now), &self.events);
        let from = crate::domain::format_time(e.at);
        let to = crate::domain::format_time(e.at + 1);
        let r = self.report(&from, &to, now);
        assert_eq!(
            r.current.top_posts,
            vec![direct.clone()],
            "replay and post_figures agree"
        );
        direct
    }
}

fn counts(f: &PostFigures) -> (u64, u64, Vec<&str>) {
    (
        f.reactions,
        f.replies,
        f.engaged.iter().map(String::as_str).collect(),
    )
}

#[test]
fn a_reaction_added_inside_the_window_counts_and_engages_its_user() {
    let mut h = History::default();
    let p = h.post(P, &["news"], 100);
    h.add(&p, U1, "👍", "2026-11-09T09:05:00Z");
    let f = h.post_at(&p, TO);
    assert_eq!(counts(&f), (1, 0, vec![U1]));
    assert_eq!(f.engagements(), 1);
    assert_eq!(f.engagement_rate().map(|r| r.value()), Some(0.01));
}

#[test]
fn a_reaction_added_and_removed_inside_the_window_does_not_count() {
    let mut h = History::default();
    let p = h.post(P, &[], 100);
    h.add(&p, U1, "🎉", "2026-11-09T09:10:00Z");
    h.remove(&p, U1, "🎉", "2026-11-09T09:20:00Z");
    assert_eq!(counts(&h.post_at(&p, TO)), (0, 0, vec![]));
}

#[test]
fn a_re_added_or_doubly_added_reaction_counts_once() {
    let mut h = History::default();
    let p = h.post(P, &[], 100);
    // add, remove, add: the last in-window event is an add.
    h.add(&p, U1, "❤️", "2026-11-09T10:00:00Z");
    h.remove(&p, U1, "❤️", "2026-11-09T11:00:00Z");
    h.add(&p, U1, "❤️", "2026-11-09T12:00:00Z");
    // add twice (a catch-up seeing it again): one reaction.
    h.add(&p, U2, "❤️", "2026-11-09T10:00:00Z");
    h.add(&p, U2, "❤️", "2026-11-09T13:00:00Z");
    assert_eq!(counts(&h.post_at(&p, TO)), (2, 0, vec![U1, U2]));
}

#[test]
fn each_emoji_of_a_user_counts_but_the_user_is_engaged_once() {
    let mut h = History::default();
    let p = h.post(P, &[], 100);
    h.add(&p, U1, "👍", "2026-11-09T09:01:00Z");
    h.add(&p, U1, "🎉", "2026-11-09T09:02:00Z");
    h.reply(&p, U1, "2026-11-09T09:03:00Z");
    let f = h.post_at(&p, TO);
    // 2 reactions + 1 reply = 3 engagements, by 1 user.
    assert_eq!(counts(&f), (2, 1, vec![U1]));
    assert_eq!((f.engagements(), f.engaged_users()), (3, 1));
}

#[test]
fn a_removal_at_exactly_the_window_end_uncounts_nothing() {
    let mut h = History::default();
    let p = h.post(P, &[], 100);
    h.add(&p, U1, "👍", &p_plus(HOUR));
    h.remove(&p, U1, "👍", &p_plus(7 * DAY)); // at the end: outside
    h.add(&p, U2, "👍", &p_plus(HOUR));
    h.remove(&p, U2, "👍", &p_plus(7 * DAY - 1)); // 1 ms before the end: inside
    assert_eq!(counts(&h.post_at(&p, &p_plus(30 * DAY))), (1, 0, vec![U1]));
}

#[test]
fn only_adds_inside_the_window_count() {
    let mut h = History::default();
    let p = h.post(P, &[], 100);
    h.add(&p, U1, "a", P); // at the post's own time: inside
    h.add(&p, U2, "b", &p_plus(7 * DAY)); // at the window's end: outside
    h.add(&p, U3, "c", &p_plus(-1)); // before the post: outside
    assert_eq!(counts(&h.post_at(&p, &p_plus(30 * DAY))), (1, 0, vec![U1]));
}

#[test]
fn what_happens_after_the_window_changes_nothing() {
    let mut h = History::default();
    let p = h.post(P, &[], 100);
    // Added inside, removed after the window: it counts.
    h.add(&p, U1, "👍", &p_plus(HOUR));
    h.remove(&p, U1, "👍", &p_plus(8 * DAY));
    // Added and removed inside, re-added after the window: it does not.
    h.add(&p, U2, "👍", &p_plus(HOUR));
    h.remove(&p, U2, "👍", &p_plus(2 * HOUR));
    h.add(&p, U2, "👍", &p_plus(9 * DAY));
    assert_eq!(counts(&h.post_at(&p, &p_plus(30 * DAY))), (1, 0, vec![U1]));
}

#[test]
fn now_cuts_the_history_and_an_event_at_now_counts() {
    let mut h = History::default();
    let p = h.post(P, &[], 100);
    let now = p_plus(DAY);
    h.add(&p, U1, "a", &now); // at now: counts
    h.add(&p, U2, "a", &p_plus(DAY + 1)); // after now: ignored
    h.add(&p, U3, "a", &p_plus(HOUR));
    h.remove(&p, U3, "a", &now); // a removal at now un-counts
    h.add(&p, U3, "b", &p_plus(HOUR));
    h.remove(&p, U3, "b", &p_plus(DAY + 1)); // a removal after now does not
    h.reply(&p, U2, &now); // counts
    h.reply(&p, U3, &p_plus(DAY + 1)); // ignored
                                       // Reactions U1 a, U3 b; reply U2.
    assert_eq!(counts(&h.post_at(&p, &now)), (2, 1, vec![U1, U2, U3]));
}

#[test]
fn the_authors_own_reactions_and_replies_do_not_count() {
    let mut h = History::default();
    let p = h.post(P, &[], 100);
    h.add(&p, CM, "👍", &p_plus(1));
    h.reply(&p, CM, &p_plus(2));
    h.reply(&p, U1, &p_plus(3));
    assert_eq!(counts(&h.post_at(&p, TO)), (0, 1, vec![U1]));
}

#[test]
fn every_reply_inside_the_window_counts() {
    let mut h = History::default();
    let p = h.post(P, &[], 100);
    h.reply(&p, U1, &p_plus(1));
    h.reply(&p, U1, &p_plus(2));
    h.reply(&p, U2, &p_plus(7 * DAY - 1)); // the window's last millisecond
    h.reply(&p, U3, &p_plus(7 * DAY)); // its end: outside
    let f = h.post_at(&p, &p_plus(30 * DAY));
    // 3 replies by 2 users.
    assert_eq!(counts(&f), (0, 3, vec![U1, U2]));
}

#[test]
fn the_same_event_twice_counts_once() {
    let mut h = History::default();
    let p = h.post(P, &[], 100);
    h.reply(&p, U1, &p_plus(1));
    h.add(&p, U2, "👍", &p_plus(2));
    let again: Vec<EngagementEvent> = h.events.clone();
    h.events.extend(again);
    assert_eq!(counts(&h.post_at(&p, TO)), (1, 1, vec![U1, U2]));
    let r = h.report(FROM, TO, TO);
    assert_eq!(r.current.figures.posts, 1);
}

#[test]
fn interactions_on_unknown_posts_count_for_nothing() {
    let mut h = History::default();
    let p = h.post(P, &[], 100);
    h.add("999", U1, "👍", &p_plus(1));
    h.reply("999", U1, &p_plus(2));
    // A post after now is not among the events yet: its interactions count for nothing either.
    let late = h.post("2026-11-15T10:00:00Z", &[], 50);
    h.add(&late, U1, "👍", "2026-11-15T09:00:00Z");
    let r = h.report(FROM, TO, "2026-11-15T09:30:00Z");
    let f = &r.current.figures;
    assert_eq!(
        (f.posts, f.reactions, f.replies, f.audience),
        (1, 0, 0, 100)
    );
    assert_eq!(r.current.top_posts[0].post.id, p);
}

#[test]
fn events_at_the_same_time_are_ordered_by_id_as_numbers() {
    let mut h = History::default();
    let p = h.post(P, &[], 100);
    let at = p_plus(HOUR);
    let react = |post: &str, emoji: &str| EngagementKind::ReactionAdd {
        post_id: post.into(),
        emoji: emoji.into(),
    };
    let unreact = |post: &str, emoji: &str| EngagementKind::ReactionRemove {
        post_id: post.into(),
        emoji: emoji.into(),
    };
    // U1: remove "9" before add "10" (as text "10" < "9" would reverse them): it counts.
    h.push(Some("10"), G, U1, &at, react(&p, "a"));
    h.push(Some("9"), G, U1, &at, unreact(&p, "a"));
    // U2: add "9" before remove "10": it does not.
    h.push(Some("9"), G, U2, &at, react(&p, "a"));
    h.push(Some("10"), G, U2, &at, unreact(&p, "a"));
    assert_eq!(counts(&h.post_at(&p, TO)), (1, 0, vec![U1]));
}

#[test]
fn the_order_of_the_events_changes_nothing() {
    let mut h = History::default();
    let a = h.post(P, &["x", "y"], 100);
    let b = h.post("2026-11-10T09:00:00Z", &["y"], 40);
    h.add(&a, U1, "👍", &p_plus(1));
    h.remove(&a, U1, "👍", &p_plus(2));
    h.add(&a, U1, "👍", &p_plus(3));
    h.add(&b, U2, "👍", "2026-11-10T10:00:00Z");
    h.reply(&b, U3, "2026-11-10T11:00:00Z");
    let forward = h.report(FROM, TO, TO);
    h.events.reverse();
    assert_eq!(h.report(FROM, TO, TO), forward);
    h.events.rotate_left(3);
    assert_eq!(h.report(FROM, TO, TO), forward);
    assert_eq!(forward.current.figures.engagements(), 3);
}

#[test]
fn a_post_figures_are_final_once_it_matured() {
    let mut h = History::default();
    let p = h.post(P, &[], 10);
    h.add(&p, U1, "👍", &p_plus(HOUR));
    let at_end = h.post_at(&p, &p_plus(7 * DAY));
    h.remove(&p, U1, "👍", &p_plus(8 * DAY));
    h.reply(&p, U2, &p_plus(8 * DAY));
    assert_eq!(h.post_at(&p, &p_plus(60 * DAY)), at_end);
    assert!(!at_end.maturing(t(&p_plus(7 * DAY))));
}

mod property;
mod window;
