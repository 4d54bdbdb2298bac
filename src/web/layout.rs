//! What every page shares: the HTML shell, the stylesheet (compiled into the binary), the
//! error page.

use super::texts::WebTexts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, Render, DOCTYPE};

const CSS: &str = include_str!("../../assets/web/app.css");

pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CSS,
    )
        .into_response()
}

/// A whole page: `title`, the header (with logging out once logged in), `body`.
pub fn page(t: &WebTexts, title: &str, body: Markup) -> Response {
    shell(t, title, false, body)
}

/// A page of a logged-in user.
pub fn app_page(t: &WebTexts, title: &str, body: Markup) -> Response {
    shell(t, title, true, body)
}

fn shell(t: &WebTexts, title: &str, logged_in: bool, body: Markup) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang=(t.lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                link rel="stylesheet" href="/assets/app.css";
            }
            body {
                header {
                    span.brand { (t.title) }
                    @if logged_in {
                        form method="post" action="/logout" {
                            button type="submit" { (t.logout) }
                        }
                    }
                }
                main { (body) }
            }
        }
    };
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            // Figures are personal to who asked, and change: never cached by a proxy.
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        markup.into_string(),
    )
        .into_response()
}

/// A page with one sentence, for errors; back home in the page's language.
pub fn message(status: StatusCode, t: &WebTexts, text: impl Render) -> Response {
    let home = format!("/?lang={}", t.lang.code());
    let mut r = page(
        t,
        t.title,
        html! { p.card { (text) } p { a href=(home) { "← " (t.back) } } },
    );
    *r.status_mut() = status;
    r
}
