//! "Login with Discord": OAuth2's authorization code flow with a `state` (random, single use,
//! kept in the database and bound to the browser by a cookie), scopes `identify guilds`. Discord
//! says who the visitor is; what they may see is still decided on each request (`access`), so
//! the guild list OAuth2 returns only picks the guild to open first.

use super::session;
use super::texts::{self, Problem};
use super::{access, Web, WebError};
use crate::desk::dashboard::random_token;
use crate::domain::MINUTE;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;

const STATE_COOKIE: &str = "reactif_oauth_state";
/// Guilds of the visitor checked for the first page, at most (each check asks Discord).
const GUILDS_CHECKED: usize = 25;

/// Percent-encodes a query value.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn not_set_up() -> WebError {
    WebError::BadRequest(Problem::OAuthNotSetUp)
}

fn redirect_uri(web: &Web) -> Result<String, WebError> {
    let base = web.settings.public_url.as_deref().ok_or_else(not_set_up)?;
    Ok(format!("{base}/login/discord/callback"))
}

/// `GET /login/discord`: to Discord's consent page.
pub async fn start(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    Query(q): Query<session::LangQuery>,
) -> Result<Response, WebError> {
    let lang = texts::choose(q.lang.as_deref(), &headers);
    let app = web
        .settings
        .oauth
        .as_ref()
        .ok_or_else(|| not_set_up().in_lang(lang))?;
    let state = random_token();
    web.desk
        .store()
        .save_oauth_state(&state, web.clock.now() + 10 * MINUTE)
        .await?;
    let url = format!(
        "{}/oauth2/authorize?response_type=code&client_id={}&scope=identify%20guilds&state={state}&redirect_uri={}&prompt=none",
        web.settings.discord_base(),
        app.client_id,
        enc(&redirect_uri(&web)?)
    );
    let mut response = Redirect::to(&url).into_response();
    let secure = if web.settings.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{STATE_COOKIE}={state}; Path=/login/discord; HttpOnly; SameSite=Lax; Max-Age=600{secure}"
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(response)
}

#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /login/discord/callback?code=…&state=…`: trades the code, learns who the visitor is,
/// starts a session. Kept in one piece on purpose: each step is a check that ends the request,
/// and reading them in order is how the flow is reviewed.
pub async fn callback(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    Query(q): Query<Callback>,
) -> Result<Response, WebError> {
    let lang = texts::choose(None, &headers);
    sign_in(&web, &headers, q)
        .await
        .map_err(|e| e.in_lang(lang))
}

async fn sign_in(web: &Web, headers: &HeaderMap, q: Callback) -> Result<Response, WebError> {
    let app = web.settings.oauth.as_ref().ok_or_else(not_set_up)?;
    if let Some(e) = q.error {
        return Err(WebError::BadRequest(Problem::OAuthDenied(e)));
    }
    let (Some(code), Some(state)) = (q.code, q.state) else {
        return Err(WebError::BadRequest(Problem::OAuthNoCode));
    };
    let from_this_browser = session::cookie(headers, STATE_COOKIE) == Some(state.as_str());
    if !from_this_browser
        || !web
            .desk
            .store()
            .take_oauth_state(&state, web.clock.now())
            .await?
    {
        return Err(WebError::BadRequest(Problem::OAuthNotHere));
    }
    let base = web.settings.discord_base().to_string();
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(std::time::Duration::from_secs(10))
        .build()?;
    let redirect = redirect_uri(web)?;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect.as_str()),
        ("client_id", app.client_id.as_str()),
        ("client_secret", app.client_secret.expose()),
    ];
    let answer = http
        .post(format!("{base}/api/v10/oauth2/token"))
        .form(&form)
        .send()
        .await?;
    crate::observe::rest_call(answer.status().as_u16());
    if !answer.status().is_success() {
        return Err(WebError::BadRequest(Problem::OAuthRefused(
            answer.status().to_string(),
        )));
    }
    let token: Value = answer.json().await?;
    let bearer = token["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let read = |path: &'static str| {
        let (http, base, bearer) = (http.clone(), base.clone(), bearer.clone());
        async move {
            let r = http
                .get(format!("{base}/api/v10{path}"))
                .bearer_auth(bearer)
                .send()
                .await?;
            crate::observe::rest_call(r.status().as_u16());
            anyhow::Ok(r.error_for_status()?.json::<Value>().await?)
        }
    };
    let me = read("/users/@me").await?;
    let user = me["id"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("Discord's /users/@me has no id"))?
        .to_string();
    let guilds = read("/users/@me/guilds").await?;
    // Home is the first guild the user is staff of; failing that, the first whose community
    // team they are in, opened on the one page that team may see.
    let mut home = None;
    let mut community = None;
    for g in guilds.as_array().into_iter().flatten().take(GUILDS_CHECKED) {
        let Some(id) = g["id"].as_str() else { continue };
        if access::require_staff(web, id, &user).await.is_ok() {
            home = Some(id.to_string());
            break;
        }
        if community.is_none()
            && access::require(web, id, &user, access::Audience::StaffOrCommunity)
                .await
                .is_ok()
        {
            community = Some(id.to_string());
        }
    }
    let to = match (&home, &community) {
        (Some(g), _) => format!("/g/{g}"),
        (None, Some(g)) => format!("/g/{g}/engagement"),
        (None, None) => "/".to_string(),
    };
    let home = home.or(community);
    session::start(web, &user, home.as_deref(), &to).await
}
