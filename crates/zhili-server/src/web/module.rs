//! What a domain module adds to the server (模块登记): its routes, its background work, its
//! navigation entries, its messages and its OpenAPI paths. Each domain folder declares one [`Module`]; the root
//! lists them once (`crate::MODULES`) and [`register`]s them, so nothing in `web` names a
//! domain and a new module touches no other module's files.

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::Router;
use zhili_core::policy::Action;

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
}

/// Where a subject of a kind is shown.
#[derive(Debug)]
pub struct SubjectLink {
    /// The subject kind.
    pub kind: &'static str,
    /// The page of the subject with this id.
    pub href: fn(i64) -> String,
}

/// Provide nothing: for modules that offer no service to others.
pub fn no_services(_: &AppState, _: &mut zhili_core::ports::Ports) {}

/// Start nothing: for modules without background work.
pub fn no_start(_: &AppState) {}

pub(crate) struct Registry {
    nav: Vec<&'static NavEntry>,
    messages: HashMap<&'static str, (&'static str, &'static str)>,
    subjects: HashMap<&'static str, &'static SubjectLink>,
}

static REGISTRY: OnceLock<Registry> = OnceLock::new();

/// Register the modules' navigation, messages and subject links (once per process; every
/// application of a process is built from the same modules). Panics on a message key or a
/// subject kind two modules define.
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
    Registry { nav, messages, subjects }
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

/// A registered message, (zh-CN, English).
pub(crate) fn message(key: &str) -> Option<(&'static str, &'static str)> {
    registry().messages.get(key).copied()
}

/// The page a subject is shown on, if its module registered its kind.
pub(crate) fn subject_href(subject: &zhili_platform::Subject) -> Option<String> {
    registry().subjects.get(subject.kind()).map(|l| (l.href)(subject.id()))
}
