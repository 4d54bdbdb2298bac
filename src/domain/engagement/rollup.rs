//! The engagement rollups (docs/performance.md, "/engagement"): what a store keeps so that a
//! report reads sums instead of replaying millions of reactions, and stays exactly the replay.
//!
//! - per post, its figures with every stored event counted (`PostRollup`), and `last_at`, its
//!   latest interaction inside its window: at any `now >= last_at` the `now` cut removes
//!   nothing, so these are its figures at that `now` too;
//! - per local day of posting and per key (all posts, one theme, or two themes together, for
//!   `--theme`), the sums of the day's posts (`DayPart`), the day's top posts and the set of
//!   engaged people as indexes into a dense numbering of people (`people` codec below):
//!   `unique_engaged_users` is a distinct count, the one figure that does not add up;
//! - a report sums the days whose posts all lie in the window and whose figures are final at
//!   `now` for all its posts (or maturing for all), and takes the other posts one by one
//!   (`WindowBuilder`), replaying from their rows those whose events go past `now`.

use super::figures::{Figures, Post, PostFigures, RateSum, ThemeFigures, WindowFigures, TOP_POSTS};
use super::{EngagementEvent, EngagementKind};
use crate::domain::kpi::Window;
use crate::domain::{cmp_ids, Millis};
use std::collections::{HashMap, HashSet};

/// One post's figures with all its stored events (no `now` cut but its window).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostRollup {
    pub post: Post,
    pub window_end: Millis,
    pub reactions: u64,
    pub replies: u64,
    /// The post's time, or its latest reaction event or reply inside its window if later.
    pub last_at: Millis,
    /// The engaged people, as indexes, sorted.
    pub people: Vec<u32>,
}

impl PostRollup {
    pub fn engagements(&self) -> u64 {
        self.reactions + self.replies
    }
}

/// The latest of the post's time and of its interactions inside `[post.at, window_end)`: once
/// `now` reaches it, the post's figures at `now` are those with every event counted.
pub fn last_inside<'a>(
    post: &Post,
    window_end: Millis,
    interactions: impl IntoIterator<Item = &'a EngagementEvent>,
) -> Millis {
    interactions
        .into_iter()
        .filter(|e| e.kind.post_id() == Some(post.id.as_str()))
        .filter(|e| !matches!(e.kind, EngagementKind::Post { .. }))
        .map(|e| e.at)
        .filter(|&at| post.at <= at && at < window_end)
        .fold(post.at, Millis::max)
}

/// The keys a post is summed under: all posts `("", "")`, each theme `(t, "")`, and each
/// ordered pair of its themes `(t, u)` (the figures of theme `u` in a report kept to `t`).
pub fn rollup_keys(themes: &[String]) -> Vec<(String, String)> {
    let mut keys = vec![(String::new(), String::new())];
    for t in themes {
        keys.push((t.clone(), String::new()));
        for u in themes.iter().filter(|u| *u != t) {
            keys.push((t.clone(), u.clone()));
        }
    }
    keys
}

/// A candidate for `top_posts`: the order is the report's (most engagements, then earlier,
/// then id as a number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopEntry {
    pub engagements: u64,
    pub at: Millis,
    pub id: String,
}

fn top_order(a: &TopEntry, b: &TopEntry) -> std::cmp::Ordering {
    b.engagements
        .cmp(&a.engagements)
        .then(a.at.cmp(&b.at))
        .then_with(|| cmp_ids(&a.id, &b.id))
}

/// `[[engagements, at, "id"], …]`, as stored.
pub fn encode_top(top: &[TopEntry]) -> String {
    serde_json::Value::from(
        top.iter()
            .map(|t| serde_json::json!([t.engagements, t.at, t.id]))
            .collect::<Vec<_>>(),
    )
    .to_string()
}

pub fn decode_top(text: &str) -> Result<Vec<TopEntry>, String> {
    let rows: Vec<(u64, Millis, String)> =
        serde_json::from_str(text).map_err(|e| format!("top posts {text}: {e}"))?;
    Ok(rows
        .into_iter()
        .map(|(engagements, at, id)| TopEntry {
            engagements,
            at,
            id,
        })
        .collect())
}

/// The sums of one day's posts under one key.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DayPart {
    pub theme_a: String,
    pub theme_b: String,
    pub posts: u64,
    pub reactions: u64,
    pub replies: u64,
    pub engaged_users: u64,
    pub audience: u64,
    pub rate: RateSum,
    /// The day's `TOP_POSTS` best posts under this key: the window's are among its days'.
    pub top: Vec<TopEntry>,
    /// The people engaged with at least one of these posts, sorted indexes.
    pub people: Vec<u32>,
}

/// What a day's parts say of the day's posts as a whole (the same for every key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DaySpan {
    pub first_post: Millis,
    pub last_post: Millis,
    pub last_at: Millis,
}

/// The parts of one day from its posts' rollups; `None` when the day has no post.
pub fn day_parts(posts: &[PostRollup]) -> Option<(DaySpan, Vec<DayPart>)> {
    let span = DaySpan {
        first_post: posts.iter().map(|p| p.post.at).min()?,
        last_post: posts.iter().map(|p| p.post.at).max()?,
        last_at: posts.iter().map(|p| p.last_at).max()?,
    };
    let mut parts: HashMap<(String, String), (DayPart, HashSet<u32>)> = HashMap::new();
    for p in posts {
        for key in rollup_keys(&p.post.themes) {
            let (part, people) = parts.entry(key).or_default();
            part.posts += 1;
            part.reactions += p.reactions;
            part.replies += p.replies;
            part.engaged_users += p.people.len() as u64;
            part.audience += p.post.audience;
            part.rate.add(RateSum::of(p.engagements(), p.post.audience));
            part.top.push(TopEntry {
                engagements: p.engagements(),
                at: p.post.at,
                id: p.post.id.clone(),
            });
            part.top.sort_by(top_order);
            part.top.truncate(TOP_POSTS);
            people.extend(p.people.iter().copied());
        }
    }
    let mut out: Vec<DayPart> = parts
        .into_iter()
        .map(|((a, b), (mut part, people))| {
            part.theme_a = a;
            part.theme_b = b;
            part.people = people.into_iter().collect();
            part.people.sort_unstable();
            part
        })
        .collect();
    out.sort_by(|x, y| (&x.theme_a, &x.theme_b).cmp(&(&y.theme_a, &y.theme_b)));
    Some((span, out))
}

/// The parts of a block of days from its days' parts (each with its day's span and its people
/// as stored): the same sums as `day_parts` over all the block's posts. `None` without a day.
pub fn merge_parts<'a>(
    days: impl IntoIterator<Item = (DaySpan, &'a DayPart, &'a [u8])>,
) -> Result<Option<(DaySpan, Vec<DayPart>)>, String> {
    let mut span: Option<DaySpan> = None;
    let mut parts: HashMap<(String, String), (DayPart, People)> = HashMap::new();
    for (s, part, people) in days {
        span = Some(match span {
            None => s,
            Some(b) => DaySpan {
                first_post: b.first_post.min(s.first_post),
                last_post: b.last_post.max(s.last_post),
                last_at: b.last_at.max(s.last_at),
            },
        });
        let key = (part.theme_a.clone(), part.theme_b.clone());
        let (sum, set) = parts.entry(key).or_default();
        sum.posts += part.posts;
        sum.reactions += part.reactions;
        sum.replies += part.replies;
        sum.engaged_users += part.engaged_users;
        sum.audience += part.audience;
        sum.rate.add(part.rate);
        sum.top.extend(part.top.iter().cloned());
        sum.top.sort_by(top_order);
        sum.top.truncate(TOP_POSTS);
        set.add_encoded(people)?;
    }
    let Some(span) = span else { return Ok(None) };
    let mut out: Vec<DayPart> = parts
        .into_iter()
        .map(|((a, b), (mut part, set))| {
            part.theme_a = a;
            part.theme_b = b;
            part.people = set.sorted();
            part
        })
        .collect();
    out.sort_by(|x, y| (&x.theme_a, &x.theme_b).cmp(&(&y.theme_a, &y.theme_b)));
    Ok(Some((span, out)))
}

/// A set of people indexes as stored: a sorted list of little-endian `u32`s after a `0` byte,
/// or a bitmap after a `1` byte, whichever is smaller (a busy day's people are dense).
pub fn encode_people(sorted: &[u32]) -> Vec<u8> {
    let max = sorted.last().copied().unwrap_or(0) as usize;
    let bitmap_len = max / 8 + 1;
    if sorted.is_empty() || sorted.len() * 4 <= bitmap_len {
        let mut out = Vec::with_capacity(1 + sorted.len() * 4);
        out.push(0);
        for i in sorted {
            out.extend_from_slice(&i.to_le_bytes());
        }
        return out;
    }
    let mut out = vec![0u8; 1 + bitmap_len];
    out[0] = 1;
    for &i in sorted {
        out[1 + i as usize / 8] |= 1 << (i % 8);
    }
    out
}

/// A set of people indexes, to count distinct people over many days and posts.
#[derive(Debug, Clone, Default)]
pub struct People {
    words: Vec<u64>,
}

impl People {
    pub fn insert(&mut self, i: u32) {
        let w = i as usize / 64;
        if self.words.len() <= w {
            self.words.resize(w + 1, 0);
        }
        self.words[w] |= 1 << (i % 64);
    }

    /// Adds a stored set (`encode_people`).
    pub fn add_encoded(&mut self, bytes: &[u8]) -> Result<(), String> {
        match bytes.split_first() {
            None => Ok(()),
            Some((0, list)) if list.len() % 4 == 0 => {
                for c in list.chunks_exact(4) {
                    self.insert(u32::from_le_bytes([c[0], c[1], c[2], c[3]]));
                }
                Ok(())
            }
            Some((1, map)) => {
                let words = map.len().div_ceil(8);
                if self.words.len() < words {
                    self.words.resize(words, 0);
                }
                for (w, c) in map.chunks(8).enumerate() {
                    let mut b = [0u8; 8];
                    b[..c.len()].copy_from_slice(c);
                    self.words[w] |= u64::from_le_bytes(b);
                }
                Ok(())
            }
            Some((tag, _)) => Err(format!(
                "a set of people with tag {tag} and {} bytes",
                bytes.len()
            )),
        }
    }

    pub fn len(&self) -> u64 {
        self.words.iter().map(|w| w.count_ones() as u64).sum()
    }

    /// The indexes, in order.
    pub fn sorted(&self) -> Vec<u32> {
        let mut out = Vec::new();
        for (w, word) in self.words.iter().enumerate() {
            let mut word = *word;
            while word != 0 {
                out.push(w as u32 * 64 + word.trailing_zeros());
                word &= word - 1;
            }
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The sorted indexes of a stored set.
pub fn decode_people(bytes: &[u8]) -> Result<Vec<u32>, String> {
    let mut p = People::default();
    p.add_encoded(bytes)?;
    Ok(p.sorted())
}

/// Figures of a set of posts being summed, with their engaged people: indexes, and the ids of
/// people not numbered yet (found only in rows replayed for the report, never in a rollup).
#[derive(Default)]
struct Sum {
    figures: Figures,
    people: People,
    unnumbered: HashSet<String>,
}

impl Sum {
    fn finish(mut self) -> Figures {
        self.figures.unique_engaged_users = self.people.len() + self.unnumbered.len() as u64;
        self.figures
    }
}

/// One post taken on its own by a report: from its rollup, or replayed at `now`.
pub struct LoosePost<'a> {
    pub post: &'a Post,
    pub window_end: Millis,
    pub reactions: u64,
    pub replies: u64,
    pub engaged_users: u64,
    /// Its engaged people that have an index, and those that have none.
    pub people: &'a [u32],
    pub unnumbered: &'a [String],
}

/// A window's figures, summed from day parts and loose posts.
pub struct WindowBuilder {
    window: Window,
    total: Sum,
    themes: HashMap<String, Sum>,
    top: Vec<TopEntry>,
}

/// Which figures a day part adds to: the window's, a theme's, or both (the `--theme` one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    Total,
    Theme(&'a str),
    Both(&'a str),
}

impl WindowBuilder {
    pub fn new(window: Window) -> WindowBuilder {
        WindowBuilder {
            window,
            total: Sum::default(),
            themes: HashMap::new(),
            top: Vec::new(),
        }
    }

    fn sums<'s>(&'s mut self, target: Target) -> Vec<&'s mut Sum> {
        let WindowBuilder { total, themes, .. } = self;
        match target {
            Target::Total => vec![total],
            Target::Theme(t) => vec![themes.entry(t.to_string()).or_default()],
            Target::Both(t) => vec![total, themes.entry(t.to_string()).or_default()],
        }
    }

    /// A day part whose posts all lie in the window; `maturing` of them are still maturing.
    pub fn add_part(
        &mut self,
        target: Target,
        part: &DayPart,
        people: &[u8],
        maturing: u64,
    ) -> Result<(), String> {
        if matches!(target, Target::Total | Target::Both(_)) {
            self.top.extend(part.top.iter().cloned());
        }
        for s in self.sums(target) {
            let f = &mut s.figures;
            f.posts += part.posts;
            f.maturing += maturing;
            f.reactions += part.reactions;
            f.replies += part.replies;
            f.engaged_users += part.engaged_users;
            f.audience += part.audience;
            f.rate_sum.add(part.rate);
            s.people.add_encoded(people)?;
        }
        Ok(())
    }

    /// One more maturing post among those of a part already added (`add_part` with fewer
    /// `maturing`): a post of the window kept by the filters, under each of its themes, as
    /// `add_post` counts it.
    pub fn add_maturing(&mut self, post: &Post) {
        let mut targets = vec![Target::Total];
        targets.extend(post.themes.iter().map(|t| Target::Theme(t)));
        for target in targets {
            for s in self.sums(target) {
                s.figures.maturing += 1;
            }
        }
    }

    /// A post of the window, kept by the filters, counted under each of its themes.
    pub fn add_post(&mut self, p: &LoosePost) {
        let now = self.window.now;
        let engagements = p.reactions + p.replies;
        self.top.push(TopEntry {
            engagements,
            at: p.post.at,
            id: p.post.id.clone(),
        });
        let mut targets = vec![Target::Total];
        targets.extend(p.post.themes.iter().map(|t| Target::Theme(t)));
        for target in targets {
            for s in self.sums(target) {
                let f = &mut s.figures;
                f.posts += 1;
                f.maturing += (now < p.window_end) as u64;
                f.reactions += p.reactions;
                f.replies += p.replies;
                f.engaged_users += p.engaged_users;
                f.audience += p.post.audience;
                f.rate_sum.add(RateSum::of(engagements, p.post.audience));
                for &i in p.people {
                    s.people.insert(i);
                }
                s.unnumbered.extend(p.unnumbered.iter().cloned());
            }
        }
    }

    /// The window's figures with `top_posts` left empty, and the ids of its top posts in order,
    /// for the caller to fetch.
    pub fn finish(mut self) -> (WindowFigures, Vec<String>) {
        self.top.sort_by(top_order);
        self.top.dedup_by(|a, b| a.id == b.id);
        let top = self.top.into_iter().take(TOP_POSTS).map(|t| t.id).collect();
        let mut themes: Vec<ThemeFigures> = self
            .themes
            .into_iter()
            .map(|(theme, sum)| ThemeFigures {
                theme,
                figures: sum.finish(),
            })
            .collect();
        themes.sort_by(|a, b| {
            b.figures
                .engagements()
                .cmp(&a.figures.engagements())
                .then_with(|| a.theme.cmp(&b.theme))
        });
        let figures = WindowFigures {
            window: self.window,
            figures: self.total.finish(),
            themes,
            top_posts: Vec::new(),
        };
        (figures, top)
    }
}

/// A top post's figures from its rollup, its people's ids given in any order.
pub fn top_post(r: &PostRollup, mut engaged: Vec<String>) -> PostFigures {
    engaged.sort_unstable_by(|a, b| cmp_ids(a, b));
    engaged.dedup();
    PostFigures {
        post: r.post.clone(),
        window_end: r.window_end,
        reactions: r.reactions,
        replies: r.replies,
        engaged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_round_trip_as_a_list_or_a_bitmap() {
        for set in [
            vec![],
            vec![7],
            vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
            vec![3, 70_000],
        ] {
            let bytes = encode_people(&set);
            assert_eq!(decode_people(&bytes).unwrap(), set);
            let mut p = People::default();
            p.add_encoded(&bytes).unwrap();
            assert_eq!(p.len(), set.len() as u64);
        }
        assert_eq!(encode_people(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10])[0], 1);
        assert_eq!(encode_people(&[3, 70_000])[0], 0);
        assert!(People::default().add_encoded(&[2, 0]).is_err());
    }

    fn rollup(id: &str, at: Millis, themes: &[&str], reactions: u64, people: &[u32]) -> PostRollup {
        PostRollup {
            post: Post {
                id: id.into(),
                guild_id: "1".into(),
                channel_id: "2".into(),
                author_id: "3".into(),
                at,
                themes: themes.iter().map(|t| t.to_string()).collect(),
                audience: 10,
            },
            window_end: at + 100,
            reactions,
            replies: 0,
            last_at: at + 5,
            people: people.to_vec(),
        }
    }

    #[test]
    fn a_block_merged_from_its_days_is_the_block_summed_from_its_posts() {
        let posts = [
            rollup("11", 10, &["a"], 3, &[1, 2, 3]),
            rollup("12", 20, &["a", "b"], 1, &[3, 9]),
            rollup("13", 1_000, &["b"], 7, &[2, 70_000]),
            rollup("14", 1_010, &[], 0, &[]),
            rollup("15", 2_000, &["a"], 3, &[5]),
        ];
        let days: Vec<(DaySpan, Vec<DayPart>)> = [&posts[..2], &posts[2..4], &posts[4..]]
            .iter()
            .map(|d| day_parts(d).unwrap())
            .collect();
        let stored: Vec<(DaySpan, DayPart, Vec<u8>)> = days
            .iter()
            .flat_map(|(span, parts)| {
                parts
                    .iter()
                    .map(|p| (*span, p.clone(), encode_people(&p.people)))
            })
            .collect();
        let merged = merge_parts(stored.iter().map(|(s, p, b)| (*s, p, b.as_slice())))
            .unwrap()
            .unwrap();
        assert_eq!(merged, day_parts(&posts).unwrap());
        assert_eq!(merged.0.first_post, 10);
        assert_eq!(merged.0.last_at, 2_005);
        assert_eq!(merge_parts(std::iter::empty()).unwrap(), None);
    }

    #[test]
    fn a_post_is_summed_under_all_posts_each_theme_and_each_pair() {
        let keys = rollup_keys(&["a".into(), "b".into()]);
        let k = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(
            keys,
            vec![k("", ""), k("a", ""), k("a", "b"), k("b", ""), k("b", "a")]
        );
    }
}
