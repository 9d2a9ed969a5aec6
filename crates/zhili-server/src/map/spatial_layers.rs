//! The One Map's own layers (行政区划, 网格): divisions and grids from the in-memory spatial
//! index (`crate::grid::spatial`), registered by the map module (`map::MODULE.layers`) and drawn
//! by `map.js`. A caller sees the divisions in and above their jurisdiction (public reference
//! data: all of them), the grids of their jurisdiction, a grid worker only their own grids.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::ops::RangeInclusive;

use geo::Rect;
use serde_json::{json, Map, Value};
use zhili_core::codes::DivisionCode;
use zhili_core::policy::{Action, Principal, Role};
use zhili_geo::index::Feature;

use crate::web::error::AppResult;
use crate::web::module::{BoxFuture, FeatureSource, MapLayer, Served, SourceView};
use crate::AppState;

/// The divisions layer: county, townships and villages (index levels 1–3).
pub const DIVISIONS: MapLayer = MapLayer {
    id: "divisions",
    title: "map.layer.divisions",
    action: Action::ReadDivisions,
    order: 10,
    on: true,
    swatch: "div",
    note: None,
    controls: None,
    script: None,
    features: Some(&IndexLayer { levels: 1..=3, minzoom: 0, public: true, grid: false }),
};

/// The grids layer: every grid level (index levels 4–12).
pub const GRIDS: MapLayer = MapLayer {
    id: "grids",
    title: "map.layer.grids",
    action: Action::ReadGrids,
    order: 20,
    on: true,
    swatch: "grid",
    note: Some("map.grids_zoom"),
    controls: None,
    script: None,
    features: Some(&IndexLayer { levels: 4..=12, minzoom: 10, public: false, grid: true }),
};

/// Some levels of the spatial index, as a layer.
struct IndexLayer {
    /// Index levels the layer holds.
    levels: RangeInclusive<u8>,
    /// Lowest zoom its tiles are served at.
    minzoom: u8,
    /// Whether every caller sees all of it (divisions are public reference data).
    public: bool,
    /// Whether it holds grids (their properties: level number, level name, village).
    grid: bool,
}

/// The properties a feature of the index may be filtered on.
const QUERYABLES: &[&str] = &["code", "name", "parent", "level", "level_name", "village"];

impl FeatureSource for IndexLayer {
    fn extent(&self, state: &AppState) -> Option<Rect<f64>> {
        state.spatial.extent(&self.levels)
    }

    fn fields(&self) -> Value {
        if self.grid {
            json!({"code": "String", "name": "String", "parent": "String", "level": "Number", "level_name": "String", "village": "String"})
        } else {
            json!({"code": "String", "name": "String", "parent": "String", "level": "String"})
        }
    }

    fn queryables(&self) -> &'static [&'static str] {
        QUERYABLES
    }

    fn minzoom(&self) -> u8 {
        self.minzoom
    }

    fn view<'a>(
        &'a self,
        state: &'a AppState,
        principal: &'a Principal,
    ) -> BoxFuture<'a, AppResult<Box<dyn SourceView + 'a>>> {
        Box::pin(async move {
            let scope = if self.public { Scope::All } else { scope(state, principal).await? };
            Ok(Box::new(IndexView { state, layer: self, scope }) as Box<dyn SourceView + 'a>)
        })
    }
}

/// What a caller may see of the features of a layer.
enum Scope {
    All,
    Within(DivisionCode),
    Grids(HashSet<String>),
}

impl Scope {
    fn admits(&self, f: &Feature) -> bool {
        match self {
            Scope::All => true,
            Scope::Within(j) => {
                // A division is visible inside the jurisdiction and on the chain above it.
                let code = f.key.get(..12).unwrap_or(&f.key);
                DivisionCode::parse(code).is_ok_and(|c| j.contains(&c) || c.contains(j))
            }
            Scope::Grids(set) => set.contains(&f.key),
        }
    }

    fn fingerprint(&self) -> u64 {
        let mut h = DefaultHasher::new();
        match self {
            Scope::All => 0u8.hash(&mut h),
            Scope::Within(j) => j.as_str().hash(&mut h),
            Scope::Grids(s) => {
                let mut v: Vec<&String> = s.iter().collect();
                v.sort();
                v.hash(&mut h);
            }
        }
        h.finish()
    }
}

async fn scope(state: &AppState, p: &Principal) -> AppResult<Scope> {
    match (p.role, &p.jurisdiction, p.user_id) {
        (Role::GridWorker, _, Some(id)) => {
            let grids = crate::grid::api::worker_grids(state, id).await?;
            Ok(Scope::Grids(grids.into_iter().map(|g| g.code.to_string()).collect()))
        }
        (_, Some(j), _) => Ok(Scope::Within(j.clone())),
        _ => Ok(Scope::All),
    }
}

/// One caller's view of an [`IndexLayer`].
struct IndexView<'a> {
    state: &'a AppState,
    layer: &'a IndexLayer,
    scope: Scope,
}

impl SourceView for IndexView<'_> {
    fn etag(&self) -> String {
        format!("{:x}-{:x}", self.state.spatial.version(), self.scope.fingerprint())
    }

    fn public(&self) -> bool {
        matches!(self.scope, Scope::All)
    }

    fn with_features(&self, bbox: Option<Rect<f64>>, f: &mut dyn FnMut(&mut dyn Iterator<Item = Served<'_>>)) {
        let (state, scope) = (self.state, &self.scope);
        // Under one read lock, without copying features.
        state.spatial.with_features(&self.layer.levels, bbox, |it| {
            let mut served = it.filter(|(feature, _, _)| scope.admits(feature)).map(|(feature, kind, name)| Served {
                feature,
                properties: Box::new(move || properties_of(feature, kind, name, state)),
            });
            f(&mut served)
        })
    }

    fn feature(&self, id: &str) -> Option<(Feature, Map<String, Value>)> {
        let f =
            self.state.spatial.feature(id).filter(|f| self.layer.levels.contains(&f.level) && self.scope.admits(f))?;
        let (kind, name) = self.state.spatial.label(&f.key);
        let properties = properties_of(&f, kind, &name, self.state);
        Some((f, properties))
    }
}

fn properties_of(f: &Feature, kind: &str, name: &str, state: &AppState) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("code".into(), json!(f.key));
    m.insert("name".into(), json!(name));
    m.insert("parent".into(), json!(f.parent));
    if kind == "grid" {
        let level = f.level.saturating_sub(3);
        m.insert("level".into(), json!(level));
        m.insert("level_name".into(), json!(state.grid_rules.levels.name(level).unwrap_or("")));
        m.insert("village".into(), json!(f.key.get(..12)));
    } else {
        let level = match f.level {
            1 => "county",
            2 => "township",
            _ => "village",
        };
        m.insert("level".into(), json!(level));
    }
    m
}
