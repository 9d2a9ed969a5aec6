//! What a domain module adds to the server (模块登记): its routes, its background work, its
//! navigation entries, its messages, its OpenAPI paths, its layers of the One Map and its
//! page-wide scripts. Each domain folder declares one [`Module`]; the root lists them once
//! (`crate::MODULES`) and [`register`]s them, so nothing in `web` names a domain and a new
//! module touches no other module's files.
//!
//! A map layer ([`MapLayer`]) is described here so that no domain is named: the module that
//! owns the data gives its id, who may see it, its toggle on the map page and its client
//! script; a layer with a [`FeatureSource`] is also served as OGC API – Features and vector
//! tiles (by the map module, for every registered layer, like Martin serves its sources).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;

use axum::Router;
use geo::Rect;
use serde_json::{Map, Value};
use zhili_core::policy::{Action, Principal};
use zhili_geo::index::Feature;

use crate::web::error::AppResult;
use crate::web::i18n::Tr;
use crate::AppState;

/// A UI message: key, zh-CN, English.
pub type Message = (&'static str, &'static str, &'static str);

/// Who sees a navigation entry.
#[derive(Debug, Clone, Copy)]
pub enum Needs {
    /// Anyone logged in.
    LoggedIn,
    /// Whoever may take this action anywhere in their jurisdiction.
    Action(Action),
}

/// One entry of the navigation, placed by `order` (smaller first).
#[derive(Debug)]
pub struct NavEntry {
    /// Where it leads.
    pub href: &'static str,
    /// The message key of its label.
    pub key: &'static str,
    /// Who sees it.
    pub needs: Needs,
    /// Its place among all modules' entries.
    pub order: u16,
}

/// A domain module of the server.
pub struct Module {
    /// Its folder's name.
    pub name: &'static str,
    /// Its routes, merged into the application.
    pub routes: fn(&AppState) -> Router<AppState>,
    /// Starts its background work (escalation, senders…), if any, when the server starts.
    pub start: fn(&AppState),
    /// Its navigation entries.
    pub nav: &'static [NavEntry],
    /// Its messages (keys are unique across all modules and `web`).
    pub messages: &'static [Message],
    /// Its part of the OpenAPI document: its paths and the schemas they name.
    pub openapi: fn() -> utoipa::openapi::OpenApi,
    /// The webhook events it raises (stable names, `case.dispatched`), which `[[webhooks]]` may
    /// subscribe to.
    pub events: &'static [&'static str],
    /// The subject kinds it owns (`case`), with the page a notification about one leads to.
    pub subjects: &'static [SubjectLink],
    /// Adds the services it offers other modules to the ports (case intake), once the state is
    /// built; they are found by trait like the storage ports.
    pub provide: fn(&AppState, &mut zhili_core::ports::Ports),
    /// Adds its per-process machinery (caches, queues, marks) to the ports when the state is
    /// made, so the state names no module (`state.port::<case::api::Runtime>()`).
    pub runtime: fn(&mut zhili_core::ports::Ports),
    /// Its layers of the One Map (ids unique across all modules).
    pub layers: &'static [MapLayer],
    /// Scripts it adds to every page's frame (after `app.js`), e.g. the notification bell's.
    pub page_scripts: &'static [PageScript],
    /// Its part of the home page (工作台), if any: the caller's queues with their counts.
    pub home: Option<HomeParts>,
}

/// A module's part of the home page: the sections it shows `caller` (none if nothing concerns
/// them). The home page (core's) renders every module's sections by their `order`.
pub type HomeParts =
    for<'a> fn(&'a AppState, &'a crate::web::caller::Caller) -> BoxFuture<'a, AppResult<Vec<HomeSection>>>;

/// A section of the home page: a title and its tiles.
#[derive(Debug)]
pub struct HomeSection {
    /// Stable id (`#home-{id}` on the page).
    pub id: &'static str,
    /// Its place among all modules' sections (smaller first).
    pub order: u16,
    /// Its title, in the caller's language.
    pub title: String,
    /// Its tiles, in order.
    pub tiles: Vec<HomeTile>,
}

/// One count on the home page, leading to the list it counts.
#[derive(Debug)]
pub struct HomeTile {
    /// Stable id (`#tile-{id}` on the page).
    pub id: &'static str,
    /// Its label, in the caller's language.
    pub label: String,
    /// The figure as shown (`12`, `10000+`, `96.5%`).
    pub figure: String,
    /// Where it leads (a same-site path).
    pub href: String,
    /// Whether it asks for attention (overdue, about to run out) and is not zero.
    pub alert: bool,
}

/// A script every page of the frame loads, for those it is for.
#[derive(Debug)]
pub struct PageScript {
    /// Its URL, a module's own file (`/assets/notify.js`).
    pub src: &'static str,
    /// Who gets it.
    pub needs: Needs,
}

/// A future that a trait object can return (for [`FeatureSource::view`]).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A layer of the One Map (图层), registered by the module that owns its data. Placed by
/// `order` in the map page's layer list; a caller who may not take `action` sees neither its
/// toggle nor its script, and its collection and tiles answer 404 for them.
pub struct MapLayer {
    /// Stable id, used in URLs (`/ogc/collections/{id}`, `/tiles/{id}/…`) and in the page
    /// (`#toggle-{id}`).
    pub id: &'static str,
    /// The message key of its title: the toggle's label and the OGC collection's `title`.
    pub title: &'static str,
    /// The action that lets a caller see it.
    pub action: Action,
    /// Its place in the map page's layer list (smaller first).
    pub order: u16,
    /// Whether its toggle starts checked.
    pub on: bool,
    /// The CSS class of its legend swatch (`.swatch.{swatch}`).
    pub swatch: &'static str,
    /// The message key of a note under its toggle, if any.
    pub note: Option<&'static str>,
    /// Its own controls and legend under the toggle (HTML, rendered by its module), if any.
    pub controls: Option<fn(Tr) -> askama::Result<String>>,
    /// Its client script on the map page (`/assets/{script}`), loaded after `map.js`: it draws
    /// the layer on `window.zhiliMap` and binds `#toggle-{id}`. `None` if `map.js` draws it.
    pub script: Option<&'static str>,
    /// Where its features come from, if they are served as OGC API – Features and vector tiles.
    pub features: Option<&'static dyn FeatureSource>,
}

/// The features of a layer, as the map serves them (OGC API – Features, vector tiles, TileJSON).
pub trait FeatureSource: Sync {
    /// The bounding box of all its features (CRS84), if it has any.
    fn extent(&self, state: &AppState) -> Option<Rect<f64>>;
    /// Its properties' names and types (`"String"`, `"Number"`): TileJSON's `fields`.
    fn fields(&self) -> Value;
    /// The properties `…/items` may filter on by exact match (`?level=3`).
    fn queryables(&self) -> &'static [&'static str];
    /// The lowest zoom its tiles hold features at (empty tiles below).
    fn minzoom(&self) -> u8;
    /// What `principal` may see of it (may ask the store, e.g. a grid worker's own grids).
    fn view<'a>(
        &'a self,
        state: &'a AppState,
        principal: &'a Principal,
    ) -> BoxFuture<'a, AppResult<Box<dyn SourceView + 'a>>>;
}

/// One caller's view of a [`FeatureSource`].
pub trait SourceView: Send + Sync {
    /// What the tiles' ETag rests on: changes whenever what this view shows may change.
    fn etag(&self) -> String;
    /// Whether every caller sees the same (tiles may then be cached publicly).
    fn public(&self) -> bool;
    /// Run `f` over the visible features whose bounding box meets `bbox` (CRS84; all if
    /// `None`), without copying them (e.g. under one read lock).
    fn with_features(&self, bbox: Option<Rect<f64>>, f: &mut dyn FnMut(&mut dyn Iterator<Item = Served<'_>>));
    /// One visible feature by id, with its properties.
    fn feature(&self, id: &str) -> Option<(Feature, Map<String, Value>)>;
}

/// A feature as a layer serves it, its properties computed when asked for.
pub struct Served<'a> {
    /// The feature: id (`key`) and geometry (CRS84).
    pub feature: &'a Feature,
    /// Its properties.
    pub properties: Box<dyn Fn() -> Map<String, Value> + 'a>,
}

/// Where a subject of a kind is shown.
#[derive(Debug)]
pub struct SubjectLink {
    /// The subject kind.
    pub kind: &'static str,
    /// The page of the subject with this id.
    pub href: fn(i64) -> String,
}

/// No per-process machinery.
pub fn no_runtime(_: &mut zhili_core::ports::Ports) {}

impl Module {
    /// A module of this name with nothing yet: no routes, background work, navigation,
    /// messages, paths, events, subjects, services, machinery, layers, scripts or home part. A
    /// module's static starts from it and says only what it has:
    /// `Module { routes, nav: NAV, messages: MESSAGES, ..Module::named("flood") }`.
    pub const fn named(name: &'static str) -> Module {
        Module {
            name,
            routes: |_| Router::new(),
            start: no_start,
            nav: &[],
            messages: &[],
            openapi: utoipa::openapi::OpenApi::default,
            events: &[],
            subjects: &[],
            provide: no_services,
            runtime: no_runtime,
            layers: &[],
            page_scripts: &[],
            home: None,
        }
    }
}

/// Provide nothing: for modules that offer no service to others.
pub fn no_services(_: &AppState, _: &mut zhili_core::ports::Ports) {}

/// Start nothing: for modules without background work.
pub fn no_start(_: &AppState) {}

pub(crate) struct Registry {
    nav: Vec<&'static NavEntry>,
    messages: HashMap<&'static str, (&'static str, &'static str)>,
    subjects: HashMap<&'static str, &'static SubjectLink>,
    layers: Vec<&'static MapLayer>,
    page_scripts: Vec<&'static PageScript>,
    homes: Vec<HomeParts>,
}

static REGISTRY: OnceLock<Registry> = OnceLock::new();

/// Register the modules' navigation, messages, subject links, map layers and page scripts (once
/// per process; every application of a process is built from the same modules). Panics on a
/// message key two modules define, a subject kind or a layer id two modules register.
pub fn register(modules: &[&'static Module]) {
    REGISTRY.get_or_init(|| build(modules));
}

pub(crate) fn build(modules: &[&'static Module]) -> Registry {
    let mut messages = HashMap::new();
    let mut owner: HashMap<&str, &str> = HashMap::new();
    let shared = ("web", crate::web::i18n::MESSAGES);
    for (name, list) in std::iter::once(shared).chain(modules.iter().map(|m| (m.name, m.messages))) {
        for &(key, zh, en) in list {
            if let Some(first) = owner.insert(key, name) {
                panic!("the message {key:?} is defined by both {first} and {name}");
            }
            messages.insert(key, (zh, en));
        }
    }
    let mut subjects = HashMap::new();
    for m in modules {
        for link in m.subjects {
            if subjects.insert(link.kind, link).is_some() {
                panic!("the subject kind {:?} is registered twice (again by {})", link.kind, m.name);
            }
        }
    }
    let mut nav: Vec<&'static NavEntry> = modules.iter().flat_map(|m| m.nav.iter()).collect();
    nav.sort_by_key(|e| e.order);
    let mut layer_owner: HashMap<&str, &str> = HashMap::new();
    for m in modules {
        for l in m.layers {
            if let Some(first) = layer_owner.insert(l.id, m.name) {
                panic!("the map layer {:?} is registered by both {first} and {}", l.id, m.name);
            }
        }
    }
    let mut layers: Vec<&'static MapLayer> = modules.iter().flat_map(|m| m.layers.iter()).collect();
    layers.sort_by_key(|l| l.order);
    let page_scripts = modules.iter().flat_map(|m| m.page_scripts.iter()).collect();
    let homes = modules.iter().filter_map(|m| m.home).collect();
    Registry { nav, messages, subjects, layers, page_scripts, homes }
}

/// The registered modules' registry; before [`register`], the frame's own messages only (not
/// kept, so a later [`register`] still takes effect).
fn registry() -> &'static Registry {
    static WEB_ONLY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get().unwrap_or_else(|| WEB_ONLY.get_or_init(|| build(&[])))
}

/// Every registered navigation entry, in order.
pub(crate) fn nav() -> &'static [&'static NavEntry] {
    &registry().nav
}

/// Every registered map layer, in order.
pub(crate) fn layers() -> &'static [&'static MapLayer] {
    &registry().layers
}

/// Every registered page-wide script, in the modules' order.
pub(crate) fn page_scripts() -> &'static [&'static PageScript] {
    &registry().page_scripts
}

/// Every registered module's part of the home page, in the modules' order.
pub(crate) fn homes() -> &'static [HomeParts] {
    &registry().homes
}

/// A registered message, (zh-CN, English).
pub(crate) fn message(key: &str) -> Option<(&'static str, &'static str)> {
    registry().messages.get(key).copied()
}

/// The page a subject is shown on, if its module registered its kind.
pub(crate) fn subject_href(subject: &zhili_platform::Subject) -> Option<String> {
    registry().subjects.get(subject.kind()).map(|l| (l.href)(subject.id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(id: &'static str, order: u16) -> MapLayer {
        MapLayer {
            id,
            title: "app.short",
            action: Action::ReadGrids,
            order,
            on: false,
            swatch: "test",
            note: None,
            controls: None,
            script: None,
            features: None,
        }
    }

    fn module(name: &'static str, layers: &'static [MapLayer]) -> &'static Module {
        Box::leak(Box::new(Module { layers, ..Module::named(name) }))
    }

    #[test]
    fn layers_are_collected_in_order() {
        let a = module("a", Box::leak(Box::new([layer("late", 30), layer("early", 10)])));
        let b = module("b", Box::leak(Box::new([layer("middle", 20)])));
        let r = build(&[a, b]);
        let ids: Vec<&str> = r.layers.iter().map(|l| l.id).collect();
        assert_eq!(ids, ["early", "middle", "late"]);
    }

    #[test]
    #[should_panic(expected = "the map layer \"same\" is registered by both first and second")]
    fn two_layers_with_one_id_are_refused() {
        let a = module("first", Box::leak(Box::new([layer("same", 10)])));
        let b = module("second", Box::leak(Box::new([layer("same", 20)])));
        build(&[a, b]);
    }
}
