//! Brute-force reference implementation ("oracle") of the KPI contract in `KPI.md`.
//!
//! Written from the text of KPI.md only, without looking at the implementation under test.
//! It favours literal, obviously-correct code over efficiency: it re-scans the whole event list
//! whenever it needs something. Readings of ambiguous sentences are marked `// CHOICE:`.
//!
//! Only `std`, `serde_json` and `chrono` are used.

use chrono::DateTime;
use serde_json::{json, Value};
use std::cmp::Ordering;

/// Parameters of one report.
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
}

const SEVEN_DAYS_MS: i64 = 7 * 24 * 60 * 60 * 1000;

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
// Conversations, requests, answers
// ---------------------------------------------------------------------------------------------

struct Conversation {
    opened_at: i64,
    /// Author of the customer message that opened it.
    customer: String,
    /// Index (into `requests`) of its first request.
    first_request: usize,
}

struct Request {
    start: i64,
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
        // State of the place `key`, walked in event order.
        let mut open: Option<usize> = None; // the open conversation
        let mut waiting: Option<usize> = None; // its request waiting for an answer
        let mut last_msg_at: i64 = 0; // its last customer or agent message

        for (i, e) in evs.iter().enumerate() {
            if e.key != *key {
                continue;
            }
            match e.kind.as_str() {
                "customer_message" | "agent_message" => {
                    // "It ends ... when a customer or agent message comes `idle` or more after
                    // the conversation's last customer or agent message".
                    // CHOICE: notes, bot messages, surveys and ratings are not customer/agent
                    // messages: they neither end a conversation by idleness nor reset its idle
                    // clock. Only customer and agent messages that are part of the open
                    // conversation set "last customer or agent message".
                    if open.is_some() && e.at - last_msg_at >= p.idle_ms {
                        open = None;
                        waiting = None;
                    }
                    if e.kind == "customer_message" {
                        // "a customer message then opens a new conversation".
                        // CHOICE: every `customer_message` in a place belongs to the conversation
                        // open there, whoever wrote it; the conversation's customer is the author
                        // of the message that opened it.
                        if open.is_none() {
                            h.conversations.push(Conversation {
                                opened_at: e.at,
                                customer: e.author.clone(),
                                first_request: h.requests.len(),
                            });
                            open = Some(h.conversations.len() - 1);
                        }
                        // "A request starts at a customer message when the conversation has no
                        // request waiting"; further customer messages join it.
                        if waiting.is_none() {
                            h.requests.push(Request {
                                start: e.at,
                                answer: None,
                            });
                            waiting = Some(h.requests.len() - 1);
                        }
                        last_msg_at = e.at;
                    } else if let Some(c) = open {
                        h.agent_msg_conversation[i] = Some(c);
                        // "A request is answered by the first agent message after its start."
                        if let Some(r) = waiting {
                            h.requests[r].answer = Some((e.at, e.author.clone()));
                            h.is_answer[i] = true;
                            waiting = None;
                        }
                        last_msg_at = e.at;
                    }
                    // CHOICE: an agent message with no open conversation (outreach, or after a
                    // close / idle end) answers nothing, opens nothing, and does not start any
                    // idle clock (it is not part of a conversation).
                }
                "close" => {
                    // CHOICE: any `close` event ends the open conversation of its place, whoever
                    // sent it; a close with no open conversation does nothing. Its waiting
                    // request (if any) stays unanswered: pending until its deadline passes, then
                    // unanswered.
                    open = None;
                    waiting = None;
                }
                // "Never counted": note, bot_message. survey_sent / rating are handled below.
                _ => {}
            }
        }
    }
    h
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
// Figures of one window
// ---------------------------------------------------------------------------------------------

struct AgentFigures {
    agent_id: String,
    delays: Vec<i64>,
    surveys_sent: usize,
    ratings: Vec<i64>,
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
    /// Response delays of the first requests of conversations opened in the window, answered.
    first_delays: Vec<i64>,
    surveys_sent: usize,
    ratings: Vec<i64>,
    agents: Vec<AgentFigures>,
}

/// Is request `r` answered within the deadline? Returns (delay, answering agent).
// CHOICE: an answer after the deadline ends the request but credits nobody: the request is not
// "answered", so it adds nothing to any agent's figures (its survey, if any, is still credited
// to the answer's author).
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
    from: i64,
    to: i64,
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

    // Per agent: "Each answered request, its delay, its survey and its rating are credited to the
    // agent who sent the answer."
    // CHOICE: an agent is listed when, in the window, it has at least one answered request or at
    // least one (non-withdrawn) survey credited to it.
    let mut ids: Vec<String> = Vec::new();
    for (who, _) in &agent_delays {
        if !ids.contains(who) {
            ids.push(who.clone());
        }
    }
    for s in &window_surveys {
        if let Some(who) = &s.agent {
            if !ids.contains(who) {
                ids.push(who.clone());
            }
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
            AgentFigures {
                agent_id: id,
                delays,
                surveys_sent: mine.len(),
                ratings,
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
        first_delays,
        surveys_sent,
        ratings,
        agents,
    }
}

fn rating_mean(ratings: &[i64]) -> Option<f64> {
    mean_i64(ratings)
}

fn csat(ratings: &[i64]) -> Option<f64> {
    ratio(ratings.iter().filter(|&&r| r >= 4).count(), ratings.len())
}

/// The scalar figures of a window (shared by the report and `previous`).
fn scalar_json(f: &Figures) -> serde_json::Map<String, Value> {
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
    m.insert("first_response_ms".into(), stats_json(&f.first_delays));
    m.insert("surveys_sent".into(), json!(f.surveys_sent));
    m.insert("ratings".into(), json!(f.ratings.len()));
    m.insert(
        "survey_response_rate".into(),
        json!(ratio(f.ratings.len(), f.surveys_sent)),
    );
    m.insert("average_rating".into(), json!(rating_mean(&f.ratings)));
    m.insert("csat".into(), json!(csat(&f.ratings)));
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
/// `(guild_id, conversation)`), without business-hours figures.
pub fn oracle_report(lines: &[serde_json::Value], p: &OracleParams) -> serde_json::Value {
    // "it ignores every event after `now`".
    // CHOICE: an event at exactly `now` is not after `now`, so it is visible (answers, surveys,
    // clicks at `now` count).
    let mut evs: Vec<Ev> = lines
        .iter()
        .map(parse_event)
        .filter(|e| e.at <= p.now_ms)
        .collect();
    evs.sort_by(cmp_events);

    let h = build_history(&evs, p);
    let surveys = build_surveys(&evs, &h, p);

    let cur = figures(&evs, &h, &surveys, p.from_ms, p.to_ms, p);
    // "the previous window of the same length, ending at `from`, evaluated at the same `now`".
    let len = p.to_ms - p.from_ms;
    let prev = figures(&evs, &h, &surveys, p.from_ms - len, p.from_ms, p);
    // Badge: "Evaluated over the window [now - 7 days, now)".
    let badge_f = figures(&evs, &h, &surveys, p.now_ms - SEVEN_DAYS_MS, p.now_ms, p);

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
            })
        })
        .collect();

    let mut report = scalar_json(&cur);
    report.insert("badge".into(), badge);
    // CHOICE: `previous` holds every figure of `scalar_json` (counts, rates, and the
    // response_delay_ms / first_response_ms statistics objects) for the previous window.
    report.insert("previous".into(), Value::Object(scalar_json(&prev)));
    report.insert("load_alert".into(), json!(load_alert));
    report.insert("agents".into(), Value::Array(agents));
    Value::Object(report)
}
