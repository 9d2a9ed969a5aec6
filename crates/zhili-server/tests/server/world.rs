//! The world the server tests run in, built once here: a fresh SQLite store in a temporary
//! folder, the divisions, departments, users, grids and catalogue a module asks for, the router
//! over it, and a token per user; plus the request helpers every module uses.
//!
//! ```ignore
//! let w = World::builder()
//!     .department("cgj", "城管局", "370304")
//!     .users(&[("admin", Role::Admin, "370304"), ("staff", Role::DepartmentStaff, "370304")])
//!     .in_department(&["staff"], "cgj")
//!     .config(|c| c.body_limit_bytes = 4096)
//!     .build()
//!     .await;
//! let (status, body) = w.call("GET", "/api/me", w.token("admin"), None).await;
//! ```

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{request, HeaderMap, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;
use zhili_case::catalogue::Catalogue;
use zhili_core::audit::Actor;
use zhili_core::codes::DivisionCode;
use zhili_core::model::{Division, NewDepartment, NewUser};
use zhili_core::policy::Role;
use zhili_core::store::Store;
use zhili_grid::{Grid, GridCode, GridDuty};
use zhili_server::{app, AppState, ServerConfig};

#[allow(unused_imports)]
use self::ports::*;
use zhili_store_sqlite::SqliteStore;

/// Every user's password.
pub const PASSWORD: &str = "correct-horse-9";

/// County 370304, then town 100 with village 甲, then town 101 with village 乙: a world has the
/// first 1, 3 or all 5 (see [`Builder::divisions`]).
pub const DIVISIONS: [(&str, &str); 5] = [
    ("370304", "博山区"),
    ("370304100", "域城镇"),
    ("370304100201", "甲村"),
    ("370304101", "白塔镇"),
    ("370304101201", "乙村"),
];

pub fn c(s: &str) -> DivisionCode {
    DivisionCode::parse(s).unwrap()
}

/// A GeoJSON rectangle.
pub fn rect(w: f64, s: f64, e: f64, n: f64) -> Value {
    json!({"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]})
}

/// A rectangular grid named 网格 and its code.
pub fn grid(code: &str, level: u8, parent: Option<&str>, w: f64, s: f64, e: f64, n: f64) -> Grid {
    Grid {
        code: GridCode::parse_any(code).unwrap(),
        name: format!("网格{code}"),
        level,
        parent: parent.map(|p| GridCode::parse_any(p).unwrap()),
        boundary: zhili_geo::geometry::parse_area(&rect(w, s, e, n)).unwrap(),
    }
}

/// A fresh, migrated SQLite store in a temporary folder (kept as long as the folder is).
pub async fn sqlite_store() -> (tempfile::TempDir, Arc<SqliteStore>) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("t.db")).await.unwrap();
    store.migrate().await.unwrap();
    (dir, Arc::new(store))
}

/// The request `method uri`, with the bearer token if there is one.
pub fn request(method: &str, uri: &str, token: Option<&str>) -> request::Builder {
    let req = Request::builder().method(method).uri(uri);
    match token {
        Some(t) => req.header("authorization", format!("Bearer {t}")),
        None => req,
    }
}

/// The request with a JSON body, or with none.
pub fn with_json(req: request::Builder, body: Option<Value>) -> Request<Body> {
    match body {
        Some(b) => req.header("content-type", "application/json").body(Body::from(b.to_string())),
        None => req.body(Body::empty()),
    }
    .unwrap()
}

/// A response read whole.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    /// A header's value, if it has one (as text).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    /// The body as UTF-8 text.
    pub fn text(&self) -> String {
        String::from_utf8(self.body.to_vec()).unwrap()
    }

    /// The body as JSON when the Content-Type says JSON (or GeoJSON), else as a JSON string of
    /// its text.
    pub fn value(&self) -> Value {
        let ct = self.header("content-type").unwrap_or_default();
        if ct.starts_with("application/json") || ct.starts_with("application/geo+json") {
            serde_json::from_slice(&self.body).unwrap()
        } else {
            Value::String(String::from_utf8_lossy(&self.body).into_owned())
        }
    }
}

/// The router over a store, the store, and who is in it.
pub struct World {
    pub state: AppState,
    pub app: Router,
    /// The store itself (every port's methods), sharing its pools and change feed with the app's.
    pub store: Arc<SqliteStore>,
    /// A session token per user logged in, by username.
    pub tokens: HashMap<&'static str, String>,
    /// The ids of the users (by username) and of the departments (by code).
    pub ids: HashMap<&'static str, i64>,
    /// The store's folder, removed with the world.
    pub _dir: tempfile::TempDir,
}

impl World {
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// The token of a user logged in; none for anyone else (the public).
    pub fn token(&self, name: &str) -> Option<&str> {
        self.tokens.get(name).map(String::as_str)
    }

    /// Send a request through the router and read the whole answer.
    pub async fn answer(&self, req: Request<Body>) -> Answer {
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let (status, headers) = (resp.status(), resp.headers().clone());
        Answer { status, headers, body: resp.into_body().collect().await.unwrap().to_bytes() }
    }

    /// Send a request; answer the status and the body (see [`Answer::value`]).
    pub async fn send(&self, req: Request<Body>) -> (StatusCode, Value) {
        let got = self.answer(req).await;
        (got.status, got.value())
    }

    /// `method uri` with the token and the JSON body, if any.
    pub async fn call(&self, method: &str, uri: &str, token: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
        self.send(with_json(request(method, uri, token), body)).await
    }
}

/// What a [`World`] is made of; [`World::builder`] starts empty but for all of [`DIVISIONS`].
#[derive(Default)]
pub struct Builder {
    /// How many of [`DIVISIONS`] (all when none).
    divisions: Option<usize>,
    /// Code, name, division.
    departments: Vec<(&'static str, &'static str, &'static str)>,
    users: Vec<User>,
    phone: Option<&'static str>,
    grids: Vec<Grid>,
    /// User, grid code, duty.
    duties: Vec<(&'static str, &'static str, GridDuty)>,
    catalogue: Option<Catalogue>,
    config: ServerConfig,
    without_spatial: bool,
}

struct User {
    name: &'static str,
    role: Role,
    jurisdiction: &'static str,
    /// The department's code.
    department: Option<&'static str>,
    logged_out: bool,
}

impl Builder {
    /// Only the first `n` of [`DIVISIONS`].
    pub fn divisions(mut self, n: usize) -> Builder {
        self.divisions = Some(n);
        self
    }

    /// A department: code, name, division.
    pub fn department(mut self, code: &'static str, name: &'static str, division: &'static str) -> Builder {
        self.departments.push((code, name, division));
        self
    }

    /// Users by name (also their display name), role and jurisdiction, each logged in.
    pub fn users(mut self, users: &[(&'static str, Role, &'static str)]) -> Builder {
        self.users.extend(users.iter().map(|&(name, role, jurisdiction)| User {
            name,
            role,
            jurisdiction,
            department: None,
            logged_out: false,
        }));
        self
    }

    /// These users belong to the department with this code.
    pub fn in_department(mut self, names: &[&str], code: &'static str) -> Builder {
        self.named(names).for_each(|u| u.department = Some(code));
        self
    }

    /// These users are not logged in (they have no token).
    pub fn not_logged_in(mut self, names: &[&str]) -> Builder {
        self.named(names).for_each(|u| u.logged_out = true);
        self
    }

    /// The users of these names, every one of which must be there.
    fn named<'a>(&'a mut self, names: &'a [&str]) -> impl Iterator<Item = &'a mut User> {
        for name in names {
            assert!(self.users.iter().any(|u| u.name == *name), "no user {name} (add it first)");
        }
        self.users.iter_mut().filter(|u| names.contains(&u.name))
    }

    /// Every user has this phone number.
    pub fn phone(mut self, phone: &'static str) -> Builder {
        self.phone = Some(phone);
        self
    }

    pub fn grids(mut self, grids: Vec<Grid>) -> Builder {
        self.grids.extend(grids);
        self
    }

    /// The user works in the grid with this code.
    pub fn assign(mut self, user: &'static str, grid: &'static str, duty: GridDuty) -> Builder {
        self.duties.push((user, grid, duty));
        self
    }

    /// The case catalogue (setting `case.catalogue`).
    pub fn catalogue(mut self, catalogue: Catalogue) -> Builder {
        self.catalogue = Some(catalogue);
        self
    }

    /// Change the server's settings.
    pub fn config(mut self, change: impl FnOnce(&mut ServerConfig)) -> Builder {
        change(&mut self.config);
        self
    }

    /// Leave the spatial index empty (not started).
    pub fn without_spatial(mut self) -> Builder {
        self.without_spatial = true;
        self
    }

    pub async fn build(self) -> World {
        let (dir, store) = sqlite_store().await;
        let a = Actor::system();
        for (code, name) in &DIVISIONS[..self.divisions.unwrap_or(DIVISIONS.len())] {
            store.upsert_division(&a, &Division { code: c(code), name: (*name).into(), boundary: None }).await.unwrap();
        }
        let mut ids = HashMap::new();
        for (code, name, division) in self.departments {
            let d =
                NewDepartment { code: code.into(), name: name.into(), division: c(division), is_command_centre: false };
            ids.insert(code, store.create_department(&a, &d).await.unwrap().id);
        }
        let hash = zhili_core::password::hash(PASSWORD);
        for u in &self.users {
            let new = NewUser {
                username: u.name.into(),
                display_name: u.name.into(),
                role: u.role,
                jurisdiction: c(u.jurisdiction),
                department_id: u.department.map(|d| ids[d]),
                phone: self.phone.map(Into::into),
                password_hash: hash.clone(),
            };
            ids.insert(u.name, store.create_user(&a, &new).await.unwrap().id);
        }
        if !self.grids.is_empty() {
            store.import_grids(&a, &self.grids).await.unwrap();
        }
        for (user, grid, duty) in self.duties {
            store.assign_grid(&a, ids[user], &GridCode::parse_any(grid).unwrap(), duty).await.unwrap();
        }
        if let Some(catalogue) = self.catalogue {
            store.put_setting(&a, "case.catalogue", &serde_json::to_string(&catalogue).unwrap()).await.unwrap();
        }
        let ports = SqliteStore::clone(&store).ports();
        let mut state = AppState::new(ports.clone(), self.config);
        if !self.without_spatial {
            state = state.with_spatial(zhili_server::grid::spatial::Spatial::start(&ports).await.unwrap());
        }
        let state = state.with_services();
        let mut w = World { app: app(state.clone()), state, store, tokens: HashMap::new(), ids, _dir: dir };
        for name in self.users.iter().filter(|u| !u.logged_out).map(|u| u.name) {
            let (s, b) =
                w.call("POST", "/api/auth/login", None, Some(json!({"username": name, "password": PASSWORD}))).await;
            assert_eq!(s, StatusCode::OK, "{name}: {b}");
            w.tokens.insert(name, b["token"].as_str().unwrap().to_string());
        }
        w
    }
}

/// `impl Deref<Target = World>` for a module's own world, a struct with the shared one in
/// `base` and what the module's tests add beside it.
macro_rules! extends_world {
    ($t:ty) => {
        impl std::ops::Deref for $t {
            type Target = $crate::world::World;
            fn deref(&self) -> &$crate::world::World {
                &self.base
            }
        }
    };
}
pub(crate) use extends_world;

#[allow(unused_imports)]
/// The store's port traits, so tests call any port's method on [`World::store`].
pub mod ports {
    pub use zhili_case::intake::CaseIntake;
    pub use zhili_case::store::{CaseMapStore, CaseMetricsStore, CaseStore, EscalationStore};
    pub use zhili_core::store::Store;
    pub use zhili_grid::GridStore;
    pub use zhili_platform::attachment::AttachmentStore;
    pub use zhili_platform::notify::NotificationStore;
    pub use zhili_platform::settings::SettingStore;
}
