//! What operators see of a running reactif: the metrics each part records (through the
//! `metrics` crate's global recorder, which `web::metrics` installs and exposes in the
//! Prometheus format) and the health the bot reports to `/healthz`. Recording without a
//! recorder installed costs nothing and goes nowhere, so the CLI and the tests that do not
//! look at metrics pay nothing. The names and labels are listed in docs/operations.md.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

pub const EVENTS_INGESTED: &str = "reactif_events_ingested_total";
pub const HANDLER_QUEUE: &str = "reactif_handler_queue";
pub const HOLES: &str = "reactif_holes";
pub const OUTBOX_BACKLOG: &str = "reactif_outbox_backlog";
pub const OUTBOX_OLDEST_AGE: &str = "reactif_outbox_oldest_age_seconds";
pub const REST_CALLS: &str = "reactif_discord_rest_calls_total";
pub const GATEWAY_LATENCY: &str = "reactif_gateway_latency_seconds";
pub const GATEWAY_CONNECTED: &str = "reactif_gateway_connected";
pub const GATEWAY_SESSIONS: &str = "reactif_gateway_sessions_total";
pub const DATABASE_ERRORS: &str = "reactif_database_errors_total";
pub const REPORT_SECONDS: &str = "reactif_report_seconds";
pub const SHARDS_OWNED: &str = "reactif_shards_owned";
pub const SHARD_CONNECTED: &str = "reactif_shard_connected";

/// The buckets of the report latency histogram, in seconds.
pub const REPORT_BUCKETS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// Events stored for the first time, by kind (`customer_message`, `rating`, ...).
pub fn events_ingested(kind: &'static str, n: u64) {
    metrics::counter!(EVENTS_INGESTED, "kind" => kind).increment(n);
}

/// Messages waiting for a handler, and channels with messages to read back.
pub fn handler_queue(waiting: usize, holes: usize) {
    metrics::gauge!(HANDLER_QUEUE).set(waiting as f64);
    metrics::gauge!(HOLES).set(holes as f64);
}

/// Messages the bot owes Discord, and how long the oldest has waited.
pub fn outbox(pending: u64, oldest_age_ms: Option<i64>) {
    metrics::gauge!(OUTBOX_BACKLOG).set(pending as f64);
    metrics::gauge!(OUTBOX_OLDEST_AGE).set(oldest_age_ms.unwrap_or(0).max(0) as f64 / 1000.0);
}

/// One call to Discord's REST API and its HTTP status (0: no answer, a network error).
pub fn rest_call(status: u16) {
    metrics::counter!(REST_CALLS, "status" => status.to_string()).increment(1);
}

/// A gateway session of shard `shard` began: `ready` (IDENTIFY) or `resume`. Every one after
/// a shard's first is a reconnect.
pub fn gateway_session(kind: &'static str, shard: u32) {
    metrics::counter!(GATEWAY_SESSIONS, "kind" => kind, "shard" => shard.to_string()).increment(1);
}

/// How many shards this process connects, and which (`shards` label, e.g. `0-3/16`).
pub fn shards_owned(shards: &crate::domain::shards::Shards) {
    let range = format!("{}-{}/{}", shards.first, shards.last, shards.count);
    metrics::gauge!(SHARDS_OWNED, "shards" => range).set(f64::from(shards.len()));
}

/// One shard's gateway: its heartbeat round trip (when known) and whether it is connected.
pub fn shard_gateway(shard: u32, connected: bool, latency: Option<std::time::Duration>) {
    let label = shard.to_string();
    metrics::gauge!(SHARD_CONNECTED, "shard" => label.clone()).set(f64::from(u8::from(connected)));
    if let Some(l) = latency {
        metrics::gauge!(GATEWAY_LATENCY, "shard" => label).set(l.as_secs_f64());
    }
}

/// A database error met by the bot or the dashboard; `transient` when the database could not be
/// reached (down, locked) rather than refusing a query.
pub fn database_error(e: &anyhow::Error) {
    let Some(store) = e
        .chain()
        .find_map(|c| c.downcast_ref::<crate::store::StoreError>())
    else {
        return;
    };
    let transient = if store.is_transient() {
        "true"
    } else {
        "false"
    };
    metrics::counter!(DATABASE_ERRORS, "transient" => transient).increment(1);
}

/// How long one report took to build.
pub fn report_latency(seconds: f64) {
    metrics::histogram!(REPORT_SECONDS).record(seconds);
}

/// Registers the help text of every metric (shown as `# HELP` lines).
pub fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(EVENTS_INGESTED, "Events stored for the first time, by kind");
    describe_gauge!(HANDLER_QUEUE, "Live messages waiting for a handler");
    describe_gauge!(
        HOLES,
        "Channels with messages not handled yet, to read back"
    );
    describe_gauge!(OUTBOX_BACKLOG, "Messages waiting to be sent to Discord");
    describe_gauge!(
        OUTBOX_OLDEST_AGE,
        Unit::Seconds,
        "Age of the oldest message waiting to be sent to Discord"
    );
    describe_counter!(REST_CALLS, "Calls to Discord's REST API by HTTP status");
    describe_gauge!(
        GATEWAY_LATENCY,
        Unit::Seconds,
        "Heartbeat round trip of each shard's gateway connection"
    );
    describe_gauge!(
        GATEWAY_CONNECTED,
        "1 while every shard of this process is connected"
    );
    describe_gauge!(SHARD_CONNECTED, "1 while this shard is connected");
    describe_gauge!(SHARDS_OWNED, "Shards this process connects");
    describe_counter!(
        GATEWAY_SESSIONS,
        "Gateway sessions started (ready) or resumed (resume), by shard: reconnects are all but each shard's first"
    );
    describe_counter!(DATABASE_ERRORS, "Database errors, transient or not");
    describe_histogram!(REPORT_SECONDS, Unit::Seconds, "Time to build one report");
}

/// What the bot tells `/healthz` about its gateway. Absent from a dashboard serving alone.
#[derive(Debug, Default)]
pub struct Health {
    connected: AtomicBool,
    /// When the connection state was last seen (ms), to tell a stale report.
    seen_ms: AtomicI64,
}

impl Health {
    pub fn set_gateway(&self, connected: bool, now_ms: i64) {
        self.connected.store(connected, Ordering::SeqCst);
        self.seen_ms.store(now_ms, Ordering::SeqCst);
        metrics::gauge!(GATEWAY_CONNECTED).set(if connected { 1.0 } else { 0.0 });
    }

    pub fn gateway_connected(&self) -> bool {
        self.connected.load(Ordering::SeqCst)
    }
}
