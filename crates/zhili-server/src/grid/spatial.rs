//! The in-memory spatial index of divisions and grids (空间索引), a cache of the store.
//!
//! It loads at start and then follows the store's change feed, so every server process sharing
//! a PostgreSQL database answers "which grid is this point in" the same way within moments of a
//! change anywhere. Levels: county 1, township 2, village 3, then grid level + 3.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use axum::extract::State;
use axum::Json;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use zhili_core::codes::{DivisionCode, DivisionLevel};
use zhili_core::policy::{authorize, Action};
use zhili_core::store::{Change, Page, StoreError, StoreResult};
use zhili_core::ErrorCode;
use zhili_geo::index::{Feature, PolygonIndex};
use zhili_grid::{Grid, GridCode};

use crate::web::caller::Caller;
use crate::web::error::{AppError, AppResult, ErrorBody};
use crate::web::extract::ApiQuery;
use zhili_core::ports::Ports;
use zhili_core::store::Store;
use zhili_grid::GridStore;

use crate::AppState;

/// What the index knows of a feature besides its polygon.
#[derive(Debug, Clone)]
struct Label {
    kind: &'static str,
    name: String,
}

#[derive(Default)]
struct Inner {
    index: PolygonIndex,
    labels: HashMap<String, Label>,
}

/// The shared index; cheap to clone.
#[derive(Clone, Default)]
pub struct Spatial {
    inner: Arc<RwLock<Inner>>,
    /// Bumped on every change applied: part of tile ETags.
    version: Arc<std::sync::atomic::AtomicU64>,
}

fn division_level(l: DivisionLevel) -> u8 {
    match l {
        DivisionLevel::County => 1,
        DivisionLevel::Township => 2,
        DivisionLevel::Village => 3,
    }
}

fn division_feature(d: &zhili_core::model::Division) -> (Feature, Label) {
    let geometry = d
        .boundary
        .as_deref()
        .and_then(|b| zhili_geo::geometry::read_stored_area(b).ok())
        .unwrap_or_else(|| geo::MultiPolygon::new(vec![]));
    let f = Feature {
        key: d.code.to_string(),
        level: division_level(d.code.level()),
        parent: d.code.parent().map(|p| p.to_string()),
        geometry,
    };
    (f, Label { kind: "division", name: d.name.clone() })
}

fn grid_feature(g: &Grid) -> (Feature, Label) {
    let parent = g.parent.as_ref().map(GridCode::to_string).unwrap_or_else(|| g.village().to_string());
    let f = Feature { key: g.code.to_string(), level: g.level + 3, parent: Some(parent), geometry: g.boundary.clone() };
    (f, Label { kind: "grid", name: g.name.clone() })
}

async fn load_all(store: &dyn Store, grids: &dyn GridStore) -> StoreResult<Inner> {
    let mut feats = Vec::new();
    let mut labels = HashMap::new();
    for d in store.all_divisions().await? {
        let (f, l) = division_feature(&d);
        labels.insert(f.key.clone(), l);
        feats.push(f);
    }
    let mut offset = 0;
    loop {
        let page = grids.grids(None, Page { offset, limit: 1000 }).await?;
        let n = page.len() as i64;
        for g in &page {
            let (f, l) = grid_feature(g);
            labels.insert(f.key.clone(), l);
            feats.push(f);
        }
        if n < 1000 {
            break;
        }
        offset += n;
    }
    Ok(Inner { index: PolygonIndex::build(feats), labels })
}

impl Spatial {
    /// Load everything now, then follow the store's changes in a background task.
    pub async fn start(ports: &Ports) -> StoreResult<Spatial> {
        let store = ports.port::<dyn Store>().clone();
        let grids = ports.port::<dyn GridStore>().clone();
        // Subscribe first so that nothing committed after the load is missed.
        let mut feed = store.changes().await?;
        let spatial = Spatial {
            inner: Arc::new(RwLock::new(load_all(store.as_ref(), grids.as_ref()).await?)),
            ..Spatial::default()
        };
        let s = spatial.clone();
        tokio::spawn(async move {
            while let Some(change) = feed.next().await {
                if let Err(e) = s.apply(store.as_ref(), grids.as_ref(), change).await {
                    tracing::warn!(error = %e, "spatial index could not follow a change; reloading");
                    if let Ok(all) = load_all(store.as_ref(), grids.as_ref()).await {
                        *s.inner.write().expect("not poisoned") = all;
                    }
                }
            }
        });
        Ok(spatial)
    }

    async fn apply(&self, store: &dyn Store, grids: &dyn GridStore, change: Change) -> StoreResult<()> {
        // Other kinds (users…) do not change the map.
        if matches!(&change, Change::Record { kind, .. } if kind != "division" && kind != "grid") {
            return Ok(());
        }
        self.version.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (feature, label) = match &change {
            Change::All => {
                let all = load_all(store, grids).await?;
                *self.inner.write().expect("not poisoned") = all;
                return Ok(());
            }
            Change::Record { kind, key } if kind == "division" => {
                let code = DivisionCode::parse(key).map_err(|e| StoreError::Other(e.to_string()))?;
                division_feature(&store.division(&code).await?)
            }
            Change::Record { kind, key } if kind == "grid" => {
                let code = GridCode::parse_any(key).map_err(|e| StoreError::Other(e.to_string()))?;
                match grids.grid(&code).await {
                    Ok(g) => grid_feature(&g),
                    Err(StoreError::NotFound) => {
                        let mut inner = self.inner.write().expect("not poisoned");
                        inner.index.remove(key);
                        inner.labels.remove(key);
                        return Ok(());
                    }
                    Err(e) => return Err(e),
                }
            }
            Change::Record { .. } => return Ok(()),
        };
        let mut inner = self.inner.write().expect("not poisoned");
        inner.labels.insert(feature.key.clone(), label);
        inner.index.upsert(feature);
        Ok(())
    }

    /// The chain of features at a point, finest first: (kind, code, name, level).
    pub fn chain(&self, lon: f64, lat: f64) -> Vec<ChainItem> {
        let inner = self.inner.read().expect("not poisoned");
        inner
            .index
            .chain(lon, lat)
            .into_iter()
            .map(|k| {
                let label = inner.labels.get(k);
                ChainItem {
                    kind: label.map_or("unknown", |l| l.kind),
                    code: k.to_string(),
                    name: label.map(|l| l.name.clone()).unwrap_or_default(),
                }
            })
            .collect()
    }

    /// A counter that changes whenever the indexed data changes.
    pub fn version(&self) -> u64 {
        self.version.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The kind (`grid`, `division`) and name of a feature.
    pub fn label(&self, key: &str) -> (&'static str, String) {
        let inner = self.inner.read().expect("not poisoned");
        inner.labels.get(key).map_or(("unknown", String::new()), |l| (l.kind, l.name.clone()))
    }

    /// A feature's level and parent key, without copying its geometry.
    pub fn parent_of(&self, key: &str) -> Option<(u8, Option<String>)> {
        self.inner.read().expect("not poisoned").index.get(key).map(|f| (f.level, f.parent.clone()))
    }

    /// One feature by key.
    pub fn feature(&self, key: &str) -> Option<Feature> {
        self.inner.read().expect("not poisoned").index.get(key).cloned()
    }

    /// Run `f` over the features of the given levels whose bounding box meets `bbox` (all if
    /// `None`) and their labels, under one read lock, without copying them.
    pub fn with_features<R>(
        &self,
        levels: &std::ops::RangeInclusive<u8>,
        bbox: Option<geo::Rect<f64>>,
        f: impl FnOnce(&mut dyn Iterator<Item = (&Feature, &str, &str)>) -> R,
    ) -> R {
        let world = geo::Rect::new((-180.0, -90.0), (180.0, 90.0));
        let inner = self.inner.read().expect("not poisoned");
        let mut it = levels.clone().flat_map(|l| inner.index.candidates_in_bbox(l, bbox.unwrap_or(world))).map(|f| {
            let (kind, name) = inner.labels.get(&f.key).map_or(("unknown", ""), |l| (l.kind, l.name.as_str()));
            (f, kind, name)
        });
        f(&mut it)
    }

    /// The bounding box of the features of the given levels.
    pub fn extent(&self, levels: &std::ops::RangeInclusive<u8>) -> Option<geo::Rect<f64>> {
        use geo::BoundingRect;
        let inner = self.inner.read().expect("not poisoned");
        let world = geo::Rect::new((-180.0, -90.0), (180.0, 90.0));
        let mut out: Option<geo::Rect<f64>> = None;
        for l in levels.clone() {
            for f in inner.index.candidates_in_bbox(l, world) {
                if let Some(r) = f.geometry.bounding_rect() {
                    out = Some(match out {
                        None => r,
                        Some(o) => geo::Rect::new(
                            (o.min().x.min(r.min().x), o.min().y.min(r.min().y)),
                            (o.max().x.max(r.max().x), o.max().y.max(r.max().y)),
                        ),
                    });
                }
            }
        }
        out
    }

    /// Features indexed, and an estimate of the memory they take.
    pub fn stats(&self) -> (usize, usize) {
        let inner = self.inner.read().expect("not poisoned");
        (inner.index.len(), inner.index.memory_bytes())
    }
}

/// One element of a location's chain.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ChainItem {
    /// `grid` or `division`.
    pub kind: &'static str,
    /// The code.
    pub code: String,
    /// The name.
    pub name: String,
}

/// Query of `GET /api/locate`.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct LocateQuery {
    /// Longitude (WGS-84/CGCS2000, or GCJ-02 with `crs=gcj02`).
    pub lon: f64,
    /// Latitude.
    pub lat: f64,
    /// `wgs84` (default) or `gcj02` (a point from a Chinese commercial map).
    pub crs: Option<String>,
}

/// Everything the point lies in, finest first: small grid → medium → large → village →
/// township → county. A point on a shared edge belongs to the grid with the smallest code.
#[utoipa::path(get, path = "/api/locate", tag = "grids", params(LocateQuery),
    responses((status = 200, body = Vec<ChainItem>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn locate(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<LocateQuery>,
) -> AppResult<Json<Vec<ChainItem>>> {
    authorize(&caller.principal, Action::ReadGrids, None)?;
    if !(-180.0..=180.0).contains(&q.lon) {
        return Err(AppError::msg(ErrorCode::InvalidQuery, "lon must be within -180..180").at("lon"));
    }
    if !(-90.0..=90.0).contains(&q.lat) {
        return Err(AppError::msg(ErrorCode::InvalidQuery, "lat must be within -90..90").at("lat"));
    }
    let (lon, lat) = match q.crs.as_deref() {
        None | Some("wgs84") => (q.lon, q.lat),
        Some("gcj02") => zhili_geo::gcj02::gcj02_to_wgs84(q.lon, q.lat),
        Some(other) => {
            return Err(
                AppError::msg(ErrorCode::InvalidQuery, format!("crs must be wgs84 or gcj02, got {other:?}")).at("crs")
            )
        }
    };
    Ok(Json(state.spatial.chain(lon, lat)))
}
