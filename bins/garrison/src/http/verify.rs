//! `/verify*`: the web verification flow's pages and redirects. Each handler reads its query and the
//! flow's cookie, makes one call of the sign-in service, and answers a redirect or a page. HTML
//! pages, not JSON: a person's browser comes here, not a bot.

use actix_web::{
    HttpRequest, HttpResponse,
    cookie::{Cookie, SameSite, time::Duration as CookieDuration},
    http::StatusCode,
    web,
};
use garrison_core::roblox::signin::{FLOW_LIFETIME_MS, ProviderError, Purpose, SignInError, Step};
use garrison_pages::{Account, VerifyPage, render_verify, verify_content_security_policy_header};
use serde::Deserialize;

use super::AppState;

/// The cookie that binds a flow to the browser that started it.
const COOKIE: &str = "garrison_verify";
/// The longest `state` and `code` read (providers' are far shorter).
const PARAM_MAX: usize = 2048;

fn page(status: StatusCode, page: VerifyPage<'_>) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Content-Security-Policy", verify_content_security_policy_header()))
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .body(render_verify(page))
}

fn failed(status: StatusCode, message: &str) -> HttpResponse {
    page(status, VerifyPage::Failed { message, again: "/verify" })
}

fn cookie(state: &AppState, value: &str, max_age_secs: i64) -> Cookie<'static> {
    let mut cookie = Cookie::build(COOKIE, value.to_owned())
        .path("/verify")
        .http_only(true)
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::seconds(max_age_secs))
        .finish();
    cookie.set_secure(state.site.public_url.starts_with("https://"));
    cookie
}

/// The start page.
pub async fn start_page() -> HttpResponse {
    page(StatusCode::OK, VerifyPage::Start { start: "/verify/start", unlink: "/verify/unlink" })
}

fn error_page(err: &SignInError) -> HttpResponse {
    let status = match err {
        SignInError::StaleState | SignInError::Cancelled(_) => StatusCode::BAD_REQUEST,
        SignInError::Provider(ProviderError::Refused { .. }) => StatusCode::BAD_REQUEST,
        SignInError::Provider(ProviderError::NotConfigured { .. }) => StatusCode::SERVICE_UNAVAILABLE,
        SignInError::Provider(ProviderError::Unavailable { .. }) => StatusCode::BAD_GATEWAY,
        SignInError::Busy { retry_after_secs } => {
            let mut answer = failed(StatusCode::SERVICE_UNAVAILABLE, &err.to_string());
            if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&retry_after_secs.to_string()) {
                answer.headers_mut().insert(actix_web::http::header::RETRY_AFTER, value);
            }
            return answer;
        }
        _ => {
            tracing::error!(error = %err, "the verification flow failed");
            return failed(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong on our side. Please try again.");
        }
    };
    failed(status, &err.to_string())
}

async fn begin(state: web::Data<AppState>, purpose: Purpose) -> HttpResponse {
    match state.signin.start(purpose).await {
        Ok(started) => HttpResponse::Found()
            .insert_header(("Location", started.redirect))
            .insert_header(("Cache-Control", "no-store"))
            .cookie(cookie(&state, &started.browser_nonce, FLOW_LIFETIME_MS / 1000))
            .finish(),
        Err(err) => error_page(&err),
    }
}

/// `GET /verify/start`: off to Discord, to link.
pub async fn start(state: web::Data<AppState>) -> HttpResponse {
    begin(state, Purpose::Link).await
}

/// `GET /verify/unlink`: off to Discord, to remove one's own link.
pub async fn unlink(state: web::Data<AppState>) -> HttpResponse {
    begin(state, Purpose::Unlink).await
}

/// What a provider sends the browser back with.
#[derive(Debug, Deserialize)]
pub struct Returned {
    state: Option<String>,
    code: Option<String>,
}

enum Provider {
    Discord,
    Roblox,
}

async fn returned(state: web::Data<AppState>, req: HttpRequest, query: Returned, provider: Provider) -> HttpResponse {
    let Some(flow_state) = query.state.filter(|s| !s.is_empty() && s.len() <= PARAM_MAX) else {
        return error_page(&SignInError::StaleState);
    };
    let code = query.code.filter(|c| !c.is_empty() && c.len() <= PARAM_MAX);
    let nonce = req.cookie(COOKIE).map(|c| c.value().to_owned());
    let step = match provider {
        Provider::Discord => state.signin.discord_returned(&flow_state, code.as_deref(), nonce.as_deref()).await,
        Provider::Roblox => state.signin.roblox_returned(&flow_state, code.as_deref(), nonce.as_deref()).await,
    };
    let done = cookie(&state, "", 0);
    match step {
        Ok(Step::Redirect(to)) => {
            HttpResponse::Found().insert_header(("Location", to)).insert_header(("Cache-Control", "no-store")).finish()
        }
        Ok(Step::Linked { discord, roblox }) => {
            let (discord_id, roblox_id) = (discord.id.to_string(), roblox.id.to_string());
            let mut answer = page(
                StatusCode::OK,
                VerifyPage::Linked {
                    discord: Account { name: &discord.name, id: &discord_id },
                    roblox: Account { name: &roblox.name, id: &roblox_id },
                },
            );
            let _ = answer.add_cookie(&done);
            answer
        }
        Ok(Step::Unlinked { discord, roblox }) => {
            let (discord_id, roblox) = (discord.id.to_string(), roblox.map(|r| r.to_string()));
            let mut answer = page(
                StatusCode::OK,
                VerifyPage::Unlinked {
                    discord: Account { name: &discord.name, id: &discord_id },
                    roblox: roblox.as_deref(),
                },
            );
            let _ = answer.add_cookie(&done);
            answer
        }
        Err(err) => {
            let mut answer = error_page(&err);
            let _ = answer.add_cookie(&done);
            answer
        }
    }
}

/// `GET /verify/discord/callback`: Discord sent the browser back.
pub async fn discord_callback(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<Returned>,
) -> HttpResponse {
    returned(state, req, query.into_inner(), Provider::Discord).await
}

/// `GET /verify/roblox/callback`: Roblox sent the browser back.
pub async fn roblox_callback(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<Returned>,
) -> HttpResponse {
    returned(state, req, query.into_inner(), Provider::Roblox).await
}
