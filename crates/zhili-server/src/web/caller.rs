//! Who is calling (调用者): the session cookie for browsers or a bearer token for machines,
//! resolved into a [`Caller`] that every handler extracts, through this process's
//! [`SessionCache`].
//!
//! Sessions live in the database (only a SHA-256 of the secret), so any server process
//! behind a load balancer recognises any session. Each process keeps the sessions it has
//! recently read so that a busy client costs no query per request.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use chrono::Utc;
use zhili_core::audit::Actor;
use zhili_core::model::{Locale, Session, User};
use zhili_core::password;
use zhili_core::policy::Principal;
use zhili_core::store::{Change, ChangeStream, StoreError};
use zhili_core::ErrorCode;

use crate::web::error::{AppError, AppResult};
use crate::web::extract::ClientIp;
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
    /// What the request asked for, path and query as sent (`/cases/7?x=1`): where a login
    /// returns to.
    pub target: String,
}

/// The language of a request before any login is known: the locale cookie, else
/// `Accept-Language`.
pub fn request_locale(headers: &axum::http::HeaderMap) -> Locale {
    cookie(headers, LOCALE_COOKIE).and_then(Locale::from_tag).unwrap_or_else(|| {
        crate::web::i18n::from_accept_language(headers.get("accept-language").and_then(|v| v.to_str().ok()))
    })
}

impl Caller {
    /// The anonymous public, speaking `locale` (when who calls cannot be told).
    pub fn anonymous(locale: Locale) -> Caller {
        Caller {
            principal: Principal::anonymous(),
            user: None,
            session: None,
            via: Via::Anonymous,
            ip: String::new(),
            locale,
            target: String::new(),
        }
    }
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
    pub async fn session(
        &self,
        store: &dyn zhili_core::store::Store,
        token_hash: &str,
    ) -> Result<(Session, User), StoreError> {
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
    async fn follow(&self, store: &dyn zhili_core::store::Store) -> bool {
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
        let fallback_locale = request_locale(&parts.headers);
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
            target: parts.uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default(),
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
