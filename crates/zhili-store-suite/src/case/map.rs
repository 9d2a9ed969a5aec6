//! Suite cases for cases on the One Map (案件图层): points in a box and density cells.

use zhili_case::model::{Case, CaseFilter, TimelineEntry};
use zhili_case::workflow::CaseState;
use zhili_core::audit::Actor;

use super::{case, report, CaseBackend};
use crate::{actor, c, seed};

const BOX: [f64; 4] = [117.80, 36.40, 117.90, 36.50];

/// Cases at a grid of positions in and around [`BOX`]: 12 inside (3 closed), 2 outside.
async fn scatter(s: &dyn CaseBackend) -> Vec<Case> {
    seed(s).await;
    let mut all = Vec::new();
    for i in 0..12 {
        // Two clusters, each in the middle of a 0.01° cell: 8 cases near (117.815, 36.415), 4 near
        // (117.885, 36.485).
        let (lon, lat) = if i < 8 { (117.815 + i as f64 * 1e-4, 36.415) } else { (117.885, 36.485 + i as f64 * 1e-4) };
        let mut k = Case { lon, lat, ..case(if i % 2 == 0 { "SJ0102" } else { "BJ0101" }, "370304100201", i) };
        if i % 4 == 3 {
            k.status.state = CaseState::Closed;
            k.clock = Default::default();
        }
        all.push(k);
    }
    // Outside: west of the box, and north of it.
    all.push(Case { lon: 117.79, lat: 36.45, ..case("SJ0102", "370304100201", 20) });
    all.push(Case { lon: 117.85, lat: 36.51, ..case("SJ0102", "370304100201", 21) });
    let rows: Vec<(Actor, Case, TimelineEntry)> = all
        .into_iter()
        .map(|k| {
            let r = report(&k);
            (actor(), k, r)
        })
        .collect();
    s.create_cases(&rows).await.unwrap()
}

/// Points: only those in the box (edges included), newest first, filtered, limited, slim.
pub async fn case_points_in_a_box(s: &dyn CaseBackend) {
    let made = scatter(s).await;
    let all = CaseFilter::default();
    let pts = s.case_points(&all, BOX, 100).await.unwrap();
    assert_eq!(pts.len(), 12, "{pts:?}");
    // Newest report first.
    let want: Vec<i64> = made[..12].iter().rev().map(|k| k.id).collect();
    assert_eq!(pts.iter().map(|p| p.id).collect::<Vec<_>>(), want);
    let first = &pts[0];
    let stored = &made[11];
    assert_eq!((first.lon, first.lat), (stored.lon, stored.lat), "positions are exact");
    assert_eq!(first.class_code, stored.class_code.to_string());
    assert_eq!(first.state, stored.status.state);
    assert_eq!(pts.iter().find(|p| p.id == made[0].id).unwrap().deadline, made[0].clock.deadline);
    // A box's edges are inside it.
    let edge = s.case_points(&all, [117.79, 36.45, 117.80, 36.46], 10).await.unwrap();
    assert_eq!(edge.iter().map(|p| p.id).collect::<Vec<_>>(), vec![made[12].id]);
    // Nothing outside.
    assert!(s.case_points(&all, [100.0, 20.0, 101.0, 21.0], 10).await.unwrap().is_empty());
    // State filter.
    let closed = CaseFilter { states: vec![CaseState::Closed], ..Default::default() };
    let pts = s.case_points(&closed, BOX, 100).await.unwrap();
    assert_eq!(pts.len(), 3);
    assert!(pts.iter().all(|p| p.state == CaseState::Closed));
    // Other filters (class, jurisdiction) apply as in the worklist.
    let class = CaseFilter { class_prefix: Some("BJ01".into()), ..Default::default() };
    assert_eq!(s.case_points(&class, BOX, 100).await.unwrap().len(), 6);
    let elsewhere = CaseFilter { within: Some(c("370304001")), ..Default::default() };
    assert!(s.case_points(&elsewhere, BOX, 100).await.unwrap().is_empty());
    // The limit keeps the newest.
    let pts = s.case_points(&all, BOX, 5).await.unwrap();
    assert_eq!(pts.iter().map(|p| p.id).collect::<Vec<_>>(), want[..5].to_vec());
}

/// Density: cells from the database whose counts sum to the cases in the box.
pub async fn case_density_sums_to_the_count(s: &dyn CaseBackend) {
    scatter(s).await;
    let all = CaseFilter::default();
    let cells = s.case_density(&all, BOX, 0.01).await.unwrap();
    assert_eq!(cells.iter().map(|d| d.count).sum::<i64>(), 12, "{cells:?}");
    // The two clusters fall in two cells, each answered at its cases' mean position.
    assert_eq!(cells.len(), 2, "{cells:?}");
    assert_eq!(cells[0].count, 8);
    assert!((cells[0].lon - (117.815 + 3.5e-4)).abs() < 1e-9 && (cells[0].lat - 36.415).abs() < 1e-9, "{cells:?}");
    assert!(cells.iter().all(|d| d.lon >= BOX[0] && d.lon <= BOX[2] && d.lat >= BOX[1] && d.lat <= BOX[3]));
    // Coarser cells hold the same total; finer ones too.
    for cell in [1.0, 0.05, 0.001, 0.00001] {
        let cells = s.case_density(&all, BOX, cell).await.unwrap();
        assert_eq!(cells.iter().map(|d| d.count).sum::<i64>(), 12, "cell {cell}");
    }
    assert_eq!(s.case_density(&all, BOX, 1.0).await.unwrap().len(), 1);
    // Filters apply.
    let open =
        CaseFilter { states: CaseState::ALL.iter().copied().filter(|s| s.is_open()).collect(), ..Default::default() };
    let cells = s.case_density(&open, BOX, 0.01).await.unwrap();
    assert_eq!(cells.iter().map(|d| d.count).sum::<i64>(), 9);
    assert!(s.case_density(&all, [100.0, 20.0, 101.0, 21.0], 0.01).await.unwrap().is_empty());
    // A bad cell size is refused, not divided by.
    assert!(s.case_density(&all, BOX, 0.0).await.is_err());
}
