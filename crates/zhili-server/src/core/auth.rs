//! Identity (身份认证): login with rate limiting, session cookies, logout. Who is calling is
//! resolved by [`crate::web::caller::Caller`].

use std::sync::OnceLock;

use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{Duration, Utc};
use serde::{Deserialize, Serialize};
use zhili_core::audit::{audit_time, Actor};
use zhili_core::model::{Session, User};
use zhili_core::password;
use zhili_core::store::StoreError;
use zhili_core::ErrorCode;

use crate::core::views::UserView;
use crate::web::caller::{Caller, SESSION_COOKIE};
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{ApiJson, ClientIp};
use crate::AppState;

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
    responses((status = 200, body = LoginResponse), (status = 400, body = crate::web::error::ErrorBody),
              (status = 401, body = crate::web::error::ErrorBody), (status = 429, body = crate::web::error::ErrorBody)))]
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
    responses((status = 204), (status = 401, body = crate::web::error::ErrorBody)))]
pub async fn logout(State(state): State<AppState>, headers: HeaderMap, caller: Caller) -> AppResult<Response> {
    let session = caller.session.as_ref().ok_or_else(|| AppError::new(ErrorCode::Unauthenticated))?;
    state.store.delete_session(&caller.actor(), &session.token_hash).await?;
    let mut r = axum::http::StatusCode::NO_CONTENT.into_response();
    r.headers_mut().insert(SET_COOKIE, session_cookie(None, 0, secure_cookies(&state, &headers)));
    Ok(r)
}
