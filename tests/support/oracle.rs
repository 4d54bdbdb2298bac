//! Brute-force reference implementation ("oracle") of the KPI contract in `KPI.md`.
//!
//! Written from the text of KPI.md only, without looking at the implementation under test.
//! It favours literal, obviously-correct code over efficiency: it re-scans the whole event list
//! whenever it needs something. Readings of ambiguous sentences are marked `// CHOICE:`; the
//! lead's decisions on the SLA section are marked `// CHOICE (lead):`.
//!
//! Only `std`, `serde_json`, `chrono` and `chrono-tz` are used.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Timelike};
use chrono_tz::Tz;
use serde_json::{json, Value};
use std::cmp::Ordering;

/// The SLA and calendar settings of one guild (KPI.md, "Service levels (SLA) and resolution").
#[derive(Clone, Debug, PartialEq)]
pub struct GuildSla {
    /// Target for the first request of a conversation; `None` = off.
    pub first_response_ms: Option<i64>,
    /// Target for every other request; `None` = off.
    pub next_response_ms: Option<i64>,
    /// Target for a conversation's resolution; `None` = off.
    pub resolution_ms: Option<i64>,
    /// `sla_clock = business`: SLA times are the business-hours part of each interval.
    pub sla_business: bool,
    /// Auto-close delay; `None` = off. Must be shorter than `idle`.
    pub auto_close_ms: Option<i64>,
    /// IANA time zone of the business hours and of the heatmap (default `UTC`).
    pub timezone: String,
    /// Weekly local business hours: `(weekday 0 = Monday, start minute, end minute)`, the end
    /// exclusive and at most 1440 (24:00). `None` = no business hours set (business time is
    /// calendar time).
    pub business_hours: Option<Vec<(u32, u32, u32)>>,
}

impl Default for GuildSla {
    fn default() -> Self {
        GuildSla {
            first_response_ms: None,
            next_response_ms: None,
            resolution_ms: None,
            sla_business: false,
            auto_close_ms: None,
            timezone: "UTC".to_string(),
            business_hours: None,
        }
    }
}

/// Parameters of one report. `Default` gives KPI.md's defaults (the window is left at 0: set
/// `from_ms`, `to_ms`, `now_ms`).
pub struct OracleParams {
    /// Window `[from, to)`, evaluated at `now`; milliseconds since the Unix epoch (UTC).
    pub from_ms: i64,
    pub to_ms: i64,
    pub now_ms: i64,
    /// Conversation idle timeout (default 24 h).
    pub idle_ms: i64,
    /// Answer deadline (default 24 h).
    pub deadline_ms: i64,
    /// Survey closes this long after it was sent, inclusive (default 24 h).
    pub survey_close_ms: i64,
    /// Badge: awarded when response rate >= num/den (default `(9, 10)`).
    pub badge_min_rate: (i64, i64),
    /// Badge: awarded when mean response delay < this (default 300_000 ms).
    pub badge_max_delay_ms: i64,
    /// `--guild`: only this guild's events (default: every guild).
    pub guild_id: Option<String>,
    /// The SLA settings of every guild not listed in `per_guild` (see [`GuildSla`]).
    pub first_response_ms: Option<i64>,
    pub next_response_ms: Option<i64>,
    pub resolution_ms: Option<i64>,
    pub sla_business: bool,
    pub auto_close_ms: Option<i64>,
    pub timezone: String,
    pub business_hours: Option<Vec<(u32, u32, u32)>>,
    /// Guilds with their own SLA settings: `(guild_id, settings)`.
    pub per_guild: Vec<(String, GuildSla)>,
}

impl Default for OracleParams {
    fn default() -> Self {
        let d = GuildSla::default();
        OracleParams {
            from_ms: 0,
            to_ms: 0,
            now_ms: 0,
            idle_ms: DAY_MS,
            deadline_ms: DAY_MS,
            survey_close_ms: DAY_MS,
            badge_min_rate: (9, 10),
            badge_max_delay_ms: 5 * 60 * 1000,
            guild_id: None,
            first_response_ms: d.first_response_ms,
            next_response_ms: d.next_response_ms,
            resolution_ms: d.resolution_ms,
            sla_business: d.sla_business,
            auto_close_ms: d.auto_close_ms,
            timezone: d.timezone,
            business_hours: d.business_hours,
            per_guild: Vec::new(),
        }
    }
}

impl OracleParams {
    /// The SLA settings of `guild`.
    fn sla(&self, guild: &str) -> GuildSla {
        let s = match self.per_guild.iter().find(|(g, _)| g == guild) {
            Some((_, s)) => s.clone(),
            None => GuildSla {
                first_response_ms: self.first_response_ms,
                next_response_ms: self.next_response_ms,
                resolution_ms: self.resolution_ms,
                sla_business: self.sla_business,
                auto_close_ms: self.auto_close_ms,
                timezone: self.timezone.clone(),
                business_hours: self.business_hours.clone(),
            },
        };
        if let Some(ac) = s.auto_close_ms {
            assert!(
                0 < ac && ac < self.idle_ms,
                "oracle: auto_close must be shorter than idle"
            );
        }
        s
    }
}

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
const SEVEN_DAYS_MS: i64 = 7 * DAY_MS;

// ---------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------

/// One import line, with the fields this oracle needs.
struct Ev {
    kind: String,
    id: String,
    /// Conversations are keyed by `(guild_id, conversation)`.
    key: (String, String),
    author: String,
    at: i64,
    survey_id: String,
    rating: i64,
    answer_message_id: String,
}

fn field(v: &Value, name: &str) -> String {
    v.get(name)
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

fn parse_time_ms(s: &str) -> i64 {
    DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("oracle: bad time {s:?}: {e}"))
        .timestamp_millis()
}

fn parse_event(v: &Value) -> Ev {
    Ev {
        kind: field(v, "kind"),
        id: field(v, "id"),
        key: (field(v, "guild_id"), field(v, "conversation")),
        author: field(v, "author_id"),
        at: parse_time_ms(&field(v, "at")),
        survey_id: field(v, "survey_id"),
        rating: v.get("rating").and_then(Value::as_i64).unwrap_or(0),
        answer_message_id: field(v, "answer_message_id"),
    }
}

fn is_numeric_id(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// "at equal times, in order of id (Discord snowflakes, compared as numbers)".
// CHOICE: ids made only of ASCII digits are compared as (arbitrary-size) non-negative integers
// (leading zeros ignored; if the values are equal, the raw strings break the tie). Non-numeric
// ids sort after every numeric id and compare among themselves as byte strings.
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

/// "Events are taken in order of time; at equal times, in order of id".
fn cmp_events(a: &Ev, b: &Ev) -> Ordering {
    a.at.cmp(&b.at).then_with(|| cmp_id(&a.id, &b.id))
}

// ---------------------------------------------------------------------------------------------
// The SLA clock: business time
// ---------------------------------------------------------------------------------------------

fn parse_tz(name: &str) -> Tz {
    name.parse::<Tz>()
        .unwrap_or_else(|e| panic!("oracle: bad time zone {name:?}: {e}"))
}

fn local_date(tz: Tz, ms: i64) -> NaiveDate {
    tz.timestamp_millis_opt(ms).unwrap().date_naive()
}

/// The UTC instant of local `date` + `minute` minutes (minute 1440 = the next day's 00:00),
/// with KPI.md's DST rule: "a local time that does not exist (spring gap) is the instant the gap
/// ends; an ambiguous one (autumn) is its earlier instant".
fn local_minute_to_utc(tz: Tz, date: NaiveDate, minute: u32) -> i64 {
    let local = date.and_hms_opt(0, 0, 0).unwrap() + Duration::minutes(i64::from(minute));
    if let Some(t) = tz.from_local_datetime(&local).earliest() {
        return t.timestamp_millis();
    }
    // In a gap: the first local minute after it that exists is where the gap ends (time-zone
    // transitions fall on whole minutes), and that local minute is the transition instant.
    let mut later = local;
    loop {
        later += Duration::minutes(1);
        if let Some(t) = tz.from_local_datetime(&later).earliest() {
            return t.timestamp_millis();
        }
    }
}

/// The business-hours part of `[a, b)`, in milliseconds. Without business hours, `b - a`
/// ("equal to the calendar delay where no business hours are set").
///
/// Walks every local day that can touch the interval, turns each of that day's business
/// intervals into a UTC interval, and measures the union of their intersections with `[a, b)`.
// CHOICE: overlapping business-hours entries count once (their union), and an entry whose end is
// not after its start is empty.
pub fn business_ms(timezone: &str, hours: &Option<Vec<(u32, u32, u32)>>, a: i64, b: i64) -> i64 {
    let Some(hours) = hours else {
        return b - a;
    };
    if b <= a {
        return 0;
    }
    let tz = parse_tz(timezone);
    let mut spans: Vec<(i64, i64)> = Vec::new();
    let mut day = local_date(tz, a) - Duration::days(1);
    let last = local_date(tz, b) + Duration::days(1);
    while day <= last {
        let weekday = day.weekday().num_days_from_monday();
        for &(w, start, end) in hours {
            assert!(w < 7 && start <= 1440 && end <= 1440, "oracle: bad hours");
            if w != weekday || start >= end {
                continue;
            }
            let lo = local_minute_to_utc(tz, day, start).max(a);
            let hi = local_minute_to_utc(tz, day, end).min(b);
            if lo < hi {
                spans.push((lo, hi));
            }
        }
        day += Duration::days(1);
    }
    spans.sort_unstable();
    let mut total = 0;
    let mut covered_to = i64::MIN;
    for (lo, hi) in spans {
        let lo = lo.max(covered_to);
        if lo < hi {
            total += hi - lo;
            covered_to = hi;
        }
    }
    total
}

/// The SLA-clock time of `[a, b)` in a guild: calendar, or business time when `sla_clock` is
/// `business`.
fn sla_ms(s: &GuildSla, a: i64, b: i64) -> i64 {
    if s.sla_business {
        business_ms(&s.timezone, &s.business_hours, a, b)
    } else {
        b - a
    }
}

// ---------------------------------------------------------------------------------------------
// Conversations, requests, answers
// ---------------------------------------------------------------------------------------------

/// How a conversation stands at `now`.
#[derive(Clone, Copy, PartialEq, Debug)]
enum End {
    /// Ended by a close (an agent's, the customer's, or the bot's auto-close) at this time.
    Closed(i64),
    /// Ended by idleness.
    Lapsed,
    /// Not ended at `now`.
    Open,
}

struct Conversation {
    guild: String,
    opened_at: i64,
    /// Author of the customer message that opened it.
    customer: String,
    /// Index (into `requests`) of its first request.
    first_request: usize,
    end: End,
}

struct Request {
    guild: String,
    start: i64,
    /// The first request of its conversation (`first_response` SLA), else `next_response`.
    first: bool,
    /// (time of the answer, author of the answer) — the first agent message after the start, in
    /// the same conversation. May be after the deadline (it still ends the request).
    answer: Option<(i64, String)>,
}

struct History {
    conversations: Vec<Conversation>,
    requests: Vec<Request>,
    /// For each event (by index): the conversation an agent message was part of, if any.
    agent_msg_conversation: Vec<Option<usize>>,
    /// For each event (by index): true when it is an agent message that answered (ended) a request.
    is_answer: Vec<bool>,
}

fn build_history(evs: &[Ev], p: &OracleParams) -> History {
    let mut h = History {
        conversations: Vec::new(),
        requests: Vec::new(),
        agent_msg_conversation: vec![None; evs.len()],
        is_answer: vec![false; evs.len()],
    };

    // Every distinct conversation key, in order of first appearance.
    let mut keys: Vec<&(String, String)> = Vec::new();
    for e in evs {
        if !keys.contains(&&e.key) {
            keys.push(&e.key);
        }
    }
    for key in keys {
        walk_place(evs, key, p, &mut h);
    }
    h
}

/// The state of one place while its events are walked in order.
struct Place {
    /// The open conversation.
    open: Option<usize>,
    /// Its request waiting for an answer.
    waiting: Option<usize>,
    /// Its last customer or agent message: time, and whether an agent wrote it.
    last_msg_at: i64,
    last_by_agent: bool,
}

impl Place {
    /// When the bot auto-closes the open conversation if no customer message comes first:
    /// "when the conversation's last customer or agent message is an agent's and `auto_close`
    /// passes without a customer message, the bot closes it at `last agent message +
    /// auto_close`".
    fn auto_close_at(&self, s: &GuildSla) -> Option<i64> {
        match (self.open, s.auto_close_ms) {
            (Some(_), Some(ac)) if self.last_by_agent => Some(self.last_msg_at + ac),
            _ => None,
        }
    }

    fn end(&mut self, h: &mut History, how: End) {
        if let Some(c) = self.open.take() {
            h.conversations[c].end = how;
        }
        // CHOICE: a request still waiting when its conversation ends stays unanswered (pending
        // until its deadline, then unanswered; on the SLA clock it runs on to `now`).
        self.waiting = None;
    }
}

/// Walks the events of one place (`key`) in order and records its conversations and requests.
fn walk_place(evs: &[Ev], key: &(String, String), p: &OracleParams, h: &mut History) {
    let s = p.sla(&key.0);
    let mut st = Place {
        open: None,
        waiting: None,
        last_msg_at: 0,
        last_by_agent: false,
    };
    for (i, e) in evs.iter().enumerate() {
        if e.key != *key {
            continue;
        }
        // CHOICE (lead): an auto-close is derived from the rules; the history need not hold the
        // bot's close event.
        // "a customer message at or before the close instant cancels it": the close happens
        // before an event only when that event is strictly later than the close instant.
        if let Some(t) = st.auto_close_at(&s) {
            if t < e.at {
                st.end(h, End::Closed(t));
            }
        }
        match e.kind.as_str() {
            "customer_message" | "agent_message" => {
                // "It ends ... when a customer or agent message comes `idle` or more after
                // the conversation's last customer or agent message".
                // CHOICE: notes, bot messages, surveys and ratings are not customer/agent
                // messages: they neither end a conversation by idleness nor reset its idle
                // clock. Only customer and agent messages that are part of the open
                // conversation set "last customer or agent message".
                if st.open.is_some() && e.at - st.last_msg_at >= p.idle_ms {
                    st.end(h, End::Lapsed);
                }
                if e.kind == "customer_message" {
                    customer_message(e, &mut st, h);
                } else if let Some(c) = st.open {
                    // CHOICE: an agent message at exactly the auto-close instant is still part
                    // of the conversation (like a customer message "at or before the close
                    // instant"): it answers what waits and restarts the auto-close delay.
                    h.agent_msg_conversation[i] = Some(c);
                    // "A request is answered by the first agent message after its start."
                    if let Some(r) = st.waiting.take() {
                        h.requests[r].answer = Some((e.at, e.author.clone()));
                        h.is_answer[i] = true;
                    }
                    st.last_msg_at = e.at;
                    st.last_by_agent = true;
                }
                // CHOICE: an agent message with no open conversation (outreach, or after a
                // close / idle end / auto-close) answers nothing, opens nothing, and does not
                // start any idle or auto-close clock (it is not part of a conversation).
            }
            "close" => {
                if st.open.is_none() {
                    // CHOICE: a close with no open conversation does nothing.
                } else if e.at - st.last_msg_at >= p.idle_ms {
                    // "A conversation has lapsed once idle has passed since its last customer or
                    // agent message without one; a close after that resolves nothing."
                    // CHOICE: a close at exactly `last message + idle` comes after the lapse.
                    st.end(h, End::Lapsed);
                } else if st.auto_close_at(&s) == Some(e.at) {
                    // CHOICE (lead): the bot's close event at exactly `last agent message +
                    // auto_close` changes nothing: the derived auto-close decides.
                    // CHOICE: as the author of a close does not say whether the bot sent it,
                    // any close at that instant is taken as that auto-close, so a customer (or
                    // agent) message at the same instant ordered after it still cancels it.
                } else {
                    // CHOICE: any `close` event ends the open conversation of its place,
                    // whoever sent it.
                    st.end(h, End::Closed(e.at));
                }
            }
            // "Never counted": note, bot_message. survey_sent / rating are handled elsewhere.
            _ => {}
        }
    }
    // How the last conversation stands at `now`.
    match st.auto_close_at(&s) {
        // CHOICE: an auto-close at exactly `now` has happened (an event at `now` is visible).
        Some(t) if t <= p.now_ms => st.end(h, End::Closed(t)),
        // CHOICE: "lapsed once idle has passed": at `now = last message + idle` it has lapsed
        // (a message at that instant would open a new conversation).
        _ if st.open.is_some() && p.now_ms - st.last_msg_at >= p.idle_ms => st.end(h, End::Lapsed),
        _ => {}
    }
}

fn customer_message(e: &Ev, st: &mut Place, h: &mut History) {
    // "a customer message then opens a new conversation".
    // CHOICE: every `customer_message` in a place belongs to the conversation open there,
    // whoever wrote it; the conversation's customer is the author of the message that opened it.
    let opened_now = st.open.is_none();
    if opened_now {
        h.conversations.push(Conversation {
            guild: e.key.0.clone(),
            opened_at: e.at,
            customer: e.author.clone(),
            first_request: h.requests.len(),
            end: End::Open,
        });
        st.open = Some(h.conversations.len() - 1);
    }
    // "A request starts at a customer message when the conversation has no request waiting";
    // further customer messages join it.
    if st.waiting.is_none() {
        h.requests.push(Request {
            guild: e.key.0.clone(),
            start: e.at,
            first: opened_now,
            answer: None,
        });
        st.waiting = Some(h.requests.len() - 1);
    }
    st.last_msg_at = e.at;
    st.last_by_agent = false;
}

// ---------------------------------------------------------------------------------------------
// Surveys
// ---------------------------------------------------------------------------------------------

struct Survey {
    sent_at: i64,
    /// Author of the answer message the survey follows.
    agent: Option<String>,
    /// Withdrawn by a new answer before the customer rated: no longer counts as sent.
    withdrawn: bool,
    /// Last valid click.
    rating: Option<i64>,
}

fn build_surveys(evs: &[Ev], h: &History, p: &OracleParams) -> Vec<Survey> {
    let mut out = Vec::new();
    for (si, s) in evs.iter().enumerate() {
        if s.kind != "survey_sent" {
            continue;
        }
        // CHOICE: every visible `survey_sent` event is a survey as given; the oracle does not
        // re-derive whether the bot should have sent it (survey_delay, answered within deadline).
        // Its withdrawal and rating are judged from the events visible at `now` only.
        // The answer message the survey follows.
        let answer_idx = evs
            .iter()
            .position(|e| e.kind == "agent_message" && e.id == s.answer_message_id);
        // "the survey is credited to its author".
        // CHOICE: if the answer message is not among the (visible) events, the survey still counts
        // in the totals but is credited to no agent and nobody can rate it.
        let agent = answer_idx.map(|a| evs[a].author.clone());
        // "belongs to its conversation's customer" / "the customer of the answered request's
        // conversation".
        // CHOICE: the customer is the author of the customer message that opened the conversation
        // the answer message was part of; if the answer message was part of no conversation
        // (outreach, after a close/idle end), nobody can rate the survey.
        let customer: Option<String> = answer_idx
            .and_then(|a| h.agent_msg_conversation[a])
            .map(|c| h.conversations[c].customer.clone());
        // CHOICE: the survey's place is the (guild_id, conversation) of its answer message (the
        // survey event's own key when the answer message is unknown).
        let place = answer_idx.map_or(&s.key, |a| &evs[a].key);
        // "closes 24 h after it was sent, inclusive".
        let close_at = s.at + p.survey_close_ms;

        // Valid clicks, in event order: after the survey was sent (event order), by that
        // customer, at or before the close.
        // CHOICE: a click ordered before the survey_sent event changes nothing.
        let valid_clicks: Vec<usize> = (si + 1..evs.len())
            .filter(|&j| {
                let e = &evs[j];
                e.kind == "rating"
                    && e.survey_id == s.survey_id
                    && customer.as_deref() == Some(e.author.as_str())
                    && e.at <= close_at
            })
            .collect();

        // "A new answer before the customer rates withdraws the open survey".
        // CHOICE: a "new answer" is an agent message that answered (ended) a request — even one
        // past its deadline — in the same place, ordered after the survey_sent event and while
        // the survey is still open (at or before sent + close, inclusive). It withdraws the
        // survey unless a valid click of the customer is ordered before it. A click before the
        // new answer keeps the survey (later clicks until the close still change the rating).
        let new_answer = (si + 1..evs.len())
            .find(|&j| h.is_answer[j] && evs[j].key == *place && evs[j].at <= close_at);
        let withdrawn = match new_answer {
            Some(w) => !valid_clicks.iter().any(|&c| c < w),
            None => false,
        };
        // "the last click counts".
        let rating = valid_clicks.last().map(|&c| evs[c].rating);
        out.push(Survey {
            sent_at: s.at,
            agent,
            withdrawn,
            rating,
        });
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------------------------

fn mean_i64(xs: &[i64]) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    let sum: i128 = xs.iter().map(|&x| i128::from(x)).sum();
    Some(sum as f64 / xs.len() as f64)
}

/// Nearest-rank percentile: sort ascending, value at 1-based rank ceil(p/100 * n).
fn percentile(xs: &[i64], pct: usize) -> Option<i64> {
    if xs.is_empty() {
        return None;
    }
    let mut v = xs.to_vec();
    v.sort_unstable();
    let n = v.len();
    let rank = (pct * n).div_ceil(100); // exact ceil(p*n/100)
    let rank = rank.max(1);
    Some(v[rank - 1])
}

fn stats_json(delays: &[i64]) -> Value {
    json!({
        "mean": mean_i64(delays),
        "median": percentile(delays, 50),
        "p90": percentile(delays, 90),
    })
}

fn ratio(num: usize, den: usize) -> Option<f64> {
    if den == 0 {
        None
    } else {
        Some(num as f64 / den as f64)
    }
}

fn in_window(t: i64, from: i64, to: i64) -> bool {
    from <= t && t < to
}

// ---------------------------------------------------------------------------------------------
// Service levels, resolution, heatmap
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Debug)]
enum Verdict {
    Met,
    Missed,
    InProgress,
}

#[derive(Default, Clone, Copy)]
struct Counts {
    met: usize,
    missed: usize,
    in_progress: usize,
}

impl Counts {
    fn add(&mut self, v: Verdict) {
        match v {
            Verdict::Met => self.met += 1,
            Verdict::Missed => self.missed += 1,
            Verdict::InProgress => self.in_progress += 1,
        }
    }
}

/// A request's SLA verdict at `now`; `None` when its kind has no target in its guild.
fn request_verdict(r: &Request, p: &OracleParams) -> Option<Verdict> {
    let s = p.sla(&r.guild);
    // "`first_response` (for the first request of a conversation), `next_response` (for every
    // other request)".
    let target = if r.first {
        s.first_response_ms
    } else {
        s.next_response_ms
    }?;
    Some(match &r.answer {
        // "met when it was answered (at any time) with an SLA-clock delay <= the target; missed
        // when it was answered later".
        Some((at, _)) if sla_ms(&s, r.start, *at) <= target => Verdict::Met,
        Some(_) => Verdict::Missed,
        // "or is still unanswered and the SLA-clock time from its start to `now` is greater than
        // the target; otherwise in progress". A request left unanswered in a closed or lapsed
        // conversation keeps its clock running to `now`.
        None if sla_ms(&s, r.start, p.now_ms) > target => Verdict::Missed,
        None => Verdict::InProgress,
    })
}

/// A conversation's resolution verdict at `now`; `None` when its guild has no resolution target.
fn conversation_verdict(c: &Conversation, p: &OracleParams) -> Option<Verdict> {
    let s = p.sla(&c.guild);
    let target = s.resolution_ms?;
    Some(match c.end {
        // "met when resolved within it; missed when resolved later, lapsed, or open with more
        // SLA-clock time than the target since its opening".
        End::Closed(t) if sla_ms(&s, c.opened_at, t) <= target => Verdict::Met,
        End::Closed(_) | End::Lapsed => Verdict::Missed,
        End::Open if sla_ms(&s, c.opened_at, p.now_ms) > target => Verdict::Missed,
        End::Open => Verdict::InProgress,
    })
}

struct SlaFigures {
    first: Counts,
    next: Counts,
    resolution: Counts,
    resolved: usize,
    lapsed: usize,
    open: usize,
    /// Resolution times (SLA clock) of the resolved conversations.
    resolution_times: Vec<i64>,
    /// Met or missed answers: (agent, first request?, verdict).
    credited: Vec<(String, bool, Verdict)>,
    /// `heatmap.requests[weekday][hour]`.
    heat_requests: Vec<Vec<usize>>,
    /// Per local hour: calendar delays of the requests answered within `deadline`.
    heat_delays: Vec<Vec<i64>>,
}

fn sla_figures(h: &History, from: i64, to: i64, heat_tz: Tz, p: &OracleParams) -> SlaFigures {
    let mut f = SlaFigures {
        first: Counts::default(),
        next: Counts::default(),
        resolution: Counts::default(),
        resolved: 0,
        lapsed: 0,
        open: 0,
        resolution_times: Vec::new(),
        credited: Vec::new(),
        heat_requests: vec![vec![0; 24]; 7],
        heat_delays: vec![Vec::new(); 24],
    };
    // Requests: "per window, by request start".
    for r in h.requests.iter().filter(|r| in_window(r.start, from, to)) {
        if let Some(v) = request_verdict(r, p) {
            if r.first {
                f.first.add(v);
            } else {
                f.next.add(v);
            }
            // "A met or missed answer is credited to its agent; a request missed without an
            // answer is credited to no agent."
            if let (Some((_, who)), Verdict::Met | Verdict::Missed) = (&r.answer, v) {
                f.credited.push((who.clone(), r.first, v));
            }
        }
        // "requests started in the window by local weekday (0 = Monday) and hour".
        let local = heat_tz.timestamp_millis_opt(r.start).unwrap();
        let (wd, hour) = (
            local.weekday().num_days_from_monday() as usize,
            local.hour() as usize,
        );
        f.heat_requests[wd][hour] += 1;
        // "the median response delay (calendar, nearest rank) of the requests answered within
        // `deadline` that started in each local hour".
        if let Some((delay, _)) = answered_within_deadline(r, p) {
            f.heat_delays[hour].push(delay);
        }
    }
    // Conversations: "by conversation opening".
    for c in h
        .conversations
        .iter()
        .filter(|c| in_window(c.opened_at, from, to))
    {
        match c.end {
            End::Closed(t) => {
                f.resolved += 1;
                // "`resolution_ms` is on the SLA clock even when no resolution target is set".
                f.resolution_times
                    .push(sla_ms(&p.sla(&c.guild), c.opened_at, t));
            }
            End::Lapsed => f.lapsed += 1,
            End::Open => f.open += 1,
        }
        if let Some(v) = conversation_verdict(c, p) {
            f.resolution.add(v);
        }
    }
    f
}

/// What the report shows for the settings of its guilds.
struct ReportScope {
    /// `target_ms` of first_response, next_response, resolution.
    targets: [Option<i64>; 3],
    /// The heatmap's time zone.
    heat_tz: Tz,
}

/// "In a report over several guilds each guild keeps its own targets and clock, and the heatmap
/// is in UTC."
// CHOICE: the report's guilds are the `--guild` guild when one is given, else the distinct
// guild ids of the events visible at `now`. With exactly one guild the heatmap is in its time
// zone; with several, in UTC; with none (no events), in the default settings' zone (every cell
// is then empty anyway).
// CHOICE (lead): over several guilds `target_ms` is the target common to all of them, or null
// when they differ (a target off in one guild and on in another differ); with no guild, the
// default settings' target.
fn report_scope(evs: &[Ev], p: &OracleParams) -> ReportScope {
    let mut guilds: Vec<String> = match &p.guild_id {
        Some(g) => vec![g.clone()],
        None => Vec::new(),
    };
    for e in evs {
        if !guilds.contains(&e.key.0) {
            guilds.push(e.key.0.clone());
        }
    }
    let settings: Vec<GuildSla> = if guilds.is_empty() {
        vec![p.sla("")]
    } else {
        guilds.iter().map(|g| p.sla(g)).collect()
    };
    let common = |pick: fn(&GuildSla) -> Option<i64>| -> Option<i64> {
        let first = pick(&settings[0]);
        if settings.iter().all(|s| pick(s) == first) {
            first
        } else {
            None
        }
    };
    let heat_tz = if settings.len() == 1 {
        parse_tz(&settings[0].timezone)
    } else {
        chrono_tz::UTC
    };
    ReportScope {
        targets: [
            common(|s| s.first_response_ms),
            common(|s| s.next_response_ms),
            common(|s| s.resolution_ms),
        ],
        heat_tz,
    }
}

fn target_json(target: Option<i64>, c: &Counts) -> Value {
    // CHOICE (lead): a target that is off gives `{target_ms: null, met: 0, missed: 0,
    // in_progress: 0, attainment: null}` (no request or conversation is counted).
    json!({
        "target_ms": target,
        "met": c.met,
        "missed": c.missed,
        "in_progress": c.in_progress,
        // "SLA attainment of a kind = met / (met + missed), null when both are 0".
        "attainment": ratio(c.met, c.met + c.missed),
    })
}

fn agent_target_json(c: &Counts) -> Value {
    json!({
        "met": c.met,
        "missed": c.missed,
        "attainment": ratio(c.met, c.met + c.missed),
    })
}

fn heatmap_json(f: &SlaFigures) -> Value {
    let medians: Vec<Option<i64>> = f.heat_delays.iter().map(|d| percentile(d, 50)).collect();
    json!({
        "requests": f.heat_requests,
        "median_delay_ms_by_hour": medians,
    })
}

// ---------------------------------------------------------------------------------------------
// Figures of one window
// ---------------------------------------------------------------------------------------------

struct AgentFigures {
    agent_id: String,
    delays: Vec<i64>,
    surveys_sent: usize,
    ratings: Vec<i64>,
    /// Met / missed answers of this agent, first requests and others.
    sla_first: Counts,
    sla_next: Counts,
}

struct Figures {
    messages_received: usize,
    conversations: usize,
    requests: usize,
    answered: usize,
    unanswered: usize,
    pending: usize,
    /// Response delays of answered requests.
    delays: Vec<i64>,
    /// Their business-hours parts.
    business_delays: Vec<i64>,
    /// Response delays of the first requests of conversations opened in the window, answered.
    first_delays: Vec<i64>,
    surveys_sent: usize,
    ratings: Vec<i64>,
    agents: Vec<AgentFigures>,
    sla: SlaFigures,
}

/// Is request `r` answered within the deadline? Returns (delay, answering agent).
// CHOICE: an answer after the deadline ends the request but is not "answered": it adds nothing
// to any agent's `answered` or delays (its survey, if any, is still credited to the answer's
// author, and KPI.md says its SLA verdict is credited to its agent: see `sla_figures`).
fn answered_within_deadline(r: &Request, p: &OracleParams) -> Option<(i64, String)> {
    match &r.answer {
        Some((at, who)) if at - r.start <= p.deadline_ms => Some((at - r.start, who.clone())),
        _ => None,
    }
}

fn figures(
    evs: &[Ev],
    h: &History,
    surveys: &[Survey],
    (from, to): (i64, i64),
    heat_tz: Tz,
    p: &OracleParams,
) -> Figures {
    let now = p.now_ms;
    // "messages received: customer messages in the window".
    let messages_received = evs
        .iter()
        .filter(|e| e.kind == "customer_message" && in_window(e.at, from, to))
        .count();
    // "conversations: conversations opened in the window".
    let conversations = h
        .conversations
        .iter()
        .filter(|c| in_window(c.opened_at, from, to))
        .count();

    let mut requests = 0;
    let mut answered = 0;
    let mut unanswered = 0;
    let mut pending = 0;
    let mut delays = Vec::new();
    let mut business_delays = Vec::new();
    let mut agent_delays: Vec<(String, i64)> = Vec::new();
    for r in &h.requests {
        // "A request belongs to the window of its start".
        if !in_window(r.start, from, to) {
            continue;
        }
        requests += 1;
        if let Some((delay, who)) = answered_within_deadline(r, p) {
            // "answered: requests answered at most `deadline` after their start".
            answered += 1;
            delays.push(delay);
            // "business-hours delay: the part of a response delay that falls inside the guild's
            // weekly business hours, in the guild's time zone".
            // CHOICE: `business_hours_delay_ms` is over the same requests as
            // `response_delay_ms` (answered within `deadline`), whatever the `sla_clock`.
            let s = p.sla(&r.guild);
            business_delays.push(business_ms(
                &s.timezone,
                &s.business_hours,
                r.start,
                r.start + delay,
            ));
            agent_delays.push((who, delay));
        } else if r.start + p.deadline_ms <= now {
            // "unanswered: not answered within deadline, where start + deadline <= now".
            unanswered += 1;
        } else {
            // "pending: neither answered nor past deadline at now".
            pending += 1;
        }
    }

    // "first response time: ... over the first requests of conversations opened in the window,
    // answered within deadline".
    let mut first_delays = Vec::new();
    for c in &h.conversations {
        if !in_window(c.opened_at, from, to) {
            continue;
        }
        if let Some((delay, _)) = answered_within_deadline(&h.requests[c.first_request], p) {
            first_delays.push(delay);
        }
    }

    // "a survey to the window in which it was sent"; a withdrawn survey "no longer counts as
    // sent". "ratings: those of them that were rated".
    let window_surveys: Vec<&Survey> = surveys
        .iter()
        .filter(|s| !s.withdrawn && in_window(s.sent_at, from, to))
        .collect();
    let surveys_sent = window_surveys.len();
    let ratings: Vec<i64> = window_surveys.iter().filter_map(|s| s.rating).collect();

    let sla = sla_figures(h, from, to, heat_tz, p);

    // Per agent: "Each answered request, its delay, its survey and its rating are credited to the
    // agent who sent the answer."
    // CHOICE: an agent is listed when, in the window, it has at least one answered request or at
    // least one (non-withdrawn) survey credited to it, or (CHOICE (lead)) at least one met or
    // missed SLA answer credited to it (then possibly with `answered: 0`).
    let mut ids: Vec<String> = Vec::new();
    let candidates = agent_delays
        .iter()
        .map(|(who, _)| Some(who))
        .chain(window_surveys.iter().map(|s| s.agent.as_ref()))
        .chain(sla.credited.iter().map(|(who, _, _)| Some(who)));
    for who in candidates.flatten() {
        if !ids.contains(who) {
            ids.push(who.clone());
        }
    }
    let mut agents: Vec<AgentFigures> = ids
        .into_iter()
        .map(|id| {
            let delays: Vec<i64> = agent_delays
                .iter()
                .filter(|(who, _)| *who == id)
                .map(|(_, d)| *d)
                .collect();
            let mine: Vec<&&Survey> = window_surveys
                .iter()
                .filter(|s| s.agent.as_deref() == Some(id.as_str()))
                .collect();
            let ratings: Vec<i64> = mine.iter().filter_map(|s| s.rating).collect();
            // "per agent, agents[].sla ... over the requests that agent answered".
            let (mut sla_first, mut sla_next) = (Counts::default(), Counts::default());
            for (who, first, v) in &sla.credited {
                if *who == id {
                    if *first {
                        sla_first.add(*v);
                    } else {
                        sla_next.add(*v);
                    }
                }
            }
            AgentFigures {
                agent_id: id,
                delays,
                surveys_sent: mine.len(),
                ratings,
                sla_first,
                sla_next,
            }
        })
        .collect();
    // "sorted by answered, most first, then agent_id".
    // CHOICE: agent_id ties are broken by plain string (byte-wise) order of the id string, as the
    // report's ids are strings (not by numeric snowflake order).
    agents.sort_by(|a, b| {
        b.delays
            .len()
            .cmp(&a.delays.len())
            .then_with(|| a.agent_id.cmp(&b.agent_id))
    });

    Figures {
        messages_received,
        conversations,
        requests,
        answered,
        unanswered,
        pending,
        delays,
        business_delays,
        first_delays,
        surveys_sent,
        ratings,
        agents,
        sla,
    }
}

fn rating_mean(ratings: &[i64]) -> Option<f64> {
    mean_i64(ratings)
}

fn csat(ratings: &[i64]) -> Option<f64> {
    ratio(ratings.iter().filter(|&&r| r >= 4).count(), ratings.len())
}

/// The figures of a window (shared by the report and `previous`).
fn scalar_json(f: &Figures, scope: &ReportScope) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("messages_received".into(), json!(f.messages_received));
    m.insert("conversations".into(), json!(f.conversations));
    m.insert("requests".into(), json!(f.requests));
    m.insert("answered".into(), json!(f.answered));
    m.insert("unanswered".into(), json!(f.unanswered));
    m.insert("pending".into(), json!(f.pending));
    // "response rate: answered / (answered + unanswered); n/a when both are 0".
    m.insert(
        "response_rate".into(),
        json!(ratio(f.answered, f.answered + f.unanswered)),
    );
    m.insert("response_delay_ms".into(), stats_json(&f.delays));
    m.insert(
        "business_hours_delay_ms".into(),
        stats_json(&f.business_delays),
    );
    m.insert("first_response_ms".into(), stats_json(&f.first_delays));
    m.insert("surveys_sent".into(), json!(f.surveys_sent));
    m.insert("ratings".into(), json!(f.ratings.len()));
    m.insert(
        "survey_response_rate".into(),
        json!(ratio(f.ratings.len(), f.surveys_sent)),
    );
    m.insert("average_rating".into(), json!(rating_mean(&f.ratings)));
    m.insert("csat".into(), json!(csat(&f.ratings)));
    let [first, next, resolution] = scope.targets;
    m.insert(
        "sla".into(),
        json!({
            "first_response": target_json(first, &f.sla.first),
            "next_response": target_json(next, &f.sla.next),
            "resolution": target_json(resolution, &f.sla.resolution),
        }),
    );
    m.insert("resolved".into(), json!(f.sla.resolved));
    m.insert("lapsed".into(), json!(f.sla.lapsed));
    m.insert("open".into(), json!(f.sla.open));
    m.insert("resolution_ms".into(), stats_json(&f.sla.resolution_times));
    m.insert("heatmap".into(), heatmap_json(&f.sla));
    m
}

fn sum_i128(xs: &[i64]) -> i128 {
    xs.iter().map(|&x| i128::from(x)).sum()
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

/// `lines`: the JSON-lines events of KPI.md's import format, already parsed, in any order, all
/// valid. Returns the JSON report for all guilds together (conversations keyed by
/// `(guild_id, conversation)`), or for `p.guild_id` only.
pub fn oracle_report(lines: &[serde_json::Value], p: &OracleParams) -> serde_json::Value {
    // "it ignores every event after `now`".
    // CHOICE: an event at exactly `now` is not after `now`, so it is visible (answers, surveys,
    // clicks at `now` count).
    // "`--guild ID` restricts to one guild": every event of another guild is left out.
    let mut evs: Vec<Ev> = lines
        .iter()
        .map(parse_event)
        .filter(|e| e.at <= p.now_ms)
        .filter(|e| p.guild_id.as_ref().is_none_or(|g| *g == e.key.0))
        .collect();
    evs.sort_by(cmp_events);

    let h = build_history(&evs, p);
    let surveys = build_surveys(&evs, &h, p);
    let scope = report_scope(&evs, p);
    let tz = scope.heat_tz;

    let cur = figures(&evs, &h, &surveys, (p.from_ms, p.to_ms), tz, p);
    // "the previous window of the same length, ending at `from`, evaluated at the same `now`".
    let len = p.to_ms - p.from_ms;
    let prev = figures(&evs, &h, &surveys, (p.from_ms - len, p.from_ms), tz, p);
    // Badge: "Evaluated over the window [now - 7 days, now)".
    let badge_f = figures(
        &evs,
        &h,
        &surveys,
        (p.now_ms - SEVEN_DAYS_MS, p.now_ms),
        tz,
        p,
    );

    // Badge: "awarded when response rate >= 90 % and mean response delay < 5 minutes (both must
    // exist)".
    // CHOICE: both comparisons are exact rational arithmetic on integers:
    // answered/(answered+unanswered) >= num/den  <=>  answered*den >= num*(answered+unanswered);
    // sum/n < max  <=>  sum < max*n.
    let b_den = badge_f.answered + badge_f.unanswered;
    let b_rate_ok = b_den > 0
        && (badge_f.answered as i128) * i128::from(p.badge_min_rate.1)
            >= i128::from(p.badge_min_rate.0) * (b_den as i128);
    let b_delay_ok = !badge_f.delays.is_empty()
        && sum_i128(&badge_f.delays)
            < i128::from(p.badge_max_delay_ms) * (badge_f.delays.len() as i128);
    let badge = json!({
        "awarded": b_rate_ok && b_delay_ok,
        "response_rate": ratio(badge_f.answered, b_den),
        // CHOICE: the badge statistic is the mean (the default); delay_ms is that mean.
        "delay_ms": mean_i64(&badge_f.delays),
    });

    // Load alert.
    // CHOICE: all comparisons in exact integer arithmetic:
    //  requests >= 1.2 * prev.requests        <=> 5*requests >= 6*prev.requests
    //  prev.rate - rate >= 0.05 (a/d, pa/pd)  <=> 20*(pa*d - a*pd) >= d*pd
    //  mean >= 1.2 * prev.mean (s/n, ps/pn)    <=> 5*s*pn >= 6*ps*n
    // "each comparison made only where both figures exist": a comparison whose figures do not
    // both exist is false.
    let (req, preq) = (cur.requests as i128, prev.requests as i128);
    let load_rose = preq >= 1 && 5 * req >= 6 * preq;
    let (a, d) = (
        cur.answered as i128,
        (cur.answered + cur.unanswered) as i128,
    );
    let (pa, pd) = (
        prev.answered as i128,
        (prev.answered + prev.unanswered) as i128,
    );
    let rate_fell = d > 0 && pd > 0 && 20 * (pa * d - a * pd) >= d * pd;
    let (s, n) = (sum_i128(&cur.delays), cur.delays.len() as i128);
    let (ps, pn) = (sum_i128(&prev.delays), prev.delays.len() as i128);
    let delay_rose = n > 0 && pn > 0 && 5 * s * pn >= 6 * ps * n;
    let load_alert = load_rose && (rate_fell || delay_rose);

    let agents: Vec<Value> = cur
        .agents
        .iter()
        .map(|ag| {
            json!({
                "agent_id": ag.agent_id,
                "answered": ag.delays.len(),
                "response_delay_ms": stats_json(&ag.delays),
                "surveys_sent": ag.surveys_sent,
                "ratings": ag.ratings.len(),
                "average_rating": rating_mean(&ag.ratings),
                "csat": csat(&ag.ratings),
                "sla": {
                    "first_response": agent_target_json(&ag.sla_first),
                    "next_response": agent_target_json(&ag.sla_next),
                },
            })
        })
        .collect();

    let mut report = scalar_json(&cur, &scope);
    report.insert("badge".into(), badge);
    // CHOICE: `previous` holds every figure of `scalar_json` (counts, rates, the statistics
    // objects, and the new SLA figures: `sla`, `resolved`, `lapsed`, `open`, `resolution_ms`
    // and the `heatmap`) for the previous window; not the badge, load alert or agents.
    report.insert("previous".into(), Value::Object(scalar_json(&prev, &scope)));
    report.insert("load_alert".into(), json!(load_alert));
    report.insert("agents".into(), Value::Array(agents));
    Value::Object(report)
}
