//! The gateway: sessions (with the log of what each was sent, replayed on RESUME), the open
//! sockets, and what a test can do to them (dispatch an event, send RECONNECT or
//! INVALID_SESSION, drop or close the sockets, stop acknowledging heartbeats).
//!
//! A new kind of event needs nothing here: build its `d` (see [`crate::payloads`]) and
//! [`FakeDiscord::dispatch`] it. A new opcode from the bot is answered in `socket.rs`.

mod shards;
mod socket;

pub(crate) use shards::guild_of_event;
pub use shards::{IdentifyRecord, ShardKey};
pub(crate) use socket::upgrade;

use crate::fake::FakeDiscord;
use crate::recording::GatewayStats;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::mpsc;

/// Gateway opcodes the fake sends or answers.
pub mod op {
    pub const DISPATCH: u64 = 0;
    pub const HEARTBEAT: u64 = 1;
    pub const IDENTIFY: u64 = 2;
    pub const RESUME: u64 = 6;
    pub const RECONNECT: u64 = 7;
    pub const INVALID_SESSION: u64 = 9;
    pub const HELLO: u64 = 10;
    pub const HEARTBEAT_ACK: u64 = 11;
}

/// What a socket's task is told to do.
pub(crate) enum ConnCmd {
    Frame(String),
    Close(u16, String),
    Drop,
}

/// One session (one IDENTIFY): its sequence number, every dispatch it was sent (to replay on
/// RESUME), and the socket it is on, if any.
pub(crate) struct GwSession {
    pub seq: u64,
    pub log: Vec<Value>,
    pub conn: Option<u64>,
    /// `[shard_id, shard_count]` of its IDENTIFY: which events it gets.
    pub shard: ShardKey,
}

impl GwSession {
    /// Appends a dispatch to the session with its next sequence number; returns the frame.
    fn push(&mut self, t: &str, d: &Value) -> Value {
        self.seq += 1;
        let frame = json!({"op": op::DISPATCH, "s": self.seq, "t": t, "d": d});
        self.log.push(frame.clone());
        frame
    }
}

#[derive(Default)]
pub(crate) struct GatewayState {
    /// Every frame the bot sent, parsed.
    pub frames: Vec<Value>,
    pub stats: GatewayStats,
    pub conns: HashMap<u64, mpsc::UnboundedSender<ConnCmd>>,
    /// By session id.
    pub sessions: HashMap<String, GwSession>,
    pub next_conn: u64,
    pub next_session: u64,
    pub no_heartbeat_ack: bool,
    /// Every IDENTIFY, in arrival order (see `shards.rs`).
    pub identifies: Vec<IdentifyRecord>,
}

impl GatewayState {
    /// Writes a dispatch into every session of the shard that owns `guild` (shard 0 for
    /// `None`: DMs and events of no guild), and to its socket if open. Returns the number of
    /// sockets written to.
    pub(crate) fn dispatch(&mut self, t: &str, d: &Value, guild: Option<u64>) -> usize {
        let mut sent = 0;
        for session in self
            .sessions
            .values_mut()
            .filter(|s| shards::owns(s.shard, guild))
        {
            let frame = session.push(t, d);
            if let Some(tx) = session.conn.and_then(|c| self.conns.get(&c)) {
                if tx.send(ConnCmd::Frame(frame.to_string())).is_ok() {
                    sent += 1;
                }
            }
        }
        sent
    }

    fn send_all(&self, cmd: impl Fn() -> ConnCmd) {
        for tx in self.conns.values() {
            let _ = tx.send(cmd());
        }
    }
}

fn control_frame(op: u64, d: Value) -> Value {
    json!({"op": op, "d": d, "s": null, "t": null})
}

impl FakeDiscord {
    /// True once the bot sent IDENTIFY and got READY (and the GUILD_CREATEs) within `timeout`.
    pub async fn wait_identified(&self, timeout: Duration) -> bool {
        self.wait_for_gateway(|s| s.identifies >= 1, timeout).await
    }

    pub fn gateway_stats(&self) -> GatewayStats {
        self.shared.state().gateway.stats.clone()
    }

    /// Wait until `pred` holds for the gateway counters, e.g. `|s| s.resumes >= 1`.
    pub async fn wait_for_gateway(
        &self,
        pred: impl Fn(&GatewayStats) -> bool,
        timeout: Duration,
    ) -> bool {
        self.wait_until(timeout, || pred(&self.gateway_stats()).then_some(()))
            .await
            .is_some()
    }

    /// Every frame the bot sent over the gateway (IDENTIFY, heartbeats, RESUME, ...), parsed.
    pub fn gateway_frames(&self) -> Vec<Value> {
        self.shared.state().gateway.frames.clone()
    }

    /// Send the dispatch `event_name` (op 0, `t`) with `data` (`d`) and the next `s` of each
    /// session of the shard that owns its guild (`guild_id`, a guild event's `id`, or the guild
    /// of the channel it names: `(guild_id >> 22) % shard_count`; DMs and events of no guild go
    /// to shard 0; an unsharded session gets everything). Sessions whose socket is gone but can still RESUME get it on resume (Discord
    /// replays missed events). Returns the number of open sockets it was written to (0 means
    /// the bot is not connected: call [`Self::wait_identified`] first).
    /// The fake also learns from it: DM channels, users, interaction tokens, messages, threads.
    pub async fn dispatch(&self, event_name: &str, data: Value) -> usize {
        let sent = {
            let mut state = self.shared.state();
            state.world.learn_dispatch(event_name, &data);
            let guild = guild_of_event(&state.world, event_name, &data);
            state.gateway.dispatch(event_name, &data, guild)
        };
        if sent == 0 {
            tracing::warn!("fake discord: {event_name} dispatched to no connected session");
        }
        self.shared.bump();
        sent
    }

    /// Send a raw frame (any op) to every open gateway socket.
    pub fn send_raw(&self, frame: Value) {
        let text = frame.to_string();
        self.shared
            .state()
            .gateway
            .send_all(|| ConnCmd::Frame(text.clone()));
    }

    /// op 7 RECONNECT: serenity reconnects and RESUMEs.
    pub fn send_reconnect(&self) {
        self.send_raw(control_frame(op::RECONNECT, Value::Null));
    }

    /// op 9 INVALID_SESSION. With `resumable = false` the sessions are forgotten, so the bot must
    /// IDENTIFY again (serenity waits up to 5 s between IDENTIFYs).
    pub fn send_invalid_session(&self, resumable: bool) {
        if !resumable {
            self.shared.state().gateway.sessions.clear();
        }
        self.send_raw(control_frame(op::INVALID_SESSION, json!(resumable)));
    }

    /// Close every gateway socket abruptly (no close frame), as a network failure would.
    pub fn drop_connections(&self) {
        self.shared.state().gateway.send_all(|| ConnCmd::Drop);
    }

    /// Close every gateway socket with a close frame (`4000` unknown error → resume,
    /// `4004` authentication failed → the client stops, `4009` session timed out → re-identify).
    pub fn close_connections(&self, code: u16, reason: &str) {
        let mut state = self.shared.state();
        if matches!(code, 4006 | 4009) {
            state.gateway.sessions.clear();
        }
        state
            .gateway
            .send_all(|| ConnCmd::Close(code, reason.to_string()));
    }

    /// Stop (false) or resume (true) answering heartbeats with op 11: serenity then reconnects
    /// at its next heartbeat (set a small `heartbeat_interval_ms`).
    pub fn set_ack_heartbeats(&self, ack: bool) {
        self.shared.state().gateway.no_heartbeat_ack = !ack;
    }
}

#[cfg(test)]
#[path = "shards_tests.rs"]
mod shards_tests;
