//! Rainfall and level indicators: validation, evaluation, and the spreadsheet exchange.

use proptest::prelude::*;
use rust_xlsxwriter::Workbook;
use zhili_core::codes::DivisionCode;
use zhili_flood::indicator::import::{self, ImportError, ImportProblem, VillageIndicators};
use zhili_flood::indicator::{
    evaluate_level, evaluate_rain, IndicatorNotice, IndicatorProblem, LevelIndicators, LevelMeasure, RainIndicators,
    RainThreshold,
};
use zhili_flood::vocab::{Grade, Scheme, SoilState, Window};

const VILLAGE: &str = "370304100201";
const OTHER: &str = "370304100202";

fn code(s: &str) -> DivisionCode {
    DivisionCode::parse(s).unwrap()
}

fn known(c: &DivisionCode) -> bool {
    [VILLAGE, OTHER].contains(&c.as_str())
}

fn th(window: Window, soil: SoilState, mm: &[f64]) -> RainThreshold {
    RainThreshold { window, soil, mm: mm.to_vec() }
}

/// The published village of flood.md: 1 h = 40 / 35 / 30 mm, 3 h = 65 / 60 / 50 mm,
/// 6 h = 95 / 90 / 80 mm for dry / normal / wet soil. flood.md gives one value per soil state;
/// we read them as the 准备转移 thresholds and add 立即转移 values of our own above them.
fn published() -> RainIndicators {
    use SoilState::*;
    let rows = [
        (Window::H1, [(Dry, 40.0, 55.0), (Normal, 35.0, 50.0), (Wet, 30.0, 45.0)]),
        (Window::H3, [(Dry, 65.0, 85.0), (Normal, 60.0, 80.0), (Wet, 50.0, 70.0)]),
        (Window::H6, [(Dry, 95.0, 120.0), (Normal, 90.0, 115.0), (Wet, 80.0, 105.0)]),
    ];
    let thresholds =
        rows.iter().flat_map(|(w, s)| s.iter().map(move |(soil, p, i)| th(*w, *soil, &[*p, *i]))).collect();
    RainIndicators::new(code(VILLAGE), Scheme::TwoLevel, thresholds).unwrap()
}

/// flood.md's four-colour example (soil-independent): 1 h ≥ 35 / 45 / 60 / 80 mm, 3 h ≥ 55 /
/// 75 / 100 / 120, 6 h ≥ 70 / 95 / 120 / 150, 24 h ≥ 100 / 130 / 160 / 200.
fn four_colour() -> RainIndicators {
    let rows = [
        (Window::H1, [35.0, 45.0, 60.0, 80.0]),
        (Window::H3, [55.0, 75.0, 100.0, 120.0]),
        (Window::H6, [70.0, 95.0, 120.0, 150.0]),
        (Window::H24, [100.0, 130.0, 160.0, 200.0]),
    ];
    let thresholds = rows.iter().flat_map(|(w, mm)| SoilState::ALL.map(|s| th(*w, s, mm))).collect();
    RainIndicators::new(code(OTHER), Scheme::FourColour, thresholds).unwrap()
}

fn problems(r: Result<import::RainImport, ImportError>) -> Vec<ImportProblem> {
    match r {
        Err(ImportError::Invalid(p)) => p,
        other => panic!("expected problems, got {other:?}"),
    }
}

fn cell(row: u32, column: &str, value: &str, message: &str) -> ImportProblem {
    ImportProblem::Cell { row, column: column.into(), value: value.into(), message: message.into() }
}

// ---------------------------------------------------------------------------------------------
// The published sets
// ---------------------------------------------------------------------------------------------

#[test]
fn the_published_village_evaluates_by_soil_state() {
    let ind = published();
    assert_eq!(ind.threshold(Window::H3, SoilState::Wet, Grade::Prepare), Some(50.0));
    assert_eq!(ind.threshold(Window::H3, SoilState::Wet, Grade::Red), None);
    assert_eq!(ind.threshold(Window::H12, SoilState::Wet, Grade::Prepare), None);
    assert!(!ind.soil_independent());
    assert!(ind.notices().is_empty());
    assert_eq!(ind.missing_standard_windows(), [Window::H12, Window::H24]);
    assert_eq!(four_colour().missing_standard_windows(), [Window::H12]);

    // 36 mm in 1 h: prepare on normal soil, nothing on dry soil.
    let acc = [(Window::H1, 36.0), (Window::H3, 40.0), (Window::H6, 41.0)];
    let normal = evaluate_rain(&ind, SoilState::Normal, &acc).unwrap();
    assert_eq!(normal.grade, Grade::Prepare);
    assert_eq!(normal.crossings.len(), 1);
    assert_eq!(
        (normal.crossings[0].window, normal.crossings[0].value, normal.crossings[0].threshold),
        (Window::H1, 36.0, 35.0)
    );
    assert_eq!(evaluate_rain(&ind, SoilState::Dry, &acc), None);

    // Exactly at the threshold counts; every window that crossed is listed, the highest grade wins.
    let acc = [(Window::H1, 30.0), (Window::H3, 70.0), (Window::H6, 90.0), (Window::H24, 500.0)];
    let wet = evaluate_rain(&ind, SoilState::Wet, &acc).unwrap();
    assert_eq!(wet.grade, Grade::Immediate);
    let got: Vec<_> = wet.crossings.iter().map(|c| (c.window, c.grade, c.threshold)).collect();
    assert_eq!(
        got,
        [(Window::H1, Grade::Prepare, 30.0), (Window::H3, Grade::Immediate, 70.0), (Window::H6, Grade::Prepare, 80.0)]
    );

    // Values that are not numbers are ignored; a window given twice counts its larger value.
    assert_eq!(evaluate_rain(&ind, SoilState::Wet, &[(Window::H1, f64::NAN), (Window::H1, f64::INFINITY)]), None);
    let twice = evaluate_rain(&ind, SoilState::Wet, &[(Window::H1, 46.0), (Window::H1, 10.0)]).unwrap();
    assert_eq!((twice.grade, twice.crossings[0].value), (Grade::Immediate, 46.0));
    assert_eq!(evaluate_rain(&ind, SoilState::Wet, &[]), None);
}

#[test]
fn the_four_colour_example_evaluates() {
    let ind = four_colour();
    assert!(ind.soil_independent());
    assert_eq!(ind.windows(), [Window::H1, Window::H3, Window::H6, Window::H24]);
    let r = evaluate_rain(&ind, SoilState::Dry, &[(Window::H1, 62.0), (Window::H3, 76.0)]).unwrap();
    assert_eq!(r.grade, Grade::Orange);
    assert_eq!(r.crossings.iter().map(|c| c.grade).collect::<Vec<_>>(), [Grade::Orange, Grade::Yellow]);
    let r = evaluate_rain(&ind, SoilState::Wet, &[(Window::H24, 200.0)]).unwrap();
    assert_eq!((r.grade, r.crossings[0].threshold), (Grade::Red, 200.0));
    assert_eq!(evaluate_rain(&ind, SoilState::Normal, &[(Window::H1, 34.9)]), None);
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

#[test]
fn every_rule_is_reported_precisely() {
    use SoilState::*;
    let rows = vec![
        th(Window::H1, Dry, &[40.0, 40.0]),    // grades not rising
        th(Window::H1, Normal, &[45.0, 60.0]), // wetter needs more than drier
        th(Window::H1, Wet, &[0.0, 2000.0]),   // out of range twice
        th(Window::H3, Dry, &[60.0]),          // one value for two grades
        th(Window::H3, Dry, &[60.0, 70.0]),    // twice
    ];
    let found = RainIndicators::new(code("370304100"), Scheme::TwoLevel, rows).unwrap_err();
    assert_eq!(
        found,
        vec![
            IndicatorProblem::NotAVillage { code: "370304100".into() },
            IndicatorProblem::GradeOrder {
                window: Window::H1,
                soil: Dry,
                lower: Grade::Prepare,
                lower_mm: 40.0,
                higher: Grade::Immediate,
                higher_mm: 40.0
            },
            IndicatorProblem::OutOfRange { window: Window::H1, soil: Wet, grade: Grade::Prepare, mm: 0.0 },
            IndicatorProblem::OutOfRange { window: Window::H1, soil: Wet, grade: Grade::Immediate, mm: 2000.0 },
            IndicatorProblem::GradeCount { window: Window::H3, soil: Dry, expected: 2, got: 1 },
            IndicatorProblem::SoilOrder {
                window: Window::H1,
                grade: Grade::Prepare,
                drier: Dry,
                drier_mm: 40.0,
                wetter: Normal,
                wetter_mm: 45.0
            },
            IndicatorProblem::SoilOrder {
                window: Window::H1,
                grade: Grade::Immediate,
                drier: Dry,
                drier_mm: 40.0,
                wetter: Normal,
                wetter_mm: 60.0
            },
            IndicatorProblem::SoilOrder {
                window: Window::H1,
                grade: Grade::Immediate,
                drier: Normal,
                drier_mm: 60.0,
                wetter: Wet,
                wetter_mm: 2000.0
            },
            IndicatorProblem::MissingSoil { window: Window::H3, soil: Normal },
            IndicatorProblem::MissingSoil { window: Window::H3, soil: Wet },
        ]
    );
    assert_eq!(found[1].to_string(), "1h 较干: 立即转移 40 mm must be more than 准备转移 40 mm");
    assert_eq!(
        found[5].to_string(),
        "1h 准备转移: 一般 45 mm must not be more than 较干 40 mm (wetter soil floods on less rain)"
    );
    let dup = RainIndicators::new(
        code(VILLAGE),
        Scheme::TwoLevel,
        SoilState::ALL.iter().chain(&[Wet]).map(|s| th(Window::H1, *s, &[30.0, 40.0])).collect(),
    )
    .unwrap_err();
    assert_eq!(dup, vec![IndicatorProblem::Duplicate { window: Window::H1, soil: Wet }]);
    assert_eq!(RainIndicators::new(code(VILLAGE), Scheme::FourColour, vec![]), Err(vec![IndicatorProblem::Empty]));
    let nan = RainIndicators::new(
        code(VILLAGE),
        Scheme::TwoLevel,
        SoilState::ALL.map(|s| th(Window::H1, s, &[f64::NAN, 40.0])).to_vec(),
    )
    .unwrap_err();
    assert!(nan.iter().any(|p| matches!(p, IndicatorProblem::OutOfRange { .. })), "{nan:?}");
    assert!(nan.iter().any(|p| matches!(p, IndicatorProblem::GradeOrder { .. })), "{nan:?}");
}

#[test]
fn a_longer_window_below_a_shorter_one_is_a_notice() {
    let mut rows: Vec<RainThreshold> = SoilState::ALL.map(|s| th(Window::H1, s, &[40.0, 60.0])).to_vec();
    rows.extend(SoilState::ALL.map(|s| th(Window::H3, s, &[35.0, 70.0])));
    let ind = RainIndicators::new(code(VILLAGE), Scheme::TwoLevel, rows).unwrap();
    let notices = ind.notices();
    assert_eq!(notices.len(), 3, "{notices:?}");
    assert_eq!(
        notices[0],
        IndicatorNotice::WindowOrder {
            soil: SoilState::Dry,
            grade: Grade::Prepare,
            shorter: Window::H1,
            shorter_mm: 40.0,
            longer: Window::H3,
            longer_mm: 35.0
        }
    );
    assert_eq!(
        notices[0].to_string(),
        "较干 准备转移: 3h 35 mm is below 1h 40 mm, so the 1h threshold never raises this grade first"
    );
}

#[test]
fn serde_checks_on_the_way_in() {
    let ind = published();
    let json = serde_json::to_string(&ind).unwrap();
    assert!(json.starts_with(r#"{"village":"370304100201","scheme":"two_level","thresholds":[{"window":60,"soil":"dry","mm":[40.0,55.0]}"#), "{json}");
    assert_eq!(serde_json::from_str::<RainIndicators>(&json).unwrap(), ind);
    let bad = json.replacen("[40.0,55.0]", "[55.0,40.0]", 1);
    let err = serde_json::from_str::<RainIndicators>(&bad).unwrap_err().to_string();
    assert!(err.contains("立即转移 40 mm must be more than 准备转移 55 mm"), "{err}");

    let level = LevelIndicators::new(Scheme::TwoLevel, vec![101.5, 102.3], vec![None, Some(0.5)]).unwrap();
    let json = serde_json::to_string(&level).unwrap();
    assert_eq!(json, r#"{"scheme":"two_level","levels":[101.5,102.3],"rise_m_per_h":[null,0.5]}"#);
    assert_eq!(serde_json::from_str::<LevelIndicators>(&json).unwrap(), level);
    assert!(serde_json::from_str::<LevelIndicators>(r#"{"scheme":"two_level","levels":[3.0,2.0]}"#).is_err());
}

// ---------------------------------------------------------------------------------------------
// Level indicators
// ---------------------------------------------------------------------------------------------

#[test]
fn level_indicators_validate_and_evaluate() {
    let ind = LevelIndicators::new(Scheme::FourColour, vec![100.0, 100.5, 101.0, 101.8], vec![]).unwrap();
    assert_eq!(evaluate_level(&ind, 99.99, Some(3.0)), None);
    let r = evaluate_level(&ind, 101.2, None).unwrap();
    assert_eq!((r.grade, r.crossings.len(), r.crossings[0].threshold), (Grade::Orange, 1, 101.0));

    let ind = LevelIndicators::new(Scheme::TwoLevel, vec![50.0, 51.0], vec![Some(0.3), Some(0.8)]).unwrap();
    assert_eq!(ind.rises().collect::<Vec<_>>(), [(Grade::Prepare, 0.3), (Grade::Immediate, 0.8)]);
    // Still below the prepare level, but rising fast: the rate of rise alone raises immediate.
    let r = evaluate_level(&ind, 49.0, Some(0.9)).unwrap();
    assert_eq!(r.grade, Grade::Immediate);
    assert_eq!(r.crossings[0].measure, LevelMeasure::Rise);
    let r = evaluate_level(&ind, 51.0, Some(0.4)).unwrap();
    let got: Vec<_> = r.crossings.iter().map(|c| (c.measure, c.grade)).collect();
    assert_eq!(got, [(LevelMeasure::Level, Grade::Immediate), (LevelMeasure::Rise, Grade::Prepare)]);
    assert_eq!(evaluate_level(&ind, f64::NAN, Some(f64::NAN)), None);

    let found =
        LevelIndicators::new(Scheme::TwoLevel, vec![51.0, 51.0, 52.0], vec![Some(0.0), Some(20.0)]).unwrap_err();
    let fields: Vec<_> = found.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(fields, ["levels", "levels.immediate", "rise_m_per_h.prepare", "rise_m_per_h.immediate"]);
    let found = LevelIndicators::new(Scheme::TwoLevel, vec![f64::NAN, 52.0], vec![Some(0.8), Some(0.3)]).unwrap_err();
    let text: Vec<_> = found.iter().map(ToString::to_string).collect();
    assert_eq!(
        text,
        [
            "levels.prepare = NaN: a level is a number from -500 to 9000 m",
            "levels.immediate = 52: must be above the 准备转移 level NaN m",
            "rise_m_per_h.immediate = 0.3: must not be below the 准备转移 rate 0.8 m/h",
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Import and export
// ---------------------------------------------------------------------------------------------

const PUBLISHED_CSV: &str = "\
博山区山洪预警指标表,,,,,
村编码,村名,时段,土壤状态,准备转移,立即转移
370304100201,上庄村,1小时,较干,40,55
370304100201,上庄村,1小时,一般,35,50
370304100201,上庄村,1小时,较湿,30,45
370304100201,上庄村,3h,较干,65,85
370304100201,上庄村,3h,一般,60,80
370304100201,上庄村,3h,较湿,50,70
370304100201,上庄村,360,dry,95,120
370304100201,,360,normal,90mm,115
370304100201,上庄村,6 h,wet,80,105
";

#[test]
fn the_published_village_imports_from_csv_and_gbk() {
    let imported = import::from_csv(PUBLISHED_CSV.as_bytes(), known).unwrap();
    assert_eq!(imported.scheme, Scheme::TwoLevel);
    assert_eq!(imported.sets, vec![VillageIndicators { name: Some("上庄村".into()), indicators: published() }]);
    assert!(imported.notices.is_empty());
    let (gbk, _, lossy) = encoding_rs::GBK.encode(PUBLISHED_CSV);
    assert!(!lossy && std::str::from_utf8(&gbk).is_err());
    assert_eq!(import::from_csv(&gbk, known).unwrap(), imported);
}

#[test]
fn the_four_colour_example_imports_with_english_headers_and_no_soil_column() {
    let csv = "village_code,village,window,Blue,Yellow,Orange,Red,note\n\
               370304100202,下庄村,1h,35,45,60,80,\n\
               370304100202,下庄村,3h,55,75,100,120,雨季复核\n\
               370304100202,下庄村,6h,70,95,120,150,\n\
               370304100202,下庄村,24h,100,130,160,200,\n";
    let imported = import::from_csv(csv.as_bytes(), known).unwrap();
    assert_eq!(imported.scheme, Scheme::FourColour);
    assert_eq!(imported.sets[0].indicators, four_colour());
}

#[test]
fn exports_round_trip_through_csv_and_xlsx() {
    let sets = vec![
        VillageIndicators { name: Some("上庄村".into()), indicators: published() },
        VillageIndicators { name: None, indicators: extra_windows() },
    ];
    let csv = import::to_csv(Scheme::TwoLevel, &sets).unwrap();
    assert!(csv.starts_with("\u{feff}村编码,村名,时段,土壤状态,准备转移,立即转移\r\n".as_bytes()));
    let text = String::from_utf8(csv.clone()).unwrap();
    assert!(text.contains("\r\n370304100201,上庄村,1h,较干,40,55\r\n"), "{text}");
    // A soil-independent window is one row with 土壤状态 empty.
    assert!(text.contains("\r\n370304100202,,30min,,20,30\r\n"), "{text}");
    assert_eq!(import::from_csv(&csv, known).unwrap().sets, sets);

    let xlsx = import::to_xlsx(Scheme::TwoLevel, &sets).unwrap();
    assert_eq!(import::from_xlsx(&xlsx, known).unwrap().sets, sets);

    let four = vec![VillageIndicators { name: Some("下庄村".into()), indicators: four_colour() }];
    let xlsx = import::to_xlsx(Scheme::FourColour, &four).unwrap();
    assert_eq!(import::from_xlsx(&xlsx, known).unwrap().sets, four);
    let csv = import::to_csv(Scheme::FourColour, &four).unwrap();
    assert_eq!(import::from_csv(&csv, known).unwrap().sets, four);

    let err = import::to_csv(Scheme::FourColour, &sets).unwrap_err();
    assert_eq!(err.to_string(), "village 370304100201 uses the two-level scheme, the table the four-colour");
}

/// A village with a 30-minute window (soil-independent) and fractional values.
fn extra_windows() -> RainIndicators {
    let mut rows: Vec<RainThreshold> =
        SoilState::ALL.map(|s| th(Window::minutes(30).unwrap(), s, &[20.0, 30.0])).to_vec();
    rows.push(th(Window::H1, SoilState::Dry, &[42.5, 61.3]));
    rows.push(th(Window::H1, SoilState::Normal, &[38.1, 55.0]));
    rows.push(th(Window::H1, SoilState::Wet, &[33.3, 50.0]));
    RainIndicators::new(code(OTHER), Scheme::TwoLevel, rows).unwrap()
}

#[test]
fn every_bad_row_is_reported_with_line_column_and_value() {
    let csv = "\
村编码,村名,时段,土壤状态,准备转移,立即转移
370304100201,上庄村,1h,较干,40,55
370304100299,不存在村,1h,较干,40,55
370304100,乡,1h,,40,55

370304100201,上庄村,7min,较干,40,55
370304100201,上庄村,1h,潮湿的,40,55
370304100201,上庄村,1h,一般,,五十
370304100201,上庄村,1h,一般,35,50
370304100201,上庄村,1h,较湿,30,45
";
    let found = problems(import::from_csv(csv.as_bytes(), known));
    assert_eq!(
        found,
        vec![
            cell(3, "村编码", "370304100299", "no village at risk has this code"),
            cell(4, "村编码", "370304100", "a 12-digit village code is needed"),
            cell(
                6,
                "时段",
                "7min",
                "a window is written 1h, 1小时, 30min or a number of minutes; \"7min\" is not one of 5–4320 minutes in steps of 5"
            ),
            cell(7, "土壤状态", "潮湿的", "use 较干, 一般 or 较湿 (dry, normal, wet), or leave empty for all three"),
            cell(8, "准备转移", "", "empty; this column is required"),
            cell(8, "立即转移", "五十", "expected a number of mm, e.g. 40 or 42.5"),
        ]
    );
    assert_eq!(found[0].to_string(), "row 3, 村编码 \"370304100299\": no village at risk has this code");
    let err = import::from_csv(csv.as_bytes(), known).unwrap_err().to_string();
    assert!(err.starts_with("the indicators were not imported: 6 problems\n  row 3, 村编码"), "{err}");
}

#[test]
fn set_problems_name_their_rows() {
    let csv = "\
village_code,village,window,soil,prepare,immediate
370304100201,上庄村,1h,dry,40,55
370304100201,上庄村,1h,normal,45,50
370304100201,上庄村,1h,wet,30,25
370304100201,上庄村,1h,wet,30,45
370304100201,上庄村,3h,,60,80
370304100201,上庄村,3h,较湿,50,70
370304100201,上庄,6h,dry,95,120
";
    let found = problems(import::from_csv(csv.as_bytes(), known));
    let village = code(VILLAGE);
    let set = |rows: &[u32], problem| ImportProblem::Set { village: village.clone(), rows: rows.to_vec(), problem };
    use SoilState::*;
    assert_eq!(
        found,
        vec![
            ImportProblem::NameConflict {
                village: village.clone(),
                first_row: 2,
                name: "上庄村".into(),
                row: 8,
                other_name: "上庄".into()
            },
            set(
                &[4],
                IndicatorProblem::GradeOrder {
                    window: Window::H1,
                    soil: Wet,
                    lower: Grade::Prepare,
                    lower_mm: 30.0,
                    higher: Grade::Immediate,
                    higher_mm: 25.0
                }
            ),
            set(&[4, 5], IndicatorProblem::Duplicate { window: Window::H1, soil: Wet }),
            set(&[6, 7], IndicatorProblem::Duplicate { window: Window::H3, soil: Wet }),
            set(
                &[2, 3],
                IndicatorProblem::SoilOrder {
                    window: Window::H1,
                    grade: Grade::Prepare,
                    drier: Dry,
                    drier_mm: 40.0,
                    wetter: Normal,
                    wetter_mm: 45.0
                }
            ),
            set(&[8], IndicatorProblem::MissingSoil { window: Window::H6, soil: Normal }),
            set(&[8], IndicatorProblem::MissingSoil { window: Window::H6, soil: Wet }),
        ]
    );
    assert_eq!(
        found[6].to_string(),
        "row 8, village 370304100201: 6h: no thresholds for soil state 较湿 (give all three, or one row for all)"
    );
}

#[test]
fn notices_of_an_accepted_import_name_their_rows() {
    let csv = "村编码,时段,准备转移,立即转移\n370304100201,1h,40,60\n370304100201,3h,35,70\n";
    let imported = import::from_csv(csv.as_bytes(), known).unwrap();
    assert_eq!(imported.sets[0].name, None);
    assert_eq!(imported.notices.len(), 3);
    assert_eq!(imported.notices[0].rows, [2, 3]);
    assert_eq!(
        imported.notices[0].to_string(),
        "rows 2, 3, village 370304100201: 较干 准备转移: 3h 35 mm is below 1h 40 mm, so the 1h threshold never raises this grade first"
    );
}

#[test]
fn headers_are_checked() {
    let found = problems(import::from_csv("村编码,村名,时段,准备转移,红\n370304100201,a,1h,1,2\n".as_bytes(), known));
    assert_eq!(found, vec![ImportProblem::BothSchemes { two_level: "准备转移".into(), four_colour: "红".into() }]);
    let found = problems(import::from_csv("村名,时段,蓝,黄,橙\n".as_bytes(), known));
    assert_eq!(
        found,
        vec![
            ImportProblem::MissingColumn { column: "村编码", english: "village_code" },
            ImportProblem::MissingColumn { column: "红", english: "red" },
        ]
    );
    let found = problems(import::from_csv("村编码,时段,村名,name\n".as_bytes(), known));
    assert_eq!(
        found,
        vec![
            ImportProblem::DuplicateColumn { column: "村名", first: "C".into(), second: "D".into() },
            ImportProblem::NoGradeColumns
        ]
    );
    assert_eq!(import::from_csv(b"", known), Err(ImportError::Empty));
    assert_eq!(import::from_csv("村编码,时段,准备转移,立即转移\n,,,\n".as_bytes(), known), Err(ImportError::NoRows));
    assert!(matches!(import::from_xlsx(b"not a zip", known), Err(ImportError::Unreadable(_))));
    let big = vec![b'a'; import::MAX_IMPORT_BYTES + 1];
    assert!(matches!(import::from_csv(&big, known), Err(ImportError::FileTooLarge { .. })));
    assert!(matches!(import::from_csv(&[0xFF, 0xFE, 0xFF, 0x00], known), Err(ImportError::Unreadable(_))));
}

#[test]
fn xlsx_number_cells_and_dates() {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    for (c, h) in ["村编码", "时段", "土壤状态", "准备转移", "立即转移"].iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    // The village code and the window as numbers (minutes), as a spreadsheet program keeps them.
    sheet.write_number(1, 0, 370304100201.0).unwrap();
    sheet.write_number(1, 1, 60).unwrap();
    sheet.write_number(1, 3, 40).unwrap();
    sheet.write_number(1, 4, 55.5).unwrap();
    sheet.write_number(2, 0, 370304100201.0).unwrap();
    sheet.write_number(2, 1, 180).unwrap();
    let date = rust_xlsxwriter::ExcelDateTime::from_ymd(2026, 7, 1).unwrap();
    let format = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    sheet.write_datetime_with_format(2, 3, &date, &format).unwrap();
    sheet.write_number(2, 4, 80).unwrap();
    let bytes = workbook.save_to_buffer().unwrap();
    let found = problems(import::from_xlsx(&bytes, known));
    assert_eq!(found, vec![cell(3, "准备转移", "(a date)", "the cell holds a date; expected text or a number")]);
}

proptest! {
    /// No bytes make either reader panic.
    #[test]
    fn any_bytes_are_answered(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = import::from_csv(&bytes, known);
        let _ = import::from_xlsx(&bytes, known);
    }

    /// Tables of plausible and implausible cells are answered without a panic, and an accepted
    /// one exports to a table that imports to the same sets.
    #[test]
    fn any_table_is_answered(rows in proptest::collection::vec(
        proptest::collection::vec(prop_oneof![
            Just("370304100201".to_string()), Just("1h".to_string()), Just("3小时".to_string()),
            Just("较干".to_string()), Just("".to_string()), Just("40".to_string()), Just("55.5".to_string()),
            Just("wet".to_string()), "\\PC{0,6}",
        ], 0..7), 0..12)) {
        let mut text = String::from("村编码,时段,土壤状态,准备转移,立即转移\n");
        for row in &rows {
            text.push_str(&row.iter().map(|c| c.replace([',', '"', '\n', '\r'], "")).collect::<Vec<_>>().join(","));
            text.push('\n');
        }
        if let Ok(imported) = import::from_csv(text.as_bytes(), known) {
            let csv = import::to_csv(imported.scheme, &imported.sets).unwrap();
            prop_assert_eq!(import::from_csv(&csv, known).unwrap().sets, imported.sets);
        }
    }

    /// More rain never lowers the grade.
    #[test]
    fn more_rain_never_lowers_the_grade(a in 0.0f64..300.0, extra in 0.0f64..300.0, w in 0usize..4, soil in 0usize..3) {
        let ind = published();
        let soil = SoilState::ALL[soil];
        let window = [Window::H1, Window::H3, Window::H6, Window::H12][w];
        let rank = |v: f64| evaluate_rain(&ind, soil, &[(window, v)]).map_or(0, |r| r.grade.rank());
        prop_assert!(rank(a) <= rank(a + extra));
    }

    /// Any valid soil-dependent set survives export and import unchanged.
    #[test]
    fn any_set_round_trips_through_csv(base in 1u32..500, steps in proptest::collection::vec((1u32..200, 0u32..50, 0u32..50), 1..5)) {
        let mut rows = Vec::new();
        for (i, (step, dn, nw)) in steps.iter().enumerate() {
            let window = Window::minutes(60 * (i as u32 + 1)).unwrap();
            let dry = f64::from(base) / 4.0;
            let normal = dry - f64::from(*dn) / 10.0;
            let wet = normal - f64::from(*nw) / 10.0;
            for (soil, prepare) in [(SoilState::Dry, dry), (SoilState::Normal, normal), (SoilState::Wet, wet)] {
                rows.push(th(window, soil, &[prepare, prepare + f64::from(*step) / 8.0]));
            }
        }
        if let Ok(ind) = RainIndicators::new(code(VILLAGE), Scheme::TwoLevel, rows) {
            let sets = vec![VillageIndicators { name: Some("上庄村".into()), indicators: ind }];
            let csv = import::to_csv(Scheme::TwoLevel, &sets).unwrap();
            prop_assert_eq!(import::from_csv(&csv, known).unwrap().sets, sets);
        }
    }
}
