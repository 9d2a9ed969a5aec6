//! Identity (身份认证): login with rate limiting, session cookies for browsers, bearer tokens
//! for machines, logout, and the [`Caller`] extractor every handler uses.
//!
//! Sessions live in the database (only a SHA-256 of the secret), so any server process
//! behind a load balancer recognises any session. Each process keeps the sessions it has
//! recently read ([`SessionCache`]) so that a busy client costs no query per request.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use axum::extract::{FromRef, FromRequestParts, State};
use axum::http::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{Duration, Utc};
use serde::{Deserialize, Serialize};
use zhili_core::audit::{audit_time, Actor};
use zhili_core::model::{Locale, Session, User};
use zhili_core::password;
use zhili_core::policy::Principal;
use zhili_core::store::{Change, ChangeStream, StoreError};
use zhili_core::ErrorCode;

use crate::error::{AppError, AppResult};
use crate::extract::{ApiJson, ClientIp};
use crate::views::UserView;
use crate::AppState;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "zhili_session";
/// Name of the cookie that carries the language for visitors who are not logged in.
pub const LOCALE_COOKIE: &str = "zhili_locale";
/// Name of the double-submit cookie that protects the login form.
pub const LOGIN_CSRF_COOKIE: &str = "zhili_login_csrf";

/// How a caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// Not at all: the anonymous public.
    Anonymous,
    /// A browser session cookie.
    Cookie,
    /// An `Authorization: Bearer` token.
    Bearer,
}

/// Who is calling, resolved once per request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The principal the policy decides on.
    pub principal: Principal,
    /// The user, when logged in.
    pub user: Option<User>,
    /// The session, when logged in.
    pub session: Option<Session>,
    /// How.
    pub via: Via,
    /// From where.
    pub ip: String,
    /// The UI language: the user's setting, else the cookie, else Accept-Language.
    pub locale: Locale,
}

impl Caller {
    /// The audit actor for this caller.
    pub fn actor(&self) -> Actor {
        Actor::of(&self.principal, Some(self.ip.clone()))
    }
    /// The logged-in user, or 401.
    pub fn require_user(&self) -> AppResult<&User> {
        self.user.as_ref().ok_or_else(|| AppError::new(ErrorCode::Unauthenticated))
    }
}

/// How long a session read from the store is trusted without reading it again. Changes announced
/// on the store's change feed (this process's at once, other processes' on PostgreSQL as NOTIFY
/// arrives) clear the cache; this bounds the rest (another process on the same SQLite file).
const SESSION_TTL: std::time::Duration = std::time::Duration::from_secs(10);
/// Most sessions kept; past this the cache starts over.
const SESSION_CACHE_MAX: usize = 10_000;

/// Sessions recently read (会话缓存), keyed by token hash. Before each lookup the store's change
/// feed is read (without waiting): a change of a user or of their sessions (`user:ID`: logout,
/// role, jurisdiction, activation, password, language) or a bulk load clears the cache. Nothing
/// is cached without a feed.
#[derive(Default)]
pub struct SessionCache {
    /// The feed, subscribed on first use; `None` inside when there is none (or it ended).
    feed: tokio::sync::OnceCell<Mutex<Option<ChangeStream>>>,
    inner: Mutex<SessionEntries>,
}

#[derive(Default)]
struct SessionEntries {
    /// Bumped by every clear: a read that began before a clear is not kept after it.
    generation: u64,
    entries: HashMap<String, (Instant, Session, User)>,
}

impl SessionCache {
    /// The live session with this token hash and its active user, from the cache or the store.
    pub async fn session(&self, store: &dyn crate::Backend, token_hash: &str) -> Result<(Session, User), StoreError> {
        let following = self.follow(store).await;
        let now = Utc::now();
        let generation = {
            let inner = self.inner.lock().expect("not poisoned");
            if let Some((at, s, u)) = inner.entries.get(token_hash) {
                if at.elapsed() < SESSION_TTL && s.expires_at > now {
                    return Ok((s.clone(), u.clone()));
                }
            }
            inner.generation
        };
        let (s, u) = store.session(token_hash, now).await?;
        let mut inner = self.inner.lock().expect("not poisoned");
        if following && inner.generation == generation {
            if inner.entries.len() >= SESSION_CACHE_MAX {
                inner.entries.clear();
            }
            inner.entries.insert(token_hash.to_string(), (Instant::now(), s.clone(), u.clone()));
        }
        Ok((s, u))
    }

    /// Read what the change feed holds now, clearing the cache on a user's change or a bulk load;
    /// whether the feed is followed.
    async fn follow(&self, store: &dyn crate::Backend) -> bool {
        use futures::{FutureExt, StreamExt};
        let feed = self
            .feed
            .get_or_init(|| async {
                Mutex::new(
                    store
                        .changes()
                        .await
                        .inspect_err(|e| tracing::warn!(error = %e, "no change feed: sessions are not cached"))
                        .ok(),
                )
            })
            .await;
        let mut feed = feed.lock().expect("not poisoned");
        let Some(stream) = feed.as_mut() else { return false };
        while let Some(next) = stream.next().now_or_never() {
            match next {
                Some(Change::Record { kind, .. }) if kind != "user" => {}
                Some(_) => self.clear(),
                None => {
                    *feed = None;
                    self.clear();
                    return false;
                }
            }
        }
        true
    }

    fn clear(&self) {
        let mut inner = self.inner.lock().expect("not poisoned");
        inner.generation += 1;
        inner.entries.clear();
    }
}

/// A named cookie's value from the request headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn bearer(headers: &HeaderMap) -> Option<Result<&str, AppError>> {
    let v = headers.get(AUTHORIZATION)?;
    let bad = || AppError::msg(ErrorCode::Unauthenticated, "Authorization header must be `Bearer <token>`");
    let Ok(v) = v.to_str() else { return Some(Err(bad())) };
    match v.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
            Some(Ok(token.trim()))
        }
        _ => Some(Err(bad())),
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller
where
    AppState: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(c) = parts.extensions.get::<Caller>() {
            return Ok(c.clone());
        }
        let app = AppState::from_ref(state);
        let ip = ClientIp::from_request_parts(parts, state).await?.0;
        let fallback_locale = cookie(&parts.headers, LOCALE_COOKIE).and_then(Locale::from_tag).unwrap_or_else(|| {
            crate::i18n::from_accept_language(parts.headers.get("accept-language").and_then(|v| v.to_str().ok()))
        });
        let (token, via) = match bearer(&parts.headers) {
            Some(t) => (Some(t?.to_string()), Via::Bearer),
            None => (cookie(&parts.headers, SESSION_COOKIE).map(str::to_string), Via::Cookie),
        };
        let mut caller = Caller {
            principal: Principal::anonymous(),
            user: None,
            session: None,
            via: Via::Anonymous,
            ip,
            locale: fallback_locale,
        };
        if let Some(token) = token {
            match app.sessions.session(app.store.as_ref(), &password::token_hash(&token)).await {
                Ok((session, user)) => {
                    caller.principal = user.principal();
                    caller.locale = user.locale;
                    caller.user = Some(user);
                    caller.session = Some(session);
                    caller.via = via;
                }
                // A stale cookie is simply no login; a bad bearer token is an error.
                Err(StoreError::NotFound) if via == Via::Cookie => {}
                Err(StoreError::NotFound) => {
                    return Err(AppError::msg(ErrorCode::Unauthenticated, "the bearer token is invalid or expired"))
                }
                Err(e) => return Err(e.into()),
            }
        }
        // Cross-site requests riding on a session cookie are refused (CSRF defence for the
        // JSON API; browser forms carry a token, see `pages`).
        if caller.via == Via::Cookie && !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
            if let (Some(origin), Some(host)) = (parts.headers.get("origin"), parts.headers.get("host")) {
                let origin = origin.to_str().unwrap_or("");
                let origin_host = origin.split("://").nth(1).unwrap_or(origin);
                if origin_host != host.to_str().unwrap_or("") {
                    return Err(AppError::msg(ErrorCode::CsrfFailed, "cross-origin request with a session cookie"));
                }
            }
        }
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}

/// A hash to verify against when the username does not exist, so that the answer takes as
/// long as for a real account and does not reveal which part was wrong.
fn dummy_hash() -> &'static str {
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| password::hash("zhili-dummy-password"))
}

/// A new session: the secret token (given to the client once) and what the store keeps.
pub struct NewLogin {
    /// The secret token.
    pub token: String,
    /// The stored session.
    pub session: Session,
    /// The user.
    pub user: User,
}

/// Check a username and password, with per-account and per-address throttling. Every
/// failure is recorded (and audited). Returns the user on success.
pub async fn authenticate_password(state: &AppState, username: &str, password: &str, ip: &str) -> AppResult<User> {
    let cfg = &state.config;
    let now = Utc::now();
    let f = state.store.login_failures(username, ip, now - Duration::seconds(60)).await?;
    if f.by_account >= cfg.login_failures_per_account || f.by_address >= cfg.login_failures_per_address {
        return Err(AppError { retry_after: Some(60), ..AppError::new(ErrorCode::TooManyRequests) });
    }
    let creds = match state.store.user_credentials(username).await {
        Ok(c) => Some(c),
        Err(StoreError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let phc = creds.as_ref().map(|c| c.1.clone()).unwrap_or_else(|| dummy_hash().to_string());
    let pw = password.to_string();
    let ok = tokio::task::spawn_blocking(move || password::verify(&pw, &phc))
        .await
        .map_err(|_| AppError::new(ErrorCode::Internal))?;
    match creds {
        Some((user, _)) if ok && user.active => Ok(user),
        _ => {
            let actor = Actor {
                user_id: None,
                name: username.chars().take(64).collect(),
                role: "public".into(),
                ip: Some(ip.into()),
            };
            state.store.record_login_failure(&actor, username, now).await?;
            Err(AppError::new(ErrorCode::BadCredentials))
        }
    }
}

/// Log in: check the password, then create a session.
pub async fn authenticate(state: &AppState, username: &str, password: &str, ip: &str) -> AppResult<NewLogin> {
    let user = authenticate_password(state, username, password, ip).await?;
    let ttl = Duration::hours(state.config.session_ttl_hours as i64);
    let (token, session) = new_session(user.id, ttl);
    state.store.create_session(&Actor::of(&user.principal(), Some(ip.into())), &session).await?;
    Ok(NewLogin { token, session, user })
}

/// A fresh session for `user_id` lasting `ttl`: the secret token and what the store keeps.
pub fn new_session(user_id: i64, ttl: Duration) -> (String, Session) {
    let token = password::random_token();
    let created = audit_time(Utc::now());
    let session = Session {
        token_hash: password::token_hash(&token),
        user_id,
        csrf_token: password::random_token(),
        created_at: created,
        expires_at: created + ttl,
    };
    (token, session)
}

/// Whether cookies must carry `Secure`: configured, or the request came over TLS.
pub fn secure_cookies(state: &AppState, headers: &HeaderMap) -> bool {
    state.config.secure_cookies
        || (state.config.trust_forwarded_headers
            && headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()) == Some("https"))
}

/// The `Set-Cookie` value for a session (or its removal when `token` is `None`).
pub fn session_cookie(token: Option<&str>, max_age_secs: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let v = match token {
        Some(t) => format!("{SESSION_COOKIE}={t}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}"),
        None => format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"),
    };
    HeaderValue::from_str(&v).expect("cookie value is ASCII")
}

/// Body of `POST /api/auth/login`.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    /// Login name.
    pub username: String,
    /// Password.
    pub password: String,
}

/// Answer to a successful login.
#[derive(Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    /// Bearer token; the same secret is set as the session cookie.
    pub token: String,
    /// When the token expires (RFC 3339).
    pub expires_at: String,
    /// The user.
    pub user: UserView,
}

/// Log in; answers a session cookie and a bearer token.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 400, body = crate::error::ErrorBody),
              (status = 401, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<LoginRequest>,
) -> AppResult<Response> {
    if req.username.is_empty() || req.username.len() > 128 {
        return Err(AppError::field("username", "username must have 1–128 characters"));
    }
    if req.password.is_empty() || req.password.len() > 1024 {
        return Err(AppError::field("password", "password must have 1–1024 characters"));
    }
    let l = authenticate(&state, &req.username, &req.password, &ip).await?;
    let max_age = (l.session.expires_at - l.session.created_at).num_seconds();
    let body = LoginResponse {
        token: l.token.clone(),
        expires_at: l.session.expires_at.to_rfc3339(),
        user: UserView::of(&l.user, false),
    };
    let mut r = Json(body).into_response();
    r.headers_mut().insert(SET_COOKIE, session_cookie(Some(&l.token), max_age, secure_cookies(&state, &headers)));
    Ok(r)
}

/// Log out: end this session.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth",
    responses((status = 204), (status = 401, body = crate::error::ErrorBody)))]
pub async fn logout(State(state): State<AppState>, headers: HeaderMap, caller: Caller) -> AppResult<Response> {
    let session = caller.session.as_ref().ok_or_else(|| AppError::new(ErrorCode::Unauthenticated))?;
    state.store.delete_session(&caller.actor(), &session.token_hash).await?;
    let mut r = axum::http::StatusCode::NO_CONTENT.into_response();
    r.headers_mut().insert(SET_COOKIE, session_cookie(None, 0, secure_cookies(&state, &headers)));
    Ok(r)
}
