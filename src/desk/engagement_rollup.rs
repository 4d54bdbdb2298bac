//! Keeping the engagement rollups up to date (`Desk::refresh_engagement`) and building the
//! engagement report from them (`Desk::engagement_report`), exactly the replay's
//! (`Desk::engagement_replay_report`, which the property test and the benchmark compare with).
//!
//! Writes only mark posts dirty, in the transaction that stores their rows. The refresh derives
//! each dirty post's rollup (all its events counted), marks the days it was and is in, then
//! sums those days. The bot refreshes with its support rollups, and a report refreshes first,
//! so it never reads stale rollups.

use super::Desk;
use crate::domain::engagement::rollup::{
    day_parts, last_inside, merge_parts, top_post, DayPart, LoosePost, PostRollup, Target,
    WindowBuilder,
};
use crate::domain::engagement::{
    post_figures, DayPoint, EngagementEvent, Filters, Post, PostFigures, Report,
};
use crate::domain::kpi::{local_day, local_midnight, series_window, Window};
use crate::domain::{GuildRules, Millis};
use crate::store::engagement_rollups::{DayPartsUpdate, EngDay, PostRollupsUpdate, StoredDayPart};
use crate::store::{Result, StoreError};
use chrono::{Duration, NaiveDate};
use chrono_tz::Tz;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Posts (or days) per batch of a refresh.
const BATCH: i64 = 2_000;
const DAY_BATCH: i64 = 100;
/// Days per block (`eng_block_rollups`).
const BLOCK_DAYS: i64 = 7;
/// A refresh stops after this many batches (new events keep coming): the next takes the rest.
const MAX_ROUNDS: u32 = 100_000;

/// What one refresh did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EngagementRefresh {
    pub posts: u64,
    pub days: u64,
}

/// The local day of `at` in `tz`, with its bounds.
fn day_of(guild_id: &str, tz: &Tz, at: Millis) -> EngDay {
    let day = local_day(tz, at);
    EngDay {
        guild_id: guild_id.to_string(),
        zone: tz.name().to_string(),
        day: day.to_string(),
        start_ms: local_midnight(tz, day),
        end_ms: local_midnight(tz, day + Duration::days(1)),
    }
}

/// The days a post is summed in: in its guild's time zone (the guild's reports) and in UTC
/// (reports over several guilds).
fn days_of(guild_id: &str, rules: &GuildRules, at: Millis) -> Vec<EngDay> {
    let mut days = vec![day_of(guild_id, &rules.timezone, at)];
    if rules.timezone != Tz::UTC {
        days.push(day_of(guild_id, &Tz::UTC, at));
    }
    days
}

/// The block of seven local days (from a Monday) that a day is in.
fn block_of(d: &EngDay) -> Result<EngDay> {
    let tz: Tz = d
        .zone
        .parse()
        .map_err(|e| corrupt(format!("day {} in zone {}: {e}", d.day, d.zone)))?;
    let day: NaiveDate = d
        .day
        .parse()
        .map_err(|e| corrupt(format!("day {}: {e}", d.day)))?;
    let monday = NaiveDate::from_ymd_opt(1970, 1, 5).expect("a date");
    let first = day - Duration::days((day - monday).num_days().rem_euclid(BLOCK_DAYS));
    Ok(EngDay {
        guild_id: d.guild_id.clone(),
        zone: d.zone.clone(),
        day: first.to_string(),
        start_ms: local_midnight(&tz, first),
        end_ms: local_midnight(&tz, first + Duration::days(BLOCK_DAYS)),
    })
}

fn corrupt(what: String) -> StoreError {
    StoreError::Corrupt(what)
}

impl Desk {
    /// Brings the engagement rollups up to date with the stored posts, reactions and replies,
    /// and with each guild's engagement window and time zone.
    pub async fn refresh_engagement(&self) -> Result<EngagementRefresh> {
        let store = self.store();
        let all = store.all_guild_rules().await?;
        let defaults = GuildRules::default();
        let rules = |g: &str| all.get(g).unwrap_or(&defaults);
        let mut known = store.eng_rollup_guilds().await?;
        for (guild, (window_ms, zone)) in &known {
            let r = rules(guild);
            if r.engagement_window_ms != *window_ms || r.timezone.name() != zone {
                store
                    .eng_set_rollup_guild(guild, r.engagement_window_ms, r.timezone.name(), true)
                    .await?;
            }
        }
        let mut done = EngagementRefresh::default();
        let mut rounds = 0;
        while rounds < MAX_ROUNDS {
            rounds += 1;
            let marks = store.eng_dirty_posts(BATCH).await?;
            if marks.is_empty() {
                break;
            }
            let ids: Vec<String> = marks.iter().map(|m| m.post_id.clone()).collect();
            let events = store.eng_posts_and_interactions(&ids).await?;
            let mut days: Vec<EngDay> = Vec::new();
            for old in store.eng_post_rollups_by_id(&ids).await? {
                days.extend(days_of(
                    &old.post.guild_id,
                    rules(&old.post.guild_id),
                    old.post.at,
                ));
            }
            let mut on_post: HashMap<&str, Vec<&EngagementEvent>> = HashMap::new();
            let mut posts: Vec<Post> = Vec::new();
            for e in &events {
                match e.kind.post_id() {
                    Some(p) => on_post.entry(p).or_default().push(e),
                    None => posts.extend(Post::from_event(e)),
                }
            }
            let mut figures: Vec<(PostFigures, Millis)> = Vec::with_capacity(posts.len());
            for post in posts {
                let r = rules(&post.guild_id);
                if !known.contains_key(&post.guild_id) {
                    let zone = r.timezone.name().to_string();
                    store
                        .eng_set_rollup_guild(&post.guild_id, r.engagement_window_ms, &zone, false)
                        .await?;
                    known.insert(post.guild_id.clone(), (r.engagement_window_ms, zone));
                }
                days.extend(days_of(&post.guild_id, r, post.at));
                let touches = on_post.get(post.id.as_str()).map_or(&[][..], Vec::as_slice);
                let f = post_figures(
                    post,
                    r.engagement_window_ms,
                    Millis::MAX,
                    touches.iter().copied(),
                );
                let last = last_inside(&f.post, f.window_end, touches.iter().copied());
                figures.push((f, last));
            }
            let people: Vec<String> = figures
                .iter()
                .flat_map(|(f, _)| f.engaged.iter().cloned())
                .collect();
            let numbers = store.eng_number_people(&people).await?;
            let mut rollups = Vec::with_capacity(figures.len());
            for (f, last_at) in figures {
                let mut people = f
                    .engaged
                    .iter()
                    .map(|p| {
                        numbers
                            .get(p)
                            .copied()
                            .ok_or_else(|| corrupt(format!("{p} has no number")))
                    })
                    .collect::<Result<Vec<u32>>>()?;
                people.sort_unstable();
                rollups.push(PostRollup {
                    window_end: f.window_end,
                    reactions: f.reactions,
                    replies: f.replies,
                    last_at,
                    people,
                    post: f.post,
                });
            }
            let present: HashSet<&str> = rollups.iter().map(|r| r.post.id.as_str()).collect();
            let removed = ids
                .iter()
                .filter(|id| !present.contains(id.as_str()))
                .cloned()
                .collect();
            done.posts += rollups.len() as u64;
            let update = PostRollupsUpdate {
                marks,
                rollups,
                removed,
                days,
            };
            store.eng_write_post_rollups(&update).await?;
        }
        while rounds < MAX_ROUNDS {
            rounds += 1;
            let marks = store.eng_dirty_days(DAY_BATCH).await?;
            if marks.is_empty() {
                break;
            }
            let mut updates = Vec::with_capacity(marks.len());
            for mark in marks {
                let d = &mark.day;
                let posts = store
                    .eng_post_rollups_between(&d.guild_id, d.start_ms, d.end_ms)
                    .await?;
                updates.push(DayPartsUpdate {
                    window_ms: rules(&d.guild_id).engagement_window_ms,
                    parts: day_parts(&posts),
                    block: Some(block_of(d)?),
                    mark,
                });
            }
            done.days += updates.len() as u64;
            store.eng_write_day_parts(&updates).await?;
        }
        while rounds < MAX_ROUNDS {
            rounds += 1;
            let marks = store.eng_dirty_blocks(DAY_BATCH).await?;
            if marks.is_empty() {
                break;
            }
            let mut updates = Vec::with_capacity(marks.len());
            for mark in marks {
                let b = &mark.day;
                let days = store
                    .eng_day_parts_of(&b.guild_id, &b.zone, b.start_ms, b.end_ms)
                    .await?;
                let parts = merge_parts(days.iter().map(|d| (d.span, &d.part, &d.people[..])))
                    .map_err(corrupt)?;
                updates.push(DayPartsUpdate {
                    window_ms: rules(&b.guild_id).engagement_window_ms,
                    parts,
                    block: None,
                    mark,
                });
            }
            store.eng_write_block_parts(&updates).await?;
        }
        Ok(done)
    }

    /// The engagement report of docs/engagement.md over `window`: the rollups refreshed, then
    /// read (`engagement_rollup_report`). What a command, the dashboard or the CLI calls.
    pub async fn engagement_report(&self, filters: &Filters, window: Window) -> Result<Report> {
        let started = std::time::Instant::now();
        self.refresh_engagement().await?;
        let refreshed = started.elapsed();
        let report = self.engagement_rollup_report(filters, window).await;
        tracing::debug!(
            "engagement report: refresh {refreshed:.1?}, report {:.1?}",
            started.elapsed() - refreshed
        );
        report
    }

    /// The report from the rollups as they are (the caller refreshed them): the whole days of
    /// each window from the day parts, and the posts of the other days one by one, from their
    /// rollups, or replayed from their rows when they have events after `now`.
    pub async fn engagement_rollup_report(&self, filters: &Filters, w: Window) -> Result<Report> {
        let store = self.store();
        let started = std::time::Instant::now();
        let all = store.all_guild_rules().await?;
        let defaults = GuildRules::default();
        let rules = |g: &str| all.get(g).unwrap_or(&defaults);
        let timezone = filters
            .guild_id
            .as_deref()
            .map_or(defaults.timezone, |g| rules(g).timezone);
        let (prev, series) = (w.previous(), series_window(w));
        let windows = [w, prev, series];
        let (from, to) = (prev.from.min(series.from), w.to);
        let now = w.now;
        let (zone, guild, theme) = (
            timezone.name(),
            filters.guild_id.as_deref(),
            filters.theme.as_deref(),
        );
        // The blocks of seven days with their people, and each day's counts for the series.
        let (blocks, counts) = tokio::try_join!(
            store.eng_day_parts(true, zone, guild, theme, from, to),
            store.eng_day_counts(zone, guild, theme, from, to),
        )?;
        let read_days = started.elapsed();
        let counts = by_day(&counts);
        let mut builders = [WindowBuilder::new(w), WindowBuilder::new(prev)];
        let mut daily = empty_daily(series, &timezone);
        // The days of the blocks not summed whole, with people, and for which windows.
        let mut days = Vec::new();
        // The days taken post by post: the windows that take them so, and `[from, to)`
        // covering their posts in these windows.
        let mut loose: Loose = BTreeMap::new();
        // The days summed whole whose posts mature in part: the day, its first maturing
        // time, and for which of the two windows.
        let mut mixed: Vec<(&EngDay, Millis, usize)> = Vec::new();
        // The daily series: the days' counts.
        for parts in counts.values() {
            let first = parts[0];
            if !meets(&series, first, now) {
                continue;
            }
            if !whole(&series, first, now) {
                take_posts(&mut loose, first, 2, &series);
                continue;
            }
            for s in parts {
                if matches!(
                    target(filters, &s.part),
                    Some(Target::Total | Target::Both(_))
                ) {
                    add_day(&mut daily, &s.day.day, &s.part)?;
                }
            }
        }
        // The two windows: whole blocks, then the days of the other blocks (cut by the window,
        // changed after `now`, or maturing in part).
        let mut days_of_blocks: Vec<(&EngDay, [bool; 2])> = Vec::new();
        for parts in by_day(&blocks).values() {
            let first = parts[0];
            let mut by_days = [false; 2];
            for (i, x) in windows[..2].iter().enumerate() {
                if !meets(x, first, now) {
                    continue;
                }
                if !whole(x, first, now) {
                    by_days[i] = true;
                    continue;
                }
                let maturing = maturing_at(first, now);
                if maturing.is_none() {
                    // Its posts mature in part: its days are summed instead.
                    by_days[i] = true;
                    continue;
                }
                for s in parts {
                    let Some(target) = target(filters, &s.part) else {
                        continue;
                    };
                    let maturing = if maturing == Some(true) {
                        s.part.posts
                    } else {
                        0
                    };
                    builders[i]
                        .add_part(target, &s.part, &s.people, maturing)
                        .map_err(corrupt)?;
                }
            }
            if by_days.iter().any(|b| *b) {
                days_of_blocks.push((&first.day, by_days));
            }
        }
        // The days of these blocks, read at once on the report's connections.
        let reads = days_of_blocks.iter().map(|(block, _)| {
            store.eng_day_parts(
                false,
                zone,
                Some(&block.guild_id),
                theme,
                block.start_ms,
                block.end_ms,
            )
        });
        let read = futures_util::future::try_join_all(reads).await?;
        days.extend(read.into_iter().zip(days_of_blocks.iter().map(|(_, b)| *b)));
        for (stored, by_days) in &days {
            for parts in by_day(stored).values() {
                let first = parts[0];
                for (i, x) in windows[..2].iter().enumerate() {
                    if !by_days[i] || !meets(x, first, now) {
                        continue;
                    }
                    if !whole(x, first, now) {
                        take_posts(&mut loose, first, i, x);
                        continue;
                    }
                    let maturing = maturing_at(first, now);
                    if maturing.is_none() {
                        mixed.push((&first.day, matures_from(first, now), i));
                    }
                    for s in parts {
                        let Some(target) = target(filters, &s.part) else {
                            continue;
                        };
                        let maturing = if maturing == Some(true) {
                            s.part.posts
                        } else {
                            0
                        };
                        builders[i]
                            .add_part(target, &s.part, &s.people, maturing)
                            .map_err(corrupt)?;
                    }
                }
            }
        }
        // The maturing posts of the days that mature in part, as `add_post` would count them.
        for (day, matures_from, i) in &mixed {
            for post in store
                .eng_posts_between(&day.guild_id, *matures_from, day.end_ms)
                .await?
            {
                if filters.keeps(&post) {
                    builders[*i].add_maturing(&post);
                }
            }
        }
        let summed_days = started.elapsed();
        // The posts of the days taken one by one, where they are needed.
        let mut posts: Vec<(PostRollup, [bool; 3])> = Vec::new();
        for (day, by_posts, lo, hi) in loose.values() {
            for r in store
                .eng_post_rollups_between(&day.guild_id, *lo, *hi)
                .await?
            {
                if filters.keeps(&r.post) {
                    posts.push((r, *by_posts));
                }
            }
        }
        let read_posts = started.elapsed();
        let late: Vec<String> = posts
            .iter()
            .filter(|(r, _)| r.last_at > now && r.post.at <= now)
            .map(|(r, _)| r.post.id.clone())
            .collect();
        let mut replayed: HashMap<String, PostFigures> = HashMap::new();
        if !late.is_empty() {
            let events = store.eng_interactions_until(&late, now).await?;
            let mut on_post: HashMap<&str, Vec<&EngagementEvent>> = HashMap::new();
            for e in &events {
                if let Some(p) = e.kind.post_id() {
                    on_post.entry(p).or_default().push(e);
                }
            }
            for (r, _) in posts
                .iter()
                .filter(|(r, _)| r.last_at > now && r.post.at <= now)
            {
                let touches = on_post
                    .get(r.post.id.as_str())
                    .map_or(&[][..], Vec::as_slice);
                let window_ms = r.window_end - r.post.at;
                let f = post_figures(r.post.clone(), window_ms, now, touches.iter().copied());
                replayed.insert(r.post.id.clone(), f);
            }
        }
        let names: Vec<String> = replayed
            .values()
            .flat_map(|f| f.engaged.iter().cloned())
            .collect();
        let numbers = store.eng_people_numbers(&names).await?;
        for (r, by_posts) in &posts {
            let numbered: Vec<u32>;
            let unnumbered: Vec<String>;
            let mut p = LoosePost {
                post: &r.post,
                window_end: r.window_end,
                reactions: r.reactions,
                replies: r.replies,
                engaged_users: r.people.len() as u64,
                people: &r.people,
                unnumbered: &[],
            };
            if let Some(f) = replayed.get(&r.post.id) {
                numbered = f
                    .engaged
                    .iter()
                    .filter_map(|n| numbers.get(n).copied())
                    .collect();
                unnumbered = f
                    .engaged
                    .iter()
                    .filter(|n| !numbers.contains_key(*n))
                    .cloned()
                    .collect();
                p.reactions = f.reactions;
                p.replies = f.replies;
                p.engaged_users = f.engaged_users();
                p.people = &numbered;
                p.unnumbered = &unnumbered;
            }
            for (i, x) in windows.iter().enumerate() {
                if !by_posts[i] || !x.contains(r.post.at) {
                    continue;
                }
                if i == 2 {
                    if let Some(d) = daily.get_mut(&local_day(&timezone, r.post.at)) {
                        d.posts += 1;
                        d.engagements += p.reactions + p.replies;
                        d.audience += r.post.audience;
                    }
                } else {
                    builders[i].add_post(&p);
                }
            }
        }
        let summed_posts = started.elapsed();
        let [cur, before] = builders;
        let (mut current, top) = cur.finish();
        current.top_posts = self.top_posts(&top, &posts, &replayed).await?;
        let (mut previous, top) = before.finish();
        previous.top_posts = self.top_posts(&top, &posts, &replayed).await?;
        tracing::debug!(
            blocks = blocks.len(),
            days = days.iter().map(|(d, _)| d.len()).sum::<usize>(),
            loose_days = loose.len(),
            loose_posts = posts.len(),
            "engagement rollup report: day parts read {read_days:.1?}, summed {:.1?}; posts read \
             {:.1?}, summed {:.1?}; top posts {:.1?}",
            summed_days - read_days,
            read_posts - summed_days,
            summed_posts - read_posts,
            started.elapsed() - summed_posts,
        );
        Ok(Report {
            window: w,
            filters: filters.clone(),
            current,
            previous,
            daily: daily.into_values().collect(),
            timezone,
        })
    }

    /// The top posts' figures, in order: replayed ones as they are, the others from their
    /// rollups with their people's ids.
    async fn top_posts(
        &self,
        ids: &[String],
        loose: &[(PostRollup, [bool; 3])],
        replayed: &HashMap<String, PostFigures>,
    ) -> Result<Vec<PostFigures>> {
        let mut rollups: HashMap<String, PostRollup> = loose
            .iter()
            .filter(|(r, _)| ids.contains(&r.post.id))
            .map(|(r, _)| (r.post.id.clone(), r.clone()))
            .collect();
        let missing: Vec<String> = ids
            .iter()
            .filter(|id| !rollups.contains_key(*id) && !replayed.contains_key(*id))
            .cloned()
            .collect();
        for r in self.store().eng_post_rollups_by_id(&missing).await? {
            rollups.insert(r.post.id.clone(), r);
        }
        let numbers: Vec<u32> = rollups
            .values()
            .flat_map(|r| r.people.iter().copied())
            .collect();
        let names = self.store().eng_people_names(&numbers).await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(f) = replayed.get(id) {
                out.push(f.clone());
                continue;
            }
            let r = rollups
                .get(id)
                .ok_or_else(|| corrupt(format!("top post {id} has no rollup")))?;
            let engaged = r
                .people
                .iter()
                .map(|n| {
                    names
                        .get(n)
                        .cloned()
                        .ok_or_else(|| corrupt(format!("person number {n} has no id")))
                })
                .collect::<Result<Vec<String>>>()?;
            out.push(top_post(r, engaged));
        }
        Ok(out)
    }
}

/// The days taken post by post, by `(guild, start)`: the day, the windows that take it so, and
/// `[from, to)` covering its posts in these windows.
type Loose<'a> = BTreeMap<(&'a str, Millis), (&'a EngDay, [bool; 3], Millis, Millis)>;

/// Takes the posts of `day` in window `x` (the `i`th) one by one.
fn take_posts<'a>(loose: &mut Loose<'a>, day: &'a StoredDayPart, i: usize, x: &Window) {
    let (_, flags, lo, hi) = loose
        .entry((day.day.guild_id.as_str(), day.day.start_ms))
        .or_insert((&day.day, [false; 3], Millis::MAX, Millis::MIN));
    flags[i] = true;
    *lo = (*lo).min(x.from.max(day.day.start_ms));
    *hi = (*hi).max(x.to.min(day.day.end_ms));
}

/// Stored parts by day (or block): `(guild, start)`.
fn by_day(parts: &[StoredDayPart]) -> BTreeMap<(&str, Millis), Vec<&StoredDayPart>> {
    let mut out: BTreeMap<(&str, Millis), Vec<&StoredDayPart>> = BTreeMap::new();
    for s in parts {
        out.entry((s.day.guild_id.as_str(), s.day.start_ms))
            .or_default()
            .push(s);
    }
    out
}

/// Whether a day (or block) may hold posts of window `x` (posts after `now` are in none).
fn meets(x: &Window, s: &StoredDayPart, now: Millis) -> bool {
    s.span.last_post >= x.from && s.span.first_post < x.to && s.span.first_post <= now
}

/// Whether all the posts of a day (or block) are in `x` with their final figures at `now`.
/// Whether they mature is told apart (`maturing_at`).
fn whole(x: &Window, s: &StoredDayPart, now: Millis) -> bool {
    x.from <= s.span.first_post && s.span.last_post < x.to && s.span.last_at <= now
}

/// Posts at or after this time are maturing at `now`.
fn matures_from(s: &StoredDayPart, now: Millis) -> Millis {
    now.saturating_sub(s.window_ms).saturating_add(1)
}

/// Whether all the posts of a day (or block) are maturing at `now`, none is, or `None`: some.
fn maturing_at(s: &StoredDayPart, now: Millis) -> Option<bool> {
    let from = matures_from(s, now);
    if s.span.first_post >= from {
        Some(true)
    } else if s.span.last_post < from {
        Some(false)
    } else {
        None
    }
}

/// Which figures a stored part adds to under the report's filters (`None`: none).
fn target<'a>(filters: &Filters, part: &'a DayPart) -> Option<Target<'a>> {
    let (a, b) = (part.theme_a.as_str(), part.theme_b.as_str());
    match &filters.theme {
        None if a.is_empty() => Some(Target::Total),
        None if b.is_empty() => Some(Target::Theme(a)),
        None => None,
        Some(t) if a != t => None,
        Some(_) if b.is_empty() => Some(Target::Both(a)),
        Some(_) => Some(Target::Theme(b)),
    }
}

/// Every day of the series window in `tz`, at zero.
fn empty_daily(w: Window, tz: &Tz) -> BTreeMap<NaiveDate, DayPoint> {
    if w.to <= w.from {
        return BTreeMap::new();
    }
    let (first, last) = (local_day(tz, w.from), local_day(tz, w.to - 1));
    first
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
        .collect()
}

fn add_day(daily: &mut BTreeMap<NaiveDate, DayPoint>, day: &str, part: &DayPart) -> Result<()> {
    let day: NaiveDate = day
        .parse()
        .map_err(|e| corrupt(format!("day rollup of {day}: {e}")))?;
    if let Some(d) = daily.get_mut(&day) {
        d.posts += part.posts;
        d.engagements += part.reactions + part.replies;
        d.audience += part.audience;
    }
    Ok(())
}
