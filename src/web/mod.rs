//! The dashboard (axum, HTML from maud, no JavaScript needed) and the operators' endpoints.
//!
//! ```text
//! request ─> session (cookie → a live session in the database) ─> access (the /stats rule,
//!            asked of Discord with the bot's token on every request) ─> page (desk → report → HTML)
//! ```
//!
//! - `session`: the one-time links of `/dashboard`, the session cookie, logging out.
//! - `access`: who may see a guild: an agent role (the guild's `/setup`) or Manage Server.
//! - `overview`, `csv`: the pages and files, one file each; `layout`, `texts` what they share.
//! - `ops`: `/metrics` and `/healthz`.
//!
//! It is an edge, like `discord`: it calls the desk and the store, never the bot.

pub mod access;
mod agents;
mod charts;
mod conversation;
mod csv;
mod engagement;
mod figures;
mod layout;
mod oauth;
pub mod ops;
mod overview;
mod period;
mod satisfaction;
pub mod session;
pub mod settings;
mod texts;

use crate::clock::Clock;
use crate::desk::Desk;
use crate::observe::Health;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;

pub use access::{DemoMembers, DiscordMembers, Members, Membership};
pub use settings::WebSettings;

/// What every request shares.
pub struct Web {
    pub desk: Desk,
    pub clock: Arc<dyn Clock>,
    pub members: Arc<dyn Members>,
    pub settings: WebSettings,
    /// The bot's gateway state, when this process runs the bot.
    pub health: Option<Arc<Health>>,
    /// The key of the one-time links (shared through the database).
    pub link_key: Vec<u8>,
}

impl Web {
    pub async fn new(
        desk: Desk,
        clock: Arc<dyn Clock>,
        members: Arc<dyn Members>,
        settings: WebSettings,
        health: Option<Arc<Health>>,
    ) -> anyhow::Result<Arc<Web>> {
        let link_key = desk.dashboard_key(clock.now()).await?;
        Ok(Arc::new(Web {
            desk,
            clock,
            members,
            settings,
            health,
            link_key,
        }))
    }
}

/// The dashboard's routes; with `/metrics` and `/healthz` unless they are served apart.
pub fn router(web: Arc<Web>) -> Router {
    let mut router = Router::new()
        .route("/", get(session::home))
        .route(
            "/login/link",
            get(session::link_page).post(session::link_login),
        )
        .route("/logout", post(session::logout))
        .route("/login/discord", get(oauth::start))
        .route("/login/discord/callback", get(oauth::callback))
        .route("/g/{guild}", get(overview::page))
        .route("/g/{guild}/requests.csv", get(csv::download))
        .route("/g/{guild}/satisfaction", get(satisfaction::page))
        .route("/g/{guild}/engagement", get(engagement::page))
        .route("/g/{guild}/agents/{agent}", get(agents::page))
        .route("/g/{guild}/c/{key}", get(conversation::page))
        .route("/assets/app.css", get(layout::stylesheet));
    if web.settings.metrics_addr.is_none() {
        router = router.merge(ops::routes());
    }
    router.with_state(web)
}

/// `/metrics` and `/healthz` alone, for `METRICS_ADDR`.
pub fn ops_router(web: Arc<Web>) -> Router {
    ops::routes().with_state(web)
}

/// Why a request gets no page. The one place an error becomes an answer.
#[derive(Debug)]
pub enum WebError {
    /// No live session: to the login page.
    LoggedOut,
    /// Logged in, but not staff of that guild (or not a member).
    Forbidden,
    /// No such conversation or agent.
    NotFound,
    /// A request that cannot be read, with what to write instead.
    BadRequest(texts::Problem),
    Internal(anyhow::Error),
    /// Any of the others, said in this language.
    In(texts::Lang, Box<WebError>),
}

impl WebError {
    /// This error said in `lang` (a language chosen earlier stays).
    pub fn in_lang(self, lang: texts::Lang) -> WebError {
        match self {
            WebError::In(..) => self,
            e => WebError::In(lang, Box::new(e)),
        }
    }
}

impl<E: Into<anyhow::Error>> From<E> for WebError {
    fn from(e: E) -> Self {
        WebError::Internal(e.into())
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (t, error) = match self {
            WebError::In(lang, e) => (texts::pick(Some(lang)), *e),
            e => (texts::EN, e),
        };
        match error {
            WebError::LoggedOut => Redirect::to("/").into_response(),
            WebError::Forbidden => layout::message(StatusCode::FORBIDDEN, t, t.forbidden),
            WebError::NotFound => layout::message(StatusCode::NOT_FOUND, t, t.not_found),
            WebError::BadRequest(why) => layout::message(StatusCode::BAD_REQUEST, t, why.say(t)),
            // Never nested: `in_lang` keeps the first language.
            WebError::In(_, e) => e.into_response(),
            WebError::Internal(e) => {
                crate::observe::database_error(&e);
                tracing::error!(error = %format!("{e:#}"), "dashboard request failed");
                layout::message(StatusCode::INTERNAL_SERVER_ERROR, t, t.internal)
            }
        }
    }
}
