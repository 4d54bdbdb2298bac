//! The operators' endpoints: `/metrics` (the Prometheus text format, rendered by
//! `metrics-exporter-prometheus` from what `crate::observe` records) and `/healthz`.

use super::Web;
use crate::observe;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::{Arc, OnceLock};

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process's metrics recorder (once: it is global, as `metrics` wants) and returns
/// its handle; `None` if another recorder was installed first.
pub fn recorder() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let built = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full(observe::REPORT_SECONDS.into()),
                    observe::REPORT_BUCKETS,
                )
                .and_then(|b| b.install_recorder());
            match built {
                Ok(handle) => {
                    observe::describe();
                    Some(handle)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot install the metrics recorder: /metrics stays empty");
                    None
                }
            }
        })
        .as_ref()
}

pub fn routes() -> Router<Arc<Web>> {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
}

async fn metrics(State(web): State<Arc<Web>>) -> Response {
    // The backlog is read from the database at each scrape: it is what the outbox holds, whichever
    // process queued it.
    match web.desk.store().outbox_backlog(None).await {
        Ok(b) => observe::outbox(b.pending, b.oldest.map(|o| web.clock.now() - o)),
        Err(e) => observe::database_error(&e.into()),
    }
    let body = recorder().map(|h| h.render()).unwrap_or_default();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// 200 when the database answers and (in `reactif run`) the gateway is connected; 503 with what
/// fails otherwise. The body is JSON for scripts and people alike.
async fn healthz(State(web): State<Arc<Web>>) -> Response {
    let database = match web.desk.store().count_events(Some("healthz")).await {
        Ok(_) => Ok(()),
        Err(e) => {
            let e = anyhow::Error::from(e);
            observe::database_error(&e);
            Err(format!("{e:#}"))
        }
    };
    let gateway = web.health.as_ref().map(|h| h.gateway_connected());
    let ok = database.is_ok() && gateway != Some(false);
    let body = serde_json::json!({
        "status": if ok { "ok" } else { "failing" },
        "database": match &database { Ok(()) => "reachable".to_string(), Err(e) => e.clone() },
        "gateway": match gateway {
            None => "not run by this process",
            Some(true) => "connected",
            Some(false) => "disconnected",
        },
    });
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body)).into_response()
}
