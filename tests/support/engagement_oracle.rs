//! Brute-force reference implementation ("oracle") of the communication figures of
//! `ENGAGEMENT.md`.
//!
//! Written from the text of ENGAGEMENT.md only, without looking at the implementation under test.
//! Literal rather than fast: for each post and each (user, emoji) it scans every event again.
//! Readings of ambiguous sentences are marked `// CHOICE:`.
//!
//! Only `std`, `serde_json` and `chrono` are used.

use chrono::DateTime;
use serde_json::{json, Map, Value};
use std::cmp::Ordering;

/// Parameters of one report. `Default` gives ENGAGEMENT.md's defaults (the window is left at 0:
/// set `from_ms`, `to_ms`, `now_ms`).
pub struct EngagementParams {
    /// Window `[from, to)`, evaluated at `now`; milliseconds since the Unix epoch (UTC).
    pub from_ms: i64,
    pub to_ms: i64,
    pub now_ms: i64,
    /// The engagement window of every guild not in `per_guild_window` (default 7 days).
    pub engagement_window_ms: i64,
    /// Guilds with their own engagement window: `(guild_id, window in ms)`.
    pub per_guild_window: Vec<(String, i64)>,
    /// `--guild`: only this guild's posts.
    pub guild_id: Option<String>,
    /// `--theme`: only the posts carrying this theme.
    pub theme: Option<String>,
}

impl Default for EngagementParams {
    fn default() -> Self {
        EngagementParams {
            from_ms: 0,
            to_ms: 0,
            now_ms: 0,
            engagement_window_ms: 7 * 24 * 60 * 60 * 1000,
            per_guild_window: Vec::new(),
            guild_id: None,
            theme: None,
        }
    }
}

impl EngagementParams {
    fn window_of(&self, guild: &str) -> i64 {
        self.per_guild_window
            .iter()
            .find(|(g, _)| g == guild)
            .map_or(self.engagement_window_ms, |(_, w)| *w)
    }
}

// ---------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------

/// One import line (any kind), with the fields this oracle needs.
struct Ev {
    kind: String,
    id: String,
    at: i64,
    guild: String,
    channel: String,
    author: String,
    post_id: String,
    emoji: String,
    themes: Vec<String>,
    audience: i64,
}

fn field(v: &Value, name: &str) -> String {
    v.get(name)
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

fn parse_event(v: &Value) -> Ev {
    let at = field(v, "at");
    // "Imported `themes` are taken exactly as given (case kept; a theme repeated in one post
    // counts once); an empty array means the single theme `untagged`."
    // CHOICE: a post's themes keep the order of their first occurrence in the array (this is
    // the order of `top_posts[].themes`).
    let mut themes: Vec<String> = Vec::new();
    for t in v
        .get("themes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let t = t.as_str().unwrap_or("").to_string();
        if !themes.contains(&t) {
            themes.push(t);
        }
    }
    if themes.is_empty() {
        themes.push("untagged".to_string());
    }
    Ev {
        kind: field(v, "kind"),
        id: field(v, "id"),
        at: DateTime::parse_from_rfc3339(&at)
            .unwrap_or_else(|e| panic!("engagement oracle: bad time {at:?}: {e}"))
            .timestamp_millis(),
        guild: field(v, "guild_id"),
        channel: field(v, "channel_id"),
        author: field(v, "author_id"),
        post_id: field(v, "post_id"),
        emoji: field(v, "emoji"),
        themes,
        audience: v.get("audience").and_then(Value::as_i64).unwrap_or(0),
    }
}

fn is_numeric_id(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// "Events are taken in order of time, then of id compared as numbers".
// CHOICE: ids made only of ASCII digits compare as non-negative integers of any size (leading
// zeros ignored, then the raw strings break a tie); other ids sort after them, byte-wise.
fn cmp_id(a: &str, b: &str) -> Ordering {
    match (is_numeric_id(a), is_numeric_id(b)) {
        (true, true) => {
            let ta = a.trim_start_matches('0');
            let tb = b.trim_start_matches('0');
            ta.len()
                .cmp(&tb.len())
                .then_with(|| ta.cmp(tb))
                .then_with(|| a.cmp(b))
        }
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a.cmp(b),
    }
}

fn format_ms(ms: i64) -> String {
    // CHOICE: times print as RFC 3339 UTC with exactly three fraction digits and `Z`, as in the
    // import format's example (`2026-11-20T09:15:02.125Z`).
    DateTime::from_timestamp_millis(ms)
        .expect("time in range")
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

// ---------------------------------------------------------------------------------------------
// One post
// ---------------------------------------------------------------------------------------------

struct PostFigures<'a> {
    post: &'a Ev,
    /// End of its engagement window (exclusive).
    window_end: i64,
    reactions: usize,
    replies: usize,
    /// Distinct users with a counted reaction or reply.
    users: Vec<String>,
}

impl PostFigures<'_> {
    fn engagements(&self) -> usize {
        self.reactions + self.replies
    }
}

/// Counts one post's reactions and replies. `evs` are the events visible at `now`, sorted.
fn post_figures<'a>(post: &'a Ev, evs: &[Ev], p: &EngagementParams) -> PostFigures<'a> {
    // "The engagement window of a post is [post.at, post.at + engagement_window)".
    let end = post.at + p.window_of(&post.guild);
    let inside = |t: i64| post.at <= t && t < end;
    let mut users: Vec<String> = Vec::new();

    // Every (user, emoji) that reacted on the post at all.
    // CHOICE: interactions are tied to a post by `post_id` alone; their own `guild_id` is not
    // compared with the post's.
    let mut pairs: Vec<(String, String)> = Vec::new();
    for e in evs {
        let is_reaction = e.kind == "reaction_add" || e.kind == "reaction_remove";
        if is_reaction && e.post_id == post.id {
            let pair = (e.author.clone(), e.emoji.clone());
            if !pairs.contains(&pair) {
                pairs.push(pair);
            }
        }
    }
    let mut reactions = 0;
    for (user, emoji) in pairs {
        // "Neither reactions nor replies by the post's own author count."
        if user == post.author {
            continue;
        }
        // This user's events with this emoji on this post, in order.
        // CHOICE: emojis are compared as exact strings.
        let mine: Vec<&Ev> = evs
            .iter()
            .filter(|e| e.post_id == post.id && e.author == user && e.emoji == emoji)
            .filter(|e| e.kind == "reaction_add" || e.kind == "reaction_remove")
            .collect();
        // "It counts when the user added it inside the window and had not removed it before the
        // window's end (or `now`, if earlier). One user's same emoji counts once however often
        // it was added and removed."
        // CHOICE: it counts when some add inside the window is followed (in event order) by no
        // removal before the window's end; so add, remove, add (all inside) counts once, and
        // add inside, remove inside, add after the window does not count. Events after `now`
        // are already gone; a removal at exactly `now` is an event at `now` and un-counts
        // (KPI's "an event at exactly `now` counts"). "A removal at exactly `post.at +
        // engagement_window` is outside the window and un-counts nothing."
        let counted = mine.iter().enumerate().any(|(k, add)| {
            add.kind == "reaction_add"
                && inside(add.at)
                && !mine[k + 1..]
                    .iter()
                    .any(|r| r.kind == "reaction_remove" && r.at < end)
        });
        if counted {
            reactions += 1;
            if !users.contains(&user) {
                users.push(user);
            }
        }
    }

    // "A reply is a message that replies to the post ... inside the window. Messages by bots do
    // not count."
    // CHOICE: every imported `reply` line counts as given (the import has no bot flag); each
    // reply counts, several replies by one user count several times.
    let mut replies = 0;
    for e in evs {
        if e.kind == "reply" && e.post_id == post.id && inside(e.at) && e.author != post.author {
            replies += 1;
            if !users.contains(&e.author) {
                users.push(e.author.clone());
            }
        }
    }
    PostFigures {
        post,
        window_end: end,
        reactions,
        replies,
        users,
    }
}

// ---------------------------------------------------------------------------------------------
// Figures over a set of posts
// ---------------------------------------------------------------------------------------------

fn rate(engagements: usize, audience: i64) -> Option<f64> {
    // "engagements / audience (null when the audience is 0)"; "Rates are not clamped".
    if audience == 0 {
        None
    } else {
        Some(engagements as f64 / audience as f64)
    }
}

/// The figures named in "Window figures" other than `themes`, `top_posts` and `previous`.
fn set_figures(posts: &[&PostFigures], now: i64) -> Map<String, Value> {
    let reactions: usize = posts.iter().map(|f| f.reactions).sum();
    let replies: usize = posts.iter().map(|f| f.replies).sum();
    let engagements = reactions + replies;
    let audience: i64 = posts.iter().map(|f| f.post.audience).sum();
    let mut unique: Vec<&String> = Vec::new();
    for f in posts {
        for u in &f.users {
            if !unique.contains(&u) {
                unique.push(u);
            }
        }
    }
    // "mean of the posts' engagement rates, over posts with an audience (null when none has)".
    let rates: Vec<f64> = posts
        .iter()
        .filter_map(|f| rate(f.engagements(), f.post.audience))
        .collect();
    let mean_rate = if rates.is_empty() {
        None
    } else {
        Some(rates.iter().sum::<f64>() / rates.len() as f64)
    };
    let mut m = Map::new();
    m.insert("posts".into(), json!(posts.len()));
    // "A post is maturing at `now` while its engagement window is not over (now < post.at +
    // engagement_window)".
    m.insert(
        "maturing".into(),
        json!(posts.iter().filter(|f| now < f.window_end).count()),
    );
    m.insert("reactions".into(), json!(reactions));
    m.insert("replies".into(), json!(replies));
    m.insert("engagements".into(), json!(engagements));
    m.insert(
        "engaged_users".into(),
        json!(posts.iter().map(|f| f.users.len()).sum::<usize>()),
    );
    m.insert("unique_engaged_users".into(), json!(unique.len()));
    m.insert("audience".into(), json!(audience));
    m.insert("engagement_rate".into(), json!(rate(engagements, audience)));
    m.insert("mean_post_engagement_rate".into(), json!(mean_rate));
    m
}

fn themes_json(posts: &[&PostFigures], now: i64) -> Value {
    // CHOICE: `themes` lists every theme of the (kept) posts, also with `--theme` (a kept post's
    // other themes are listed, over the kept posts only). Each entry is `{theme, ...}` with the
    // figures of `set_figures` over the posts carrying it (no nested `themes` or `top_posts`).
    let mut names: Vec<&String> = Vec::new();
    for f in posts {
        for t in &f.post.themes {
            if !names.contains(&t) {
                names.push(t);
            }
        }
    }
    let mut entries: Vec<(usize, &String, Map<String, Value>)> = names
        .into_iter()
        .map(|name| {
            let mine: Vec<&PostFigures> = posts
                .iter()
                .copied()
                .filter(|f| f.post.themes.contains(name))
                .collect();
            let engagements = mine.iter().map(|f| f.engagements()).sum();
            let mut m = Map::new();
            m.insert("theme".into(), json!(name));
            m.extend(set_figures(&mine, now));
            (engagements, name, m)
        })
        .collect();
    // "sorted by engagements, most first, then name by Unicode code point" (Rust compares
    // `String`s by UTF-8 bytes, which is code point order).
    entries.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    Value::Array(entries.into_iter().map(|e| Value::Object(e.2)).collect())
}

fn top_posts_json(posts: &[&PostFigures]) -> Value {
    let mut sorted: Vec<&PostFigures> = posts.to_vec();
    // "the posts with the most engagements (posts with none included), ties by earlier time,
    // then id".
    sorted.sort_by(|a, b| {
        b.engagements()
            .cmp(&a.engagements())
            .then_with(|| a.post.at.cmp(&b.post.at))
            .then_with(|| cmp_id(&a.post.id, &b.post.id))
    });
    let top: Vec<Value> = sorted
        .iter()
        .take(5)
        .map(|f| {
            json!({
                "id": f.post.id,
                "channel_id": f.post.channel,
                "at": format_ms(f.post.at),
                "themes": f.post.themes,
                "audience": f.post.audience,
                "reactions": f.reactions,
                "replies": f.replies,
                "engagements": f.engagements(),
                "engaged_users": f.users.len(),
                "engagement_rate": rate(f.engagements(), f.post.audience),
            })
        })
        .collect();
    Value::Array(top)
}

/// Every figure of one window `[from, to)`.
fn window_json(
    all: &[PostFigures],
    from: i64,
    to: i64,
    p: &EngagementParams,
) -> Map<String, Value> {
    // "A post belongs to the window [from, to) in which it was posted".
    let posts: Vec<&PostFigures> = all
        .iter()
        .filter(|f| from <= f.post.at && f.post.at < to)
        .collect();
    let mut m = set_figures(&posts, p.now_ms);
    m.insert("themes".into(), themes_json(&posts, p.now_ms));
    m.insert("top_posts".into(), top_posts_json(&posts));
    m
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

/// `lines`: the JSON-lines events of ENGAGEMENT.md's import format (kinds `post`,
/// `reaction_add`, `reaction_remove`, `reply`), already parsed, in any order, all valid, ids
/// unique. Returns the JSON report of `reactif engagement --format json`.
pub fn engagement_report(lines: &[Value], p: &EngagementParams) -> Value {
    // "An event at exactly `now` counts; one after `now` does not."
    let mut evs: Vec<Ev> = lines
        .iter()
        .map(parse_event)
        .filter(|e| e.at <= p.now_ms)
        .collect();
    evs.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| cmp_id(&a.id, &b.id)));

    // The posts this report can show: "`--theme T` keeps only the posts carrying T, in the
    // window and in `previous`; `--guild` applies to both too".
    // CHOICE: `--theme` matches a theme exactly (case kept), and `--theme untagged` keeps the
    // posts without themes.
    let all: Vec<PostFigures> = evs
        .iter()
        .filter(|e| e.kind == "post")
        .filter(|e| p.guild_id.as_ref().is_none_or(|g| *g == e.guild))
        .filter(|e| p.theme.as_ref().is_none_or(|t| e.themes.contains(t)))
        .map(|post| post_figures(post, &evs, p))
        .collect();

    let mut report = Map::new();
    report.insert(
        "window".into(),
        json!({
            "from": format_ms(p.from_ms),
            "to": format_ms(p.to_ms),
            "now": format_ms(p.now_ms),
        }),
    );
    report.extend(window_json(&all, p.from_ms, p.to_ms, p));
    // "for the window of the same length just before".
    // CHOICE: `previous` holds the window figures, `themes` and `top_posts` (not `window`),
    // evaluated at the same `now`.
    let len = p.to_ms - p.from_ms;
    report.insert(
        "previous".into(),
        Value::Object(window_json(&all, p.from_ms - len, p.from_ms, p)),
    );
    Value::Object(report)
}
