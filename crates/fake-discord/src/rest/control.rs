//! What a test reads of the REST calls, and the faults it makes Discord answer with.

use super::{Reply, RestState};
use crate::fake::FakeDiscord;
use crate::json::path_matches;
use crate::recording::RecordedRequest;
use serde_json::{json, Value};
use std::time::Duration;

/// A fault to answer instead of the normal behaviour (see `respond_with`).
pub(super) struct Injection {
    method: String,
    pattern: String,
    remaining: usize,
    status: u16,
    body: Value,
    /// Do the normal work first, then answer with `status`: a response lost on the way back.
    after: bool,
    /// Only requests whose JSON body contains this text.
    body_contains: Option<String>,
    /// Answer normally, but only after this long: a hung request.
    hang: Option<Duration>,
}

impl Injection {
    fn applies_to(&self, request: &RecordedRequest, raw_body: &str) -> bool {
        self.remaining > 0
            && (self.method == "*" || request.method.eq_ignore_ascii_case(&self.method))
            && path_matches(&self.pattern, &request.path)
            && self
                .body_contains
                .as_ref()
                .is_none_or(|needle| raw_body.contains(needle.as_str()))
    }
}

/// The answer of an injected fault to one call.
pub(super) struct Fault {
    pub reply: Reply,
    /// Carry the call out first (only the answer is lost).
    pub after: bool,
    /// Wait this long, then answer normally (`reply` is unused).
    pub hang: Option<Duration>,
}

impl RestState {
    fn inject(&mut self, injection: Injection) {
        self.injections.push(injection);
    }

    /// The fault that answers this call, if one is injected for it (it is then used up).
    pub(super) fn take_fault(&mut self, request: &RecordedRequest) -> Option<Fault> {
        let raw_body = request
            .body
            .as_ref()
            .map(|b| b.to_string())
            .unwrap_or_default();
        let i = self
            .injections
            .iter()
            .position(|i| i.applies_to(request, &raw_body))?;
        let injection = &mut self.injections[i];
        injection.remaining -= 1;
        let fault = Fault {
            reply: Reply {
                status: injection.status,
                body: Some(injection.body.clone()),
                location: None,
            },
            after: injection.after,
            hang: injection.hang,
        };
        if injection.remaining == 0 {
            self.injections.remove(i);
        }
        Some(fault)
    }
}

impl FakeDiscord {
    /// Every REST call so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.state().rest.requests.clone()
    }

    /// How many REST calls were recorded so far: keep it as a mark and look only at later calls
    /// with `r.seq >= mark` (`wait_for_request` also returns calls made before it was called).
    pub fn request_count(&self) -> usize {
        self.shared.state().rest.requests.len()
    }

    /// The calls with this method and path pattern (`*` = one segment).
    pub fn requests_matching(&self, method: &str, pattern: &str) -> Vec<RecordedRequest> {
        self.shared
            .state()
            .rest
            .requests
            .iter()
            .filter(|r| r.is(method, pattern))
            .cloned()
            .collect()
    }

    /// The first recorded call (already made or coming) for which `pred` holds, or `None` after
    /// `timeout`.
    pub async fn wait_for_request(
        &self,
        pred: impl Fn(&RecordedRequest) -> bool,
        timeout: Duration,
    ) -> Option<RecordedRequest> {
        self.wait_until(timeout, || self.requests().into_iter().find(|r| pred(r)))
            .await
    }

    /// Wait until `n` recorded calls match `pred`; returns those found (fewer on timeout).
    pub async fn wait_for_requests(
        &self,
        pred: impl Fn(&RecordedRequest) -> bool,
        n: usize,
        timeout: Duration,
    ) -> Vec<RecordedRequest> {
        let matching = || -> Vec<RecordedRequest> {
            self.requests().into_iter().filter(|r| pred(r)).collect()
        };
        let found = self
            .wait_until(timeout, || Some(matching()).filter(|m| m.len() >= n))
            .await;
        found.unwrap_or_else(matching)
    }

    /// Answer the next `times` calls matching `method` (`"*"` for any) and `pattern` with
    /// `status` and `body` instead of the normal behaviour (they are still recorded). For 429 a
    /// `Retry-After` header is added from `body.retry_after`. Example:
    /// `fake.respond_with("POST", "/channels/*/messages", 1, 500, json!({"message": "oops", "code": 0}))`
    pub fn respond_with(
        &self,
        method: &str,
        pattern: &str,
        times: usize,
        status: u16,
        body: Value,
    ) {
        self.inject(Injection {
            method: method.to_string(),
            pattern: pattern.to_string(),
            remaining: times,
            status,
            body,
            after: false,
            body_contains: None,
            hang: None,
        });
    }

    /// Like `respond_with`, but only for requests whose JSON body contains `body_contains`, and
    /// the request is carried out first (a message is created, say): only the answer is
    /// replaced, so the bot cannot tell that its request took effect.
    pub fn respond_after_doing(
        &self,
        method: &str,
        pattern: &str,
        body_contains: &str,
        times: usize,
        status: u16,
        body: Value,
    ) {
        self.inject(Injection {
            method: method.to_string(),
            pattern: pattern.to_string(),
            remaining: times,
            status,
            body,
            after: true,
            body_contains: Some(body_contains.to_string()),
            hang: None,
        });
    }

    /// Like `respond_with`, but only for requests whose JSON body contains `body_contains`
    /// (one message among others to the same channel).
    pub fn respond_to_body_with(
        &self,
        method: &str,
        pattern: &str,
        body_contains: &str,
        times: usize,
        status: u16,
        body: Value,
    ) {
        self.inject(Injection {
            method: method.to_string(),
            pattern: pattern.to_string(),
            remaining: times,
            status,
            body,
            after: false,
            body_contains: Some(body_contains.to_string()),
            hang: None,
        });
    }

    /// The next `times` calls matching `method`, `pattern` and `body_contains` hang for `hang`
    /// (as a Discord that does not answer), then are answered normally. The call is recorded
    /// once answered.
    pub fn hang(
        &self,
        method: &str,
        pattern: &str,
        body_contains: &str,
        times: usize,
        hang: Duration,
    ) {
        self.inject(Injection {
            method: method.to_string(),
            pattern: pattern.to_string(),
            remaining: times,
            status: 200,
            body: Value::Null,
            after: false,
            body_contains: Some(body_contains.to_string()),
            hang: Some(hang),
        });
    }

    fn inject(&self, injection: Injection) {
        self.shared.state().rest.inject(injection);
    }

    /// A 429 for the next `times` matching calls, with Discord's body (`retry_after` seconds).
    pub fn rate_limit(&self, method: &str, pattern: &str, times: usize, retry_after_s: f64) {
        let body = json!({"message": "You are being rate limited.", "retry_after": retry_after_s, "global": false});
        self.respond_with(method, pattern, times, 429, body);
    }
}
