//! Logging in and out. A one-time link (`/dashboard` in Discord) opens a confirmation page whose
//! button spends it (a link preview fetching the page spends nothing); spending it starts a
//! session: a random token in an HttpOnly, SameSite=Lax cookie (Secure behind https), of which
//! the database keeps only a hash, so that a session can be revoked (logging out) and a copy of
//! the database opens none.

use super::layout;
use super::texts::{self, Lang, Problem};
use super::{Web, WebError};
use crate::desk::dashboard::random_token;
use crate::domain::access_link::{self, LinkError};
use crate::domain::{Millis, HOUR};
use crate::store::WebSession;
use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;
use std::sync::Arc;

pub const COOKIE: &str = "reactif_session";
/// How long a session lasts: a working day.
pub const SESSION_LIFETIME: Millis = 12 * HOUR;

/// The value of cookie `name` in the request.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The live session of the request, or `LoggedOut`.
pub async fn current(web: &Web, headers: &HeaderMap) -> Result<WebSession, WebError> {
    let Some(token) = cookie(headers, COOKIE) else {
        return Err(WebError::LoggedOut);
    };
    web.desk
        .store()
        .live_session(&access_link::token_hash(token), web.clock.now())
        .await?
        .ok_or(WebError::LoggedOut)
}

/// The `Set-Cookie` value carrying `token` (or clearing the cookie when `None`).
fn set_cookie(web: &Web, token: Option<&str>) -> HeaderValue {
    let secure = if web.settings.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    let value = match token {
        Some(t) => format!(
            "{COOKIE}={t}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
            SESSION_LIFETIME / 1000
        ),
        None => format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"),
    };
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Starts a session for `user_id` and answers with its cookie and a redirect to `to`.
pub async fn start(
    web: &Web,
    user_id: &str,
    home_guild: Option<&str>,
    to: &str,
) -> Result<Response, WebError> {
    let token = random_token();
    let now = web.clock.now();
    web.desk
        .store()
        .create_session(&WebSession {
            token_hash: access_link::token_hash(&token),
            user_id: user_id.to_string(),
            home_guild: home_guild.map(str::to_string),
            created_ms: now,
            expires_ms: now + SESSION_LIFETIME,
        })
        .await?;
    let mut response = Redirect::to(to).into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, set_cookie(web, Some(&token)));
    Ok(response)
}

#[derive(Deserialize)]
pub struct LangQuery {
    pub lang: Option<String>,
}

/// `/`: the guild of the session, or how to log in.
pub async fn home(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Result<Response, WebError> {
    let t = texts::pick(Some(texts::choose(q.lang.as_deref(), &headers)));
    if let Ok(s) = current(&web, &headers).await {
        if let Some(g) = s.home_guild {
            // The community team's home is the engagement page, the one it may see.
            let staff = super::access::require_staff(&web, &g, &s.user_id)
                .await
                .is_ok();
            let lang = texts::keep(q.lang.as_deref());
            let to = if staff {
                format!("/g/{g}{lang}")
            } else {
                format!("/g/{g}/engagement{lang}")
            };
            return Ok(Redirect::to(&to).into_response());
        }
        let body = html! { h1 { (t.title) } p.card { (t.no_guild) } };
        return Ok(layout::app_page(t, t.title, body));
    }
    let body = html! {
        h1 { (t.title) }
        p { (t.login_intro) }
        @if web.settings.oauth.is_some() {
            p { a.button href=(format!("/login/discord{}", texts::keep(q.lang.as_deref()))) { (t.login_discord) } }
        }
        p { (t.login_with_command) }
    };
    Ok(layout::page(t, t.title, body).into_response())
}

#[derive(Deserialize)]
pub struct LinkForm {
    t: String,
    /// The page's language, kept from the link's page to its button.
    #[serde(default)]
    lang: Option<String>,
}

/// `GET /login/link?t=…`: a page whose button spends the link (GET changes nothing).
pub async fn link_page(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    Query(q): Query<LinkForm>,
) -> Result<Response, WebError> {
    let guess = texts::choose(q.lang.as_deref(), &headers);
    let claims = access_link::verify(&web.link_key, &q.t, web.clock.now())
        .map_err(|e| link_error(e).in_lang(guess))?;
    // The link names its guild: its people read the guild's language.
    let rules = web.desk.store().guild_rules(&claims.guild_id).await?;
    let lang = Lang::parse(q.lang.as_deref()).unwrap_or(Lang::of(rules.locale));
    let t = texts::pick(Some(lang));
    let body = html! {
        h1 { (t.title) }
        form method="post" action="/login/link" {
            input type="hidden" name="t" value=(q.t);
            input type="hidden" name="lang" value=(lang.code());
            button type="submit" { (t.open_dashboard) }
        }
    };
    Ok(layout::page(t, t.title, body).into_response())
}

fn link_error(e: LinkError) -> WebError {
    WebError::BadRequest(match e {
        LinkError::Invalid => Problem::LinkInvalid,
        LinkError::Expired => Problem::LinkExpired,
    })
}

/// `POST /login/link`: spends the link (once) and starts a session.
pub async fn link_login(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    Form(f): Form<LinkForm>,
) -> Result<Response, WebError> {
    let lang = texts::choose(f.lang.as_deref(), &headers);
    spend_link(&web, &f).await.map_err(|e| e.in_lang(lang))
}

async fn spend_link(web: &Web, f: &LinkForm) -> Result<Response, WebError> {
    let now = web.clock.now();
    let claims = access_link::verify(&web.link_key, &f.t, now).map_err(link_error)?;
    if !web
        .desk
        .store()
        .use_link(&claims.nonce, claims.expires_ms, now)
        .await?
    {
        return Err(WebError::BadRequest(Problem::LinkUsed));
    }
    let to = format!("/g/{}", claims.guild_id);
    start(web, &claims.user_id, Some(&claims.guild_id), &to).await
}

/// `POST /logout`: revokes the session and clears the cookie.
pub async fn logout(State(web): State<Arc<Web>>, headers: HeaderMap) -> Result<Response, WebError> {
    if let Some(token) = cookie(&headers, COOKIE) {
        web.desk
            .store()
            .revoke_session(&access_link::token_hash(token), web.clock.now())
            .await?;
    }
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, set_cookie(&web, None));
    Ok(response)
}
