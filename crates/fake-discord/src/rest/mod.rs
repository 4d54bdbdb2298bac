//! The REST side: every call is recorded, then answered by an injected fault (see
//! [`crate::FakeDiscord::respond_with`]) or by the first route of the tables below whose method and
//! path pattern match; calls no route knows get what Discord answers in general (`fallback`).
//!
//! To add an endpoint: write its handler (`fn(&mut Call) -> Reply`) in the module of its
//! resource and add a [`Route`] to that module's `ROUTES`; a new resource gets a module and a
//! line in [`TABLES`]. Patterns are paths without `/api/v10`, with `{name}` for one segment
//! (read with [`Call::param`] or [`Call::id`]) and a final `**` for any rest ([`Call::rest`]).

mod app;
mod channels;
mod commands;
mod control;
mod guilds;
mod interactions;
mod messages;
mod oauth;
mod parse;
mod users;

use crate::fake::Shared;
use crate::json::discord_error;
use crate::recording::RecordedRequest;
use crate::world::World;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use std::sync::Arc;

/// The route tables, tried in this order (the first match answers).
const TABLES: &[&[Route]] = &[
    app::ROUTES,
    oauth::USER_ROUTES,
    users::ROUTES,
    commands::ROUTES,
    channels::ROUTES,
    messages::ROUTES,
    guilds::ROUTES,
    interactions::ROUTES,
    oauth::ROUTES,
];

/// One endpoint: a method (`"*"` for any), a path pattern, and its handler.
pub(crate) struct Route {
    method: &'static str,
    pattern: &'static str,
    handler: fn(&mut Call<'_>) -> Reply,
}

impl Route {
    pub(crate) const fn new(
        method: &'static str,
        pattern: &'static str,
        handler: fn(&mut Call<'_>) -> Reply,
    ) -> Route {
        Route {
            method,
            pattern,
            handler,
        }
    }

    /// The `{name}` segments and the `**` rest of `path`, if it matches the pattern.
    fn matches<'p>(&self, path: &'p str) -> Option<Matched<'p>> {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let mut params = Vec::new();
        for (i, p) in self.pattern.trim_matches('/').split('/').enumerate() {
            if p == "**" {
                let rest = segments.get(i..).unwrap_or_default().to_vec();
                return Some(Matched { params, rest });
            }
            let segment = *segments.get(i)?;
            match p.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(name) => params.push((name, segment)),
                None if p == segment => {}
                None => return None,
            }
        }
        let pattern_len = self.pattern.trim_matches('/').split('/').count();
        (pattern_len == segments.len()).then_some(Matched {
            params,
            rest: Vec::new(),
        })
    }
}

/// The parts of a path that a route's pattern leaves open.
struct Matched<'p> {
    /// `{name}` → segment.
    params: Vec<(&'static str, &'p str)>,
    /// What a final `**` matched.
    rest: Vec<&'p str>,
}

/// A REST call being answered: the request, the path's parts, the world to read and change,
/// and the gateway events the call causes (sent only with `FakeConfig::echo_bot_events`).
pub(crate) struct Call<'a> {
    pub shared: &'a Shared,
    pub world: &'a mut World,
    pub request: &'a RecordedRequest,
    params: Vec<(&'static str, &'a str)>,
    /// What the pattern's final `**` matched.
    pub rest: Vec<&'a str>,
    echoes: &'a mut Vec<(&'static str, Value)>,
}

impl Call<'_> {
    /// The path segment the route's pattern names `{name}`.
    pub fn param(&self, name: &str) -> &str {
        self.params
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
            .unwrap_or_else(|| panic!("route pattern without {{{name}}}"))
    }

    /// The `{name}` segment as an id (0 when it is not a number, as no Discord id is).
    pub fn id(&self, name: &str) -> u64 {
        self.param(name).parse().unwrap_or(0)
    }

    /// The request's JSON body (`Null` when it has none).
    pub fn body(&self) -> Value {
        self.request.body.clone().unwrap_or(Value::Null)
    }

    pub fn method(&self) -> &str {
        &self.request.method
    }

    /// Queues a gateway event that Discord would send because of this call.
    pub fn echo(&mut self, event_name: &'static str, data: Value) {
        self.echoes.push((event_name, data));
    }
}

/// What a route answers.
pub(crate) struct Reply {
    pub status: u16,
    pub body: Option<Value>,
    /// A redirect's `Location` (OAuth2's authorize).
    pub location: Option<String>,
}

impl Reply {
    pub fn ok(body: Value) -> Reply {
        Reply {
            status: 200,
            body: Some(body),
            location: None,
        }
    }
    pub fn no_content() -> Reply {
        Reply {
            status: 204,
            body: None,
            location: None,
        }
    }
    pub fn not_found(message: &str, code: u32) -> Reply {
        Reply {
            status: 404,
            body: Some(discord_error(message, code)),
            location: None,
        }
    }
    pub fn bad_request(message: &str, code: u32) -> Reply {
        Reply {
            status: 400,
            body: Some(discord_error(message, code)),
            location: None,
        }
    }
}

#[derive(Default)]
pub(crate) struct RestState {
    /// Every call, in arrival order.
    pub requests: Vec<RecordedRequest>,
    injections: Vec<control::Injection>,
}

/// Answers a call with the first matching route (no injection). Mutates the world; what
/// Discord would then dispatch goes to `echoes`.
fn route(
    shared: &Shared,
    world: &mut World,
    request: &RecordedRequest,
    echoes: &mut Vec<(&'static str, Value)>,
) -> Reply {
    for route in TABLES.iter().flat_map(|t| t.iter()) {
        if route.method != "*" && !request.method.eq_ignore_ascii_case(route.method) {
            continue;
        }
        if let Some(Matched { params, rest }) = route.matches(&request.path) {
            let mut call = Call {
                shared,
                world,
                request,
                params,
                rest,
                echoes,
            };
            return (route.handler)(&mut call);
        }
    }
    fallback(request)
}

/// Calls no route knows: writes succeed quietly, lists are empty, objects are empty.
fn fallback(request: &RecordedRequest) -> Reply {
    let last = request
        .path
        .trim_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("");
    match request.method.as_str() {
        "PUT" | "DELETE" => Reply::no_content(),
        "POST" if request.is("POST", "/channels/*/typing") => Reply::no_content(),
        "GET" if last.ends_with('s') && last.parse::<u64>().is_err() => Reply::ok(json!([])),
        _ => Reply::ok(json!({})),
    }
}

/// The axum handler of every path but `/ws`.
pub(crate) async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let full = uri.path().to_string();
    let path = full
        .strip_prefix("/api/v10")
        .map(str::to_string)
        .unwrap_or(full);
    let (json_body, attachments) = parse::parse_body(&headers, &body);
    let mut rec = RecordedRequest {
        seq: 0,
        method: method.as_str().to_string(),
        path,
        query: parse::parse_query(uri.query()),
        body: json_body,
        attachments,
        authorization: headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        status: 0,
        response: Value::Null,
    };
    let mut echoes = Vec::new();
    let fault = shared.state().rest.take_fault(&rec);
    let fault = match fault {
        Some(f) if f.hang.is_some() => {
            tokio::time::sleep(f.hang.unwrap_or_default()).await;
            None
        }
        other => other,
    };
    let reply = {
        let mut state = shared.state();
        let state = &mut *state;
        let reply = match fault {
            Some(fault) => {
                if fault.after {
                    let _ = route(&shared, &mut state.world, &rec, &mut echoes);
                }
                fault.reply
            }
            None => route(&shared, &mut state.world, &rec, &mut echoes),
        };
        rec.seq = state.rest.requests.len();
        rec.status = reply.status;
        rec.response = reply.body.clone().unwrap_or(Value::Null);
        tracing::debug!(
            "fake discord: {} {} -> {}",
            rec.method,
            rec.path,
            rec.status
        );
        state.rest.requests.push(rec);
        if shared.config.echo_bot_events {
            for (t, d) in &echoes {
                state.world.learn_dispatch(t, d);
                let guild = crate::gateway::guild_of_event(&state.world, t, d);
                state.gateway.dispatch(t, d, guild);
            }
        }
        reply
    };
    shared.bump();
    into_response(reply)
}

fn into_response(reply: Reply) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let retry_after = retry_after_header(&reply.body);
    if let Some(to) = &reply.location {
        let mut response = StatusCode::FOUND.into_response();
        if let Ok(v) = HeaderValue::from_str(to) {
            response.headers_mut().insert(header::LOCATION, v);
        }
        return response;
    }
    let mut response = match reply.body {
        Some(body) if status != StatusCode::NO_CONTENT => {
            (status, axum::Json(body)).into_response()
        }
        _ => status.into_response(),
    };
    if status == StatusCode::TOO_MANY_REQUESTS {
        if let Ok(v) = HeaderValue::from_str(&retry_after) {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    response
}

fn retry_after_header(body: &Option<Value>) -> String {
    body.as_ref()
        .and_then(|b| b.get("retry_after"))
        .and_then(Value::as_f64)
        .map(|s| s.ceil().to_string())
        .unwrap_or_else(|| "1".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nothing(_: &mut Call<'_>) -> Reply {
        Reply::no_content()
    }

    #[test]
    fn patterns_name_segments_and_take_the_rest() {
        let r = Route::new("GET", "/channels/{channel}/messages/{message}", nothing);
        let m = r.matches("/channels/12/messages/34").unwrap();
        assert_eq!(m.params, [("channel", "12"), ("message", "34")]);
        assert!(m.rest.is_empty());
        assert!(r.matches("/channels/12/messages").is_none());
        assert!(r.matches("/channels/12/messages/34/threads").is_none());
        let r = Route::new("*", "/applications/{app}/commands/**", nothing);
        assert!(r
            .matches("/applications/1/commands")
            .unwrap()
            .rest
            .is_empty());
        assert_eq!(r.matches("/applications/1/commands/9").unwrap().rest, ["9"]);
        assert!(r.matches("/applications/1/guilds/2/commands").is_none());
    }
}
