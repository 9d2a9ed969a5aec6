//! Validation of a grid import (网格导入校验): every rule is checked before anything is
//! written, and the report names every bad feature and why. An import with errors writes
//! nothing; gaps inside a parent are reported as warnings with their area.

use std::collections::{BTreeMap, HashMap, HashSet};

use geo::{Area, BooleanOps, BoundingRect, MultiPolygon};
use serde::Serialize;
use serde_json::Value;
use zhili_core::codes::{DivisionCode, DivisionLevel};
use zhili_core::store::{Page, Store, StoreResult};

use crate::{Grid, GridCode, GridCodeScheme, GridLevels, GridStore};

/// Most features accepted in one import.
pub const MAX_FEATURES: usize = 100_000;

/// Settings of a validation run.
#[derive(Debug, Clone)]
pub struct Rules {
    /// The code scheme.
    pub scheme: GridCodeScheme,
    /// The level names (their count is the hierarchy's depth).
    pub levels: GridLevels,
    /// Areas below this many square metres are treated as noise (digitising slivers).
    pub tolerance_m2: f64,
}

impl Default for Rules {
    fn default() -> Self {
        Rules { scheme: GridCodeScheme::default(), levels: GridLevels::default(), tolerance_m2: 1.0 }
    }
}

/// What the store already holds that an import is checked against.
#[derive(Debug, Default)]
pub struct Context {
    /// The importer's jurisdiction: grids of villages outside it are refused.
    pub within: Option<DivisionCode>,
    /// Villages/communities that exist, with their boundary if known.
    pub villages: HashMap<DivisionCode, Option<MultiPolygon<f64>>>,
    /// Grids already stored (an imported grid with the same code replaces one).
    pub existing: HashMap<GridCode, Grid>,
}

/// One problem found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    /// 1-based feature number in the file, when one feature is at fault.
    pub feature: Option<usize>,
    /// The grid code concerned, as written in the file.
    pub code: Option<String>,
    /// What kind of problem (stable, e.g. `overlap`, `parent_missing`): what a program reads,
    /// and the key of its text in each language (the server's `grid.problem.<kind>`).
    pub kind: &'static str,
    /// The values its text names (`area`, `parent`, `at`, …), written as in `message`.
    pub params: BTreeMap<&'static str, String>,
    /// What is wrong, in English (for logs and API clients; people read the localized text).
    pub message: String,
}

impl Problem {
    /// A problem of `kind` with its English message and the values it names.
    pub fn new(feature: Option<usize>, code: Option<String>, kind: &'static str, message: String) -> Problem {
        Problem { feature, code, kind, params: BTreeMap::new(), message }
    }

    /// With a named value.
    pub fn with(mut self, name: &'static str, value: impl std::fmt::Display) -> Problem {
        self.params.insert(name, value.to_string());
        self
    }
}

/// The outcome: grids ready to store if there are no errors.
#[derive(Debug, Default)]
pub struct Report {
    /// Valid grids (complete only when `errors` is empty).
    pub grids: Vec<Grid>,
    /// Problems that stop the import.
    pub errors: Vec<Problem>,
    /// Problems worth knowing that do not stop it (gaps).
    pub warnings: Vec<Problem>,
}

impl Report {
    /// Whether the import may be written.
    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Area in m², each polygon scaled at its own latitude (an equirectangular approximation: at
/// grid scale, a few km, the error is far below the tolerance). Planar area is also robust to
/// the degenerate slivers that boolean operations can return, where geodesic formulas are not.
pub fn area_m2(g: &MultiPolygon<f64>) -> f64 {
    const M_PER_DEG_LAT: f64 = 110_574.0;
    const M_PER_DEG_LON_EQUATOR: f64 = 111_320.0;
    g.0.iter()
        .map(|p| {
            let lat = p.exterior().0.first().map(|c| c.y).unwrap_or(0.0);
            p.unsigned_area() * M_PER_DEG_LAT * M_PER_DEG_LON_EQUATOR * lat.to_radians().cos()
        })
        .sum()
}

fn bbox_overlap(a: &MultiPolygon<f64>, b: &MultiPolygon<f64>) -> bool {
    match (a.bounding_rect(), b.bounding_rect()) {
        (Some(a), Some(b)) => {
            a.min().x <= b.max().x && b.min().x <= a.max().x && a.min().y <= b.max().y && b.min().y <= a.max().y
        }
        _ => false,
    }
}

/// Load what an import into `within` is checked against: the villages (with boundaries) and
/// the grids already stored there (divisions from the core's `store`, grids from `grids`).
pub async fn load_context<S: Store + ?Sized, G: GridStore + ?Sized>(
    store: &S,
    grids: &G,
    within: Option<&DivisionCode>,
) -> StoreResult<Context> {
    let mut ctx = Context { within: within.cloned(), ..Context::default() };
    for d in store.all_divisions().await? {
        if d.code.level() == DivisionLevel::Village && within.is_none_or(|w| w.contains(&d.code)) {
            let area = d.boundary.as_deref().and_then(|b| zhili_geo::geometry::read_stored_area(b).ok());
            ctx.villages.insert(d.code, area);
        }
    }
    let mut offset = 0;
    loop {
        let page = grids.grids(within, Page { offset, limit: 1000 }).await?;
        let n = page.len() as i64;
        ctx.existing.extend(page.into_iter().map(|g| (g.code.clone(), g)));
        if n < 1000 {
            break;
        }
        offset += n;
    }
    Ok(ctx)
}

/// Read a GeoJSON FeatureCollection: each feature has properties `code`, `name`, `level`
/// (1 = top) and `parent` (the enclosing grid's code; absent or null at the top level).
pub fn validate_geojson(doc: &Value, rules: &Rules, ctx: &Context) -> Report {
    validate_geojson_with_progress(doc, rules, ctx, &mut |_, _| {})
}

/// Grids as the GeoJSON FeatureCollection that [`validate_geojson`] reads (properties `code`,
/// `name`, `level`, `parent`, and `village` for people), so an export imports back unchanged.
pub fn to_geojson(grids: &[Grid]) -> String {
    let mut out = String::from("{\"type\":\"FeatureCollection\",\"features\":[");
    for (i, g) in grids.iter().enumerate() {
        if i > 0 {
            out.push_str(",\n");
        }
        let props = serde_json::json!({
            "code": g.code.as_str(),
            "name": g.name,
            "level": g.level,
            "parent": g.parent.as_ref().map(|p| p.as_str()),
            "village": g.village().as_str(),
        });
        out.push_str(&format!(
            "{{\"type\":\"Feature\",\"id\":{},\"geometry\":{},\"properties\":{props}}}",
            Value::String(g.code.as_str().into()),
            zhili_geo::geometry::area_to_geojson_string(&g.boundary)
        ));
    }
    out.push_str("]}\n");
    out
}

/// [`validate_geojson`], calling `progress(done, total)` as features are checked.
pub fn validate_geojson_with_progress(
    doc: &Value,
    rules: &Rules,
    ctx: &Context,
    progress: &mut dyn FnMut(usize, usize),
) -> Report {
    let mut report = Report::default();
    let features = match (doc.get("type").and_then(Value::as_str), doc.get("features").and_then(Value::as_array)) {
        (Some("FeatureCollection"), Some(f)) => f,
        _ => {
            report.errors.push(Problem::new(
                None,
                None,
                "not_feature_collection",
                "expected a GeoJSON FeatureCollection".into(),
            ));
            return report;
        }
    };
    if features.len() > MAX_FEATURES {
        report.errors.push(
            Problem::new(
                None,
                None,
                "too_many_features",
                format!("{} features; at most {MAX_FEATURES} per import", features.len()),
            )
            .with("n", features.len())
            .with("max", MAX_FEATURES),
        );
        return report;
    }
    let mut parsed = Vec::with_capacity(features.len());
    for (i, f) in features.iter().enumerate() {
        let n = i + 1;
        let props = f.get("properties").cloned().unwrap_or(Value::Null);
        let raw_code = props.get("code").and_then(Value::as_str).map(str::to_string);
        let mut err = |kind: &'static str, m: String, params: &[(&'static str, String)]| {
            let mut p = Problem::new(Some(n), raw_code.clone(), kind, m);
            p.params.extend(params.iter().cloned());
            report.errors.push(p)
        };
        let Some(code_s) = &raw_code else {
            err("code_missing", "property `code` is missing or not a string".into(), &[]);
            continue;
        };
        let code = match GridCode::parse(code_s, rules.scheme) {
            Ok(c) => c,
            Err(e) => {
                let mut params = vec![("value", code_s.clone())];
                params.extend(code_rule(&e));
                err("code_invalid", format!("code: {e}"), &params);
                continue;
            }
        };
        let name = props.get("name").and_then(Value::as_str).unwrap_or("").trim().to_string();
        if name.is_empty() || name.chars().count() > 100 {
            err("name_length", "property `name` must have 1–100 characters".into(), &[]);
        }
        let depth = rules.levels.depth();
        let level = match props.get("level").and_then(Value::as_u64) {
            Some(l) if l >= 1 && l <= u64::from(depth) => l as u8,
            _ => {
                err(
                    "level_range",
                    format!("property `level` must be an integer 1–{depth}"),
                    &[("max", depth.to_string())],
                );
                continue;
            }
        };
        let parent = match props.get("parent") {
            None | Some(Value::Null) => None,
            Some(Value::String(p)) => match GridCode::parse(p, rules.scheme) {
                Ok(p) => Some(p),
                Err(e) => {
                    let mut params = vec![("value", p.clone())];
                    params.extend(code_rule(&e));
                    err("parent_invalid", format!("parent: {e}"), &params);
                    continue;
                }
            },
            Some(_) => {
                err("parent_type", "property `parent` must be a grid code string or null".into(), &[]);
                continue;
            }
        };
        let geometry = match f.get("geometry") {
            Some(g) => match zhili_geo::geometry::parse_area(g) {
                Ok(g) => g,
                Err(e) => {
                    err("geometry_invalid", format!("geometry.{e}"), &[("at", format!("geometry.{}", e.at))]);
                    continue;
                }
            },
            None => {
                err("geometry_missing", "the feature has no geometry".into(), &[]);
                continue;
            }
        };
        parsed.push((n, Grid { code, name, level, parent, boundary: geometry }));
    }
    check(parsed, rules, ctx, report, progress)
}

/// Check parsed grids against each other and the context.
fn check(
    parsed: Vec<(usize, Grid)>,
    rules: &Rules,
    ctx: &Context,
    mut report: Report,
    progress: &mut dyn FnMut(usize, usize),
) -> Report {
    let mut seen = HashSet::new();
    let mut by_code: HashMap<GridCode, &Grid> = ctx.existing.iter().map(|(k, v)| (k.clone(), v)).collect();
    for (n, g) in &parsed {
        if !seen.insert(g.code.clone()) {
            report.errors.push(problem(
                *n,
                g,
                "duplicate_code",
                "duplicate code: another feature in this file has it".into(),
            ));
        }
        by_code.insert(g.code.clone(), g);
    }
    let tol = rules.tolerance_m2;
    for (i, (n, g)) in parsed.iter().enumerate() {
        if i % 100 == 0 {
            progress(i, parsed.len());
        }
        let village = g.village();
        if let Some(j) = &ctx.within {
            if !j.contains(&village) {
                report.errors.push(
                    problem(
                        *n,
                        g,
                        "outside_jurisdiction",
                        format!("village/community {village} is outside your jurisdiction {j}"),
                    )
                    .with("village", &village)
                    .with("jurisdiction", j),
                );
                continue;
            }
        }
        let Some(vb) = ctx.villages.get(&village) else {
            report.errors.push(
                problem(
                    *n,
                    g,
                    "village_missing",
                    format!("village/community {village} (digits 1–12 of the code) does not exist"),
                )
                .with("village", &village),
            );
            continue;
        };
        if let Some(vb) = vb {
            let outside = area_m2(&g.boundary.difference(vb));
            if outside > tol {
                report.errors.push(
                    problem(
                        *n,
                        g,
                        "outside_village",
                        format!("{outside:.1} m² lie outside its village/community {village}"),
                    )
                    .with("area", format_args!("{outside:.1}"))
                    .with("village", &village),
                );
            }
        }
        match (g.level, &g.parent) {
            (1, None) => {}
            (1, Some(p)) => report.errors.push(
                problem(*n, g, "top_with_parent", format!("a level-1 grid has no parent, but parent {p} is given"))
                    .with("parent", p),
            ),
            // A village may start its hierarchy lower (a small community without 大网格).
            (_, None) => {}
            (_, Some(p)) => {
                if p.village() != village {
                    report.errors.push(
                        problem(
                            *n,
                            g,
                            "parent_other_village",
                            format!("parent {p} belongs to another village/community than {}", g.code),
                        )
                        .with("parent", p),
                    );
                } else if p == &g.code {
                    report.errors.push(problem(*n, g, "own_parent", "a grid cannot be its own parent".into()));
                } else {
                    match by_code.get(p) {
                        None => report.errors.push(
                            problem(*n, g, "parent_missing", format!("parent {p} is neither in this file nor stored"))
                                .with("parent", p),
                        ),
                        Some(pg) if pg.level + 1 != g.level => report.errors.push(
                            problem(
                                *n,
                                g,
                                "parent_level",
                                format!(
                                    "parent {p} is at level {}, so this grid must be at level {}",
                                    pg.level,
                                    pg.level + 1
                                ),
                            )
                            .with("parent", p)
                            .with("level", pg.level)
                            .with("expected", pg.level + 1),
                        ),
                        Some(pg) => {
                            let outside = area_m2(&g.boundary.difference(&pg.boundary));
                            if outside > tol {
                                report.errors.push(
                                    problem(
                                        *n,
                                        g,
                                        "outside_parent",
                                        format!("{outside:.1} m² lie outside its parent {p}"),
                                    )
                                    .with("area", format_args!("{outside:.1}"))
                                    .with("parent", p),
                                );
                            }
                        }
                    }
                }
            }
        }
    }
    // Siblings: the same parent, or (for grids at the top of their village's hierarchy) the
    // same village, whatever their level. Stored siblings count too, unless replaced.
    let mut groups: BTreeMap<(String, u8), Vec<Member>> = BTreeMap::new();
    for (n, g) in &parsed {
        groups.entry(sibling_key(g)).or_default().push((Some(*n), g));
    }
    for (code, g) in &ctx.existing {
        if !seen.contains(code) {
            if let Some(group) = groups.get_mut(&sibling_key(g)) {
                group.push((None, g));
            }
        }
    }
    for members in groups.values() {
        for (i, (na, a)) in members.iter().enumerate() {
            for (nb, b) in &members[i + 1..] {
                if na.is_none() && nb.is_none() || !bbox_overlap(&a.boundary, &b.boundary) {
                    continue;
                }
                let overlap = area_m2(&a.boundary.intersection(&b.boundary));
                if overlap > tol {
                    // Name the later feature, and the other one with its number if in the file.
                    let (n, g, on, other) = if nb.is_some() { (nb, b, na, a) } else { (na, a, nb, b) };
                    let where_other = on.map(|k| format!(" (feature {k})")).unwrap_or_else(|| " (stored)".into());
                    let p = Problem::new(
                        *n,
                        Some(g.code.to_string()),
                        if on.is_some() { "overlap" } else { "overlap_stored" },
                        format!("overlaps its sibling {}{where_other} by {overlap:.1} m²", other.code),
                    )
                    .with("other", &other.code)
                    .with("area", format_args!("{overlap:.1}"));
                    report.errors.push(match on {
                        Some(k) => p.with("other_feature", k),
                        None => p,
                    });
                }
            }
        }
    }
    // Gaps: the part of a parent (or of a village, for its top grids) its children in this
    // file leave uncovered. Reported, not refused: a city may import level by level.
    for ((parent, level), members) in &groups {
        let children: Vec<&Grid> = members.iter().filter(|m| m.0.is_some()).map(|m| m.1).collect();
        let container = if *level == 0 {
            DivisionCode::parse(parent).ok().and_then(|v| ctx.villages.get(&v).cloned().flatten())
        } else {
            GridCode::parse(parent, rules.scheme).ok().and_then(|p| by_code.get(&p).map(|g| g.boundary.clone()))
        };
        let (Some(container), false) = (container, children.is_empty()) else { continue };
        let mut rest = container;
        for c in members.iter().map(|m| m.1) {
            rest = rest.difference(&c.boundary);
        }
        let gap = area_m2(&rest);
        if gap > tol {
            report.warnings.push(
                Problem::new(
                    None,
                    Some(parent.clone()),
                    "gap",
                    format!("{gap:.1} m² of {parent} are covered by none of its grids"),
                )
                .with("area", format_args!("{gap:.1}"))
                .with("parent", parent),
            );
        }
    }
    progress(parsed.len(), parsed.len());
    if report.errors.is_empty() {
        report.grids = parsed.into_iter().map(|(_, g)| g).collect();
    }
    report
}

/// A grid in a sibling group: its feature number in the file (`None` if stored) and itself.
type Member<'a> = (Option<usize>, &'a Grid);

fn sibling_key(g: &Grid) -> (String, u8) {
    match &g.parent {
        Some(p) => (p.to_string(), g.level),
        None => (g.village().to_string(), 0),
    }
}

fn problem(n: usize, g: &Grid, kind: &'static str, message: String) -> Problem {
    Problem::new(Some(n), Some(g.code.to_string()), kind, message)
}

/// Which rule a refused code breaks, as problem params: `rule` (`length`, `not_digit`,
/// `village`, `zero_serial`) and that rule's figures, so the text a person reads can say what
/// is expected (`grid.problem.code_invalid.length`: 14 digits, it has 13).
fn code_rule(e: &crate::GridCodeError) -> Vec<(&'static str, String)> {
    use crate::GridCodeError as E;
    match e {
        E::Length { expected, serial, got } => vec![
            ("rule", "length".into()),
            ("expected", expected.to_string()),
            ("serial", serial.to_string()),
            ("got", got.to_string()),
        ],
        E::NotDigit { position, found } => {
            vec![("rule", "not_digit".into()), ("position", position.to_string()), ("found", found.to_string())]
        }
        E::Village(_) => vec![("rule", "village".into())],
        E::ZeroSerial { end } => vec![("rule", "zero_serial".into()), ("end", end.to_string())],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rect(w: f64, s: f64, e: f64, n: f64) -> Value {
        json!({"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]})
    }

    fn feature(code: &str, level: u8, parent: Option<&str>, geom: Value) -> Value {
        json!({"type": "Feature", "properties": {"code": code, "name": format!("网格{code}"), "level": level, "parent": parent}, "geometry": geom})
    }

    fn ctx() -> Context {
        let v = zhili_geo::geometry::parse_area(&rect(117.80, 36.40, 117.82, 36.42)).unwrap();
        let mut c = Context::default();
        c.villages.insert(DivisionCode::parse("370304100201").unwrap(), Some(v));
        c
    }

    /// A village split into two large grids, the first into two small ones (2 levels).
    fn good() -> Vec<Value> {
        vec![
            feature("37030410020101", 1, None, rect(117.80, 36.40, 117.81, 36.42)),
            feature("37030410020102", 1, None, rect(117.81, 36.40, 117.82, 36.42)),
            feature("37030410020111", 2, Some("37030410020101"), rect(117.80, 36.40, 117.81, 36.41)),
            feature("37030410020112", 2, Some("37030410020101"), rect(117.80, 36.41, 117.81, 36.42)),
        ]
    }

    fn run(features: Vec<Value>) -> Report {
        let rules = Rules { levels: GridLevels(vec!["大网格".into(), "小网格".into()]), ..Rules::default() };
        validate_geojson(&json!({"type": "FeatureCollection", "features": features}), &rules, &ctx())
    }

    fn messages(r: &Report) -> Vec<String> {
        r.errors.iter().map(|p| format!("{}: {}", p.feature.unwrap_or(0), p.message)).collect()
    }

    #[test]
    fn an_export_imports_back_unchanged() {
        let r = run(good());
        let text = to_geojson(&r.grids);
        let doc: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(doc["features"][2]["properties"]["parent"], "37030410020101");
        assert_eq!(doc["features"][2]["properties"]["village"], "370304100201");
        assert!(doc["features"][0]["properties"]["parent"].is_null());
        let rules = Rules { levels: GridLevels(vec!["大网格".into(), "小网格".into()]), ..Rules::default() };
        let again = validate_geojson(&doc, &rules, &ctx());
        assert!(again.ok(), "{:?}", messages(&again));
        assert_eq!(again.grids, r.grids);
    }

    #[test]
    fn a_good_import_passes_with_no_gaps() {
        let r = run(good());
        assert!(r.ok(), "{:?}", messages(&r));
        assert_eq!(r.grids.len(), 4);
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    }

    #[test]
    fn every_bad_feature_is_named() {
        let mut f = good();
        // Child reaching outside its parent (and overlapping its sibling).
        f[3] = feature("37030410020112", 2, Some("37030410020101"), rect(117.80, 36.405, 117.815, 36.42));
        // Duplicate code, bad code, unknown parent, wrong level for parent, outside village.
        f.push(feature("37030410020102", 1, None, rect(117.81, 36.40, 117.82, 36.42)));
        f.push(feature("3703041002011", 1, None, rect(117.80, 36.40, 117.81, 36.41)));
        f.push(feature("37030410020121", 2, Some("37030410020199"), rect(117.81, 36.40, 117.82, 36.41)));
        f.push(feature("37030410020122", 2, Some("37030410020111"), rect(117.80, 36.40, 117.805, 36.405)));
        f.push(feature("37030410020201", 1, None, rect(117.90, 36.40, 117.91, 36.41)));
        f.push(feature("37030410020131", 2, None, rect(117.80, 36.40, 117.81, 36.41)));
        f.push(feature("37030410020132", 1, None, json!({"type": "Polygon", "coordinates": [[[117.8, 36.4], [117.81, 36.41], [117.81, 36.4], [117.8, 36.41], [117.8, 36.4]]]})));
        let r = run(f);
        let m = messages(&r).join("\n");
        assert!(!r.ok());
        assert!(r.grids.is_empty(), "nothing is ready to write when there are errors");
        for expect in [
            "4: ",
            "lie outside its parent 37030410020101",
            "overlaps its sibling",
            "5: duplicate code",
            "6: code: grid code must have 14 digits",
            "7: parent 37030410020199 is neither in this file nor stored",
            "8: parent 37030410020111 is at level 2, so this grid must be at level 3",
            "9: village/community 370304100202",
            "10: overlaps its sibling 37030410020101",
            "11: geometry.coordinates: invalid geometry",
        ] {
            assert!(m.contains(expect), "missing {expect:?} in:\n{m}");
        }
    }

    #[test]
    fn gaps_are_warnings_with_their_area() {
        let mut f = good();
        f.remove(3);
        let r = run(f);
        assert!(r.ok(), "{:?}", messages(&r));
        assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
        let w = &r.warnings[0];
        assert_eq!(w.code.as_deref(), Some("37030410020101"));
        // 0.01° × 0.01° at 36.4°N ≈ 1113 m × 896 m ≈ 0.997 km².
        let area: f64 = w.message.split(' ').next().unwrap().parse().unwrap();
        assert!((990_000.0..1_010_000.0).contains(&area), "{area}");
    }

    #[test]
    fn outside_the_village_and_malformed_documents() {
        let r = run(vec![feature("37030410020101", 1, None, rect(117.80, 36.40, 117.83, 36.42))]);
        assert!(messages(&r)[0].contains("lie outside its village/community 370304100201"), "{:?}", messages(&r));
        let r = validate_geojson(&json!({"type": "Feature"}), &Rules::default(), &ctx());
        assert_eq!(r.errors[0].message, "expected a GeoJSON FeatureCollection");
        let r =
            run(vec![json!({"type": "Feature", "properties": {"name": "x"}, "geometry": rect(0.0, 0.0, 1.0, 1.0)})]);
        assert!(messages(&r)[0].contains("`code` is missing"));
    }
}
