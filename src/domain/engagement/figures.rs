//! The figures of docs/engagement.md: one post's (its counted reactions and replies at `now`),
//! and a window's (totals, themes, top posts, the previous window), from a replay of the events.
//!
//! A post's figures depend on `now` only while it matures: once `now >= window_end` they are
//! final, so a store can keep them per post and sum them per day. Everything a window adds up is
//! a sum of per-post values (`RateSum` keeps the mean rate exact under any order of addition),
//! except `unique_engaged_users`, which needs the posts' `engaged` user lists.

use super::{normalize_themes, EngagementEvent, EngagementKind};
use crate::domain::kpi::{local_day, series_window, Ratio, Rules, Window};
use crate::domain::{cmp_ids, id_order_key, Millis};
use chrono::NaiveDate;
use chrono_tz::Tz;
use std::collections::{BTreeMap, HashMap, HashSet};

/// How many posts `top_posts` lists at most.
pub const TOP_POSTS: usize = 5;

/// A post's engagement rate is kept as an integer, `rate * 2^80` rounded to the nearest, so that
/// sums of rates are exact and the same in any order (a rollup and a replay agree to the bit).
/// The rounding error, at most 2^-81, is far below what an `f64` rate can show.
pub const RATE_SCALE: u128 = 1 << 80;

/// A post, as the figures read it: its themes normalised (each once, `untagged` when none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    pub id: String,
    pub guild_id: String,
    pub channel_id: String,
    pub author_id: String,
    pub at: Millis,
    pub themes: Vec<String>,
    /// Who could see it when it was posted: a ceiling of its reach, not a count of views.
    pub audience: u64,
}

impl Post {
    /// The post an event announces; `None` for reactions and replies.
    pub fn from_event(e: &EngagementEvent) -> Option<Post> {
        match &e.kind {
            EngagementKind::Post {
                channel_id,
                themes,
                audience,
            } => Some(Post {
                id: e.id.clone(),
                guild_id: e.guild_id.clone(),
                channel_id: channel_id.clone(),
                author_id: e.author_id.clone(),
                at: e.at,
                themes: normalize_themes(themes),
                audience: *audience,
            }),
            _ => None,
        }
    }

    pub fn has_theme(&self, theme: &str) -> bool {
        self.themes.iter().any(|t| t == theme)
    }
}

/// One post's figures at some `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostFigures {
    pub post: Post,
    /// The end of its engagement window, `post.at + engagement_window` (excluded).
    pub window_end: Millis,
    pub reactions: u64,
    pub replies: u64,
    /// The distinct users with a counted reaction or reply, ids in numeric order.
    pub engaged: Vec<String>,
}

impl PostFigures {
    pub fn engagements(&self) -> u64 {
        self.reactions + self.replies
    }

    pub fn engaged_users(&self) -> u64 {
        self.engaged.len() as u64
    }

    /// `engagements / audience`, not clamped; `None` when the audience is 0.
    pub fn engagement_rate(&self) -> Option<Ratio> {
        Ratio::new(self.engagements(), self.post.audience)
    }

    /// Still inside its engagement window at `now`: its figures may still change.
    pub fn maturing(&self, now: Millis) -> bool {
        now < self.window_end
    }
}

/// A sum of post engagement rates in units of `1 / RATE_SCALE`, and how many posts it sums.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateSum {
    pub scaled: u128,
    pub posts: u64,
}

impl RateSum {
    /// One post's rate; nothing for a post without audience (it has no rate).
    pub fn of(engagements: u64, audience: u64) -> RateSum {
        if audience == 0 {
            return RateSum::default();
        }
        let a = audience as u128;
        RateSum {
            scaled: (engagements as u128)
                .saturating_mul(RATE_SCALE)
                .saturating_add(a / 2)
                / a,
            posts: 1,
        }
    }

    pub fn add(&mut self, other: RateSum) {
        self.scaled = self.scaled.saturating_add(other.scaled);
        self.posts += other.posts;
    }

    /// The mean of the summed rates; `None` when no post had an audience.
    pub fn mean(&self) -> Option<f64> {
        (self.posts > 0).then(|| self.scaled as f64 / self.posts as f64 / RATE_SCALE as f64)
    }
}

/// One reaction event or reply, as a post's figures read it. The field order is the sort order:
/// replies apart, then by user and emoji, then in time, then by id compared as numbers.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Touch<'a> {
    reply: bool,
    author: &'a str,
    emoji: &'a str,
    at: Millis,
    id: (bool, u128, &'a str),
    add: bool,
}

impl<'a> Touch<'a> {
    fn of(e: &'a EngagementEvent) -> Option<Touch<'a>> {
        let (reply, emoji, add) = match &e.kind {
            EngagementKind::Post { .. } => return None,
            EngagementKind::ReactionAdd { emoji, .. } => (false, emoji.as_str(), true),
            EngagementKind::ReactionRemove { emoji, .. } => (false, emoji.as_str(), false),
            EngagementKind::Reply { .. } => (true, "", false),
        };
        Some(Touch {
            reply,
            author: &e.author_id,
            emoji,
            at: e.at,
            id: id_order_key(&e.id),
            add,
        })
    }

    fn same_reply(&self, other: &Touch) -> bool {
        self.reply && other.reply && self.author == other.author && self.id == other.id
    }
}

/// A post's figures from its interactions, `touches` sorted.
///
/// A user's emoji counts when the last of its adds and removes inside the window (and at or
/// before `now`) is an add: the add was inside the window and nothing removed it before the
/// window's end or `now`. A removal at `window_end` or after `now` is outside and changes nothing.
fn count(post: Post, window_end: Millis, now: Millis, touches: &[Touch]) -> PostFigures {
    let inside = |t: &Touch| {
        post.at <= t.at && t.at < window_end && t.at <= now && t.author != post.author_id
    };
    let (mut reactions, mut replies) = (0, 0);
    let mut engaged: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < touches.len() {
        let t = &touches[i];
        if t.reply {
            // The same reply twice (an import read twice) is one reply.
            if inside(t) && !(i > 0 && touches[i - 1].same_reply(t)) {
                replies += 1;
                engaged.push(t.author);
            }
            i += 1;
            continue;
        }
        let mut last = None;
        let mut j = i;
        while j < touches.len()
            && !touches[j].reply
            && touches[j].author == t.author
            && touches[j].emoji == t.emoji
        {
            if inside(&touches[j]) {
                last = Some(touches[j].add);
            }
            j += 1;
        }
        if last == Some(true) {
            reactions += 1;
            engaged.push(t.author);
        }
        i = j;
    }
    engaged.sort_unstable_by(|a, b| cmp_ids(a, b));
    engaged.dedup();
    PostFigures {
        engaged: engaged.into_iter().map(str::to_string).collect(),
        post,
        window_end,
        reactions,
        replies,
    }
}

/// One post's figures at `now` from its reactions and replies (events about other posts, and
/// posts, are ignored): the entry point for a store that keeps a post's events together.
pub fn post_figures<'a>(
    post: Post,
    window_ms: Millis,
    now: Millis,
    interactions: impl IntoIterator<Item = &'a EngagementEvent>,
) -> PostFigures {
    let mut touches: Vec<Touch> = interactions
        .into_iter()
        .filter(|e| e.kind.post_id() == Some(post.id.as_str()))
        .filter_map(Touch::of)
        .collect();
    touches.sort_unstable();
    let end = post.at.saturating_add(window_ms);
    count(post, end, now, &touches)
}

/// What a report keeps: `--guild` and `--theme`, applied to the window and the previous one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    pub guild_id: Option<String>,
    /// Only the posts carrying this theme (exactly as stored; `untagged` for posts without one).
    pub theme: Option<String>,
}

impl Filters {
    pub fn keeps(&self, post: &Post) -> bool {
        self.guild_id.as_ref().is_none_or(|g| g == &post.guild_id)
            && self.theme.as_ref().is_none_or(|t| post.has_theme(t))
    }
}

/// The scalar figures of a set of posts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Figures {
    pub posts: u64,
    pub maturing: u64,
    pub reactions: u64,
    pub replies: u64,
    /// The sum over the posts of each post's engaged users.
    pub engaged_users: u64,
    /// The distinct users engaged with at least one of the posts.
    pub unique_engaged_users: u64,
    pub audience: u64,
    pub rate_sum: RateSum,
}

impl Figures {
    pub fn engagements(&self) -> u64 {
        self.reactions + self.replies
    }

    /// `engagements / audience`; `None` when the audience is 0.
    pub fn engagement_rate(&self) -> Option<Ratio> {
        Ratio::new(self.engagements(), self.audience)
    }

    /// The mean of the posts' rates over the posts with an audience.
    pub fn mean_post_engagement_rate(&self) -> Option<f64> {
        self.rate_sum.mean()
    }
}

/// Adds posts up into `Figures`, keeping the engaged users to count them once.
#[derive(Default)]
struct Tally<'a> {
    figures: Figures,
    users: HashSet<&'a str>,
}

impl<'a> Tally<'a> {
    fn add(&mut self, p: &'a PostFigures, now: Millis) {
        let f = &mut self.figures;
        f.posts += 1;
        f.maturing += p.maturing(now) as u64;
        f.reactions += p.reactions;
        f.replies += p.replies;
        f.engaged_users += p.engaged_users();
        f.audience += p.post.audience;
        f.rate_sum
            .add(RateSum::of(p.engagements(), p.post.audience));
        self.users.extend(p.engaged.iter().map(String::as_str));
    }

    fn finish(mut self) -> Figures {
        self.figures.unique_engaged_users = self.users.len() as u64;
        self.figures
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThemeFigures {
    pub theme: String,
    pub figures: Figures,
}

/// Everything docs/engagement.md reports for one window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowFigures {
    pub window: Window,
    pub figures: Figures,
    /// Sorted by engagements, most first, then by name (Unicode code points).
    pub themes: Vec<ThemeFigures>,
    /// The `TOP_POSTS` posts with the most engagements; ties by earlier time, then id.
    pub top_posts: Vec<PostFigures>,
}

/// The figures of the posts of window `w` (the caller passes the posts posted in it).
pub fn window_figures<'a>(
    posts: impl IntoIterator<Item = &'a PostFigures>,
    w: Window,
) -> WindowFigures {
    let mut total = Tally::default();
    let mut themes: HashMap<&str, Tally> = HashMap::new();
    let mut all: Vec<&PostFigures> = Vec::new();
    for p in posts {
        total.add(p, w.now);
        for t in &p.post.themes {
            themes.entry(t.as_str()).or_default().add(p, w.now);
        }
        all.push(p);
    }
    let mut themes: Vec<ThemeFigures> = themes
        .into_iter()
        .map(|(theme, tally)| ThemeFigures {
            theme: theme.to_string(),
            figures: tally.finish(),
        })
        .collect();
    themes.sort_by(|a, b| {
        b.figures
            .engagements()
            .cmp(&a.figures.engagements())
            .then_with(|| a.theme.cmp(&b.theme))
    });
    all.sort_by(|a, b| {
        b.engagements()
            .cmp(&a.engagements())
            .then(a.post.at.cmp(&b.post.at))
            .then_with(|| cmp_ids(&a.post.id, &b.post.id))
    });
    WindowFigures {
        window: w,
        figures: total.finish(),
        themes,
        top_posts: all.into_iter().take(TOP_POSTS).cloned().collect(),
    }
}

/// Posts and engagements per local day of posting: a post's engagements belong to the day it
/// was posted, as they belong to the window it was posted in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayPoint {
    pub day: NaiveDate,
    pub posts: u64,
    pub engagements: u64,
    pub audience: u64,
}

/// A whole report: the window, the previous window of the same length, and the daily series
/// over both (in the time zone of `rules.report`).
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub window: Window,
    pub filters: Filters,
    pub current: WindowFigures,
    pub previous: WindowFigures,
    pub daily: Vec<DayPoint>,
    pub timezone: Tz,
}

/// The posts a report needs (posted in `[from, to)`, at or before `now`, kept by the filters),
/// once each: a post id seen twice is the earliest of its copies.
fn posts_between(
    events: &[EngagementEvent],
    filters: &Filters,
    from: Millis,
    to: Millis,
    now: Millis,
) -> Vec<Post> {
    let mut first: HashMap<&str, &EngagementEvent> = HashMap::new();
    for e in events {
        if matches!(e.kind, EngagementKind::Post { .. }) && e.at <= now {
            let kept = first.entry(e.id.as_str()).or_insert(e);
            if e.at < kept.at {
                *kept = e;
            }
        }
    }
    let mut posts: Vec<Post> = first
        .into_values()
        .filter(|e| from <= e.at && e.at < to)
        .filter_map(Post::from_event)
        .filter(|p| filters.keeps(p))
        .collect();
    posts.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| cmp_ids(&a.id, &b.id)));
    posts
}

/// Every post's figures at `now`: the interactions are routed to their post and sorted once.
/// A reaction or reply about a post that is not among `posts` counts for nothing.
fn replay(
    events: &[EngagementEvent],
    posts: Vec<Post>,
    rules: &Rules,
    now: Millis,
) -> Vec<PostFigures> {
    let slots: HashMap<&str, usize> = posts
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id.as_str(), i))
        .collect();
    let mut routed: Vec<(usize, Touch)> = events
        .iter()
        .filter(|e| e.at <= now)
        .filter_map(|e| Some((*slots.get(e.kind.post_id()?)?, Touch::of(e)?)))
        .collect();
    drop(slots);
    routed.sort_unstable();
    let (slot_of, touches): (Vec<usize>, Vec<Touch>) = routed.into_iter().unzip();
    let mut start = 0;
    let mut out = Vec::with_capacity(posts.len());
    for (slot, post) in posts.into_iter().enumerate() {
        let n = slot_of[start..].iter().take_while(|s| **s == slot).count();
        let window_ms = (rules.lookup)(&post.guild_id).engagement_window_ms;
        let end = post.at.saturating_add(window_ms);
        out.push(count(post, end, now, &touches[start..start + n]));
        start += n;
    }
    out
}

/// The daily series over `w` in `tz`, from the posts' figures.
fn daily(posts: &[PostFigures], w: Window, tz: &Tz) -> Vec<DayPoint> {
    if w.to <= w.from {
        return Vec::new();
    }
    let (first, last) = (local_day(tz, w.from), local_day(tz, w.to - 1));
    let mut days: BTreeMap<NaiveDate, DayPoint> = first
        .iter_days()
        .take_while(|d| *d <= last)
        .map(|day| {
            let point = DayPoint {
                day,
                posts: 0,
                engagements: 0,
                audience: 0,
            };
            (day, point)
        })
        .collect();
    for p in posts.iter().filter(|p| w.contains(p.post.at)) {
        if let Some(d) = days.get_mut(&local_day(tz, p.post.at)) {
            d.posts += 1;
            d.engagements += p.engagements();
            d.audience += p.post.audience;
        }
    }
    days.into_values().collect()
}

/// The engagement report of docs/engagement.md: the posts of `w` kept by `filters`, their
/// figures at `w.now` (events after it ignored), the previous window of the same length at the
/// same `now`, and the daily series. Each post's engagement window is its guild's.
pub fn report(events: &[EngagementEvent], rules: &Rules, filters: &Filters, w: Window) -> Report {
    let prev = w.previous();
    let series = series_window(w);
    let posts = posts_between(events, filters, prev.from.min(series.from), w.to, w.now);
    let figures = replay(events, posts, rules, w.now);
    let current = window_figures(figures.iter().filter(|p| w.contains(p.post.at)), w);
    let previous = window_figures(figures.iter().filter(|p| prev.contains(p.post.at)), prev);
    let timezone = rules.report.timezone;
    Report {
        window: w,
        filters: filters.clone(),
        current,
        previous,
        daily: daily(&figures, series, &timezone),
        timezone,
    }
}
