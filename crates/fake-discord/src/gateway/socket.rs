//! One gateway socket: HELLO, then the bot's frames answered (IDENTIFY with READY and the
//! GUILD_CREATEs, RESUME with the missed dispatches and RESUMED, heartbeats with their ACK)
//! while the test's commands (frames to send, close, drop) are carried out.

use super::shards::{owns, shard_of_identify, IdentifyRecord};
use super::{control_frame, op, ConnCmd, GatewayState, GwSession};
use crate::fake::Shared;
use crate::json::field_id;
use crate::payloads::app::ready_json;
use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use serde_json::{json, Value};
use std::sync::Arc;
use tokio::sync::mpsc;

pub(crate) async fn upgrade(State(shared): State<Arc<Shared>>, ws: WebSocketUpgrade) -> Response {
    ws.max_message_size(64 << 20)
        .on_upgrade(move |socket| connection(shared, socket))
}

async fn connection(shared: Arc<Shared>, mut socket: WebSocket) {
    let (tx, mut rx) = mpsc::unbounded_channel::<ConnCmd>();
    let conn_id = {
        let gw = &mut shared.state().gateway;
        gw.next_conn += 1;
        let id = gw.next_conn;
        gw.conns.insert(id, tx.clone());
        gw.stats.connections_total += 1;
        gw.stats.connected += 1;
        id
    };
    shared.bump();
    tracing::debug!("fake discord: gateway connection {conn_id} opened");
    let hello = control_frame(
        op::HELLO,
        json!({"heartbeat_interval": shared.config.heartbeat_interval_ms}),
    );
    let mut open = socket
        .send(WsMessage::Text(hello.to_string().into()))
        .await
        .is_ok();
    let mut closed_by_bot = false;
    while open {
        tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(WsMessage::Text(text))) => match serde_json::from_str::<Value>(text.as_str()) {
                    Ok(frame) => on_client_frame(&shared, conn_id, &tx, frame),
                    Err(e) => tracing::warn!("fake discord: unparsable gateway frame {e}: {}", text.as_str()),
                },
                Some(Ok(WsMessage::Close(_))) => {
                    closed_by_bot = true;
                    open = false;
                }
                Some(Err(_)) | None => open = false,
                Some(Ok(_)) => {}
            },
            cmd = rx.recv() => match cmd {
                Some(ConnCmd::Frame(text)) => {
                    open = socket.send(WsMessage::Text(text.into())).await.is_ok();
                }
                Some(ConnCmd::Close(code, reason)) => {
                    let frame = CloseFrame { code, reason: reason.into() };
                    let _ = socket.send(WsMessage::Close(Some(frame))).await;
                    open = false;
                }
                Some(ConnCmd::Drop) | None => open = false,
            },
        }
    }
    drop(socket);
    {
        let gw = &mut shared.state().gateway;
        gw.conns.remove(&conn_id);
        gw.stats.connected -= 1;
        if closed_by_bot {
            gw.stats.closed_by_bot += 1;
        }
        for session in gw.sessions.values_mut() {
            if session.conn == Some(conn_id) {
                session.conn = None;
            }
        }
    }
    shared.bump();
    tracing::debug!("fake discord: gateway connection {conn_id} closed");
}

fn send_frame(tx: &mpsc::UnboundedSender<ConnCmd>, frame: &Value) {
    let _ = tx.send(ConnCmd::Frame(frame.to_string()));
}

fn on_client_frame(
    shared: &Shared,
    conn_id: u64,
    tx: &mpsc::UnboundedSender<ConnCmd>,
    frame: Value,
) {
    {
        let gw = &mut shared.state().gateway;
        gw.frames.push(frame.clone());
        match frame.get("op").and_then(Value::as_u64) {
            Some(op::HEARTBEAT) => {
                gw.stats.heartbeats += 1;
                if !gw.no_heartbeat_ack {
                    send_frame(tx, &control_frame(op::HEARTBEAT_ACK, Value::Null));
                }
            }
            Some(op::IDENTIFY) => identify(
                shared,
                gw,
                conn_id,
                tx,
                frame.get("d").unwrap_or(&Value::Null),
            ),
            Some(op::RESUME) => resume(gw, conn_id, tx, frame.get("d").unwrap_or(&Value::Null)),
            _ => {}
        }
    }
    shared.bump();
}

/// A new session: READY (with the shard, listing only the guilds it owns), then a
/// GUILD_CREATE for each of them. The IDENTIFY is recorded with its bucket and timing.
fn identify(
    shared: &Shared,
    gw: &mut GatewayState,
    conn_id: u64,
    tx: &mpsc::UnboundedSender<ConnCmd>,
    d: &Value,
) {
    let shard = shard_of_identify(d);
    // A new IDENTIFY abandons the sessions of its shard nobody is connected to (another
    // process's shards keep theirs, to RESUME).
    gw.sessions
        .retain(|_, s| s.conn.is_some() || s.shard != shard);
    gw.next_session += 1;
    let session_id = format!("fake-session-{}", gw.next_session);
    let guilds: Vec<&Value> = shared
        .config
        .guilds
        .iter()
        .filter(|g| owns(shard, field_id(g, "id")))
        .collect();
    let guild_ids: Vec<u64> = guilds.iter().filter_map(|g| field_id(g, "id")).collect();
    let mut session = GwSession {
        seq: 0,
        log: Vec::new(),
        conn: Some(conn_id),
        shard,
    };
    let ready = ready_json(shared.port, &guild_ids, &session_id, shard);
    send_frame(tx, &session.push("READY", &ready));
    for guild in guilds {
        send_frame(tx, &session.push("GUILD_CREATE", guild));
    }
    record_identify(shared, gw, conn_id, shard, &session_id);
    gw.sessions.insert(session_id, session);
    gw.stats.identifies += 1;
}

fn record_identify(
    shared: &Shared,
    gw: &mut GatewayState,
    conn: u64,
    shard: [u64; 2],
    session_id: &str,
) {
    let at_ms = u64::try_from(shared.started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let bucket = shard[0] % shared.config.max_concurrency.max(1);
    let after_previous_ms = gw
        .identifies
        .iter()
        .rev()
        .find(|r| r.bucket == bucket)
        .map(|r| at_ms.saturating_sub(r.at_ms));
    let too_soon = after_previous_ms.is_some_and(|ms| ms < shared.config.identify_interval_ms);
    if too_soon {
        tracing::warn!(
            "fake discord: IDENTIFY of shard {shard:?} {after_previous_ms:?} ms after another of bucket {bucket}"
        );
    }
    gw.identifies.push(IdentifyRecord {
        seq: gw.identifies.len(),
        conn,
        shard,
        bucket,
        at_ms,
        after_previous_ms,
        too_soon,
        session_id: session_id.to_string(),
    });
}

/// A known session comes back: the dispatches it missed, then RESUMED. An unknown one gets
/// INVALID_SESSION (not resumable), so the bot identifies again.
fn resume(gw: &mut GatewayState, conn_id: u64, tx: &mpsc::UnboundedSender<ConnCmd>, d: &Value) {
    let session_id = d.get("session_id").and_then(Value::as_str).unwrap_or("");
    let client_seq = d.get("seq").and_then(Value::as_u64).unwrap_or(0);
    let Some(session) = gw.sessions.get_mut(session_id) else {
        send_frame(tx, &control_frame(op::INVALID_SESSION, json!(false)));
        return;
    };
    session.conn = Some(conn_id);
    for missed in session
        .log
        .iter()
        .filter(|f| f["s"].as_u64().unwrap_or(0) > client_seq)
    {
        send_frame(tx, missed);
    }
    send_frame(tx, &session.push("RESUMED", &json!({})));
    gw.stats.resumes += 1;
}
