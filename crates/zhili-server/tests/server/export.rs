//! The worklist export (案件导出): CSV (UTF-8 with BOM) and XLSX of every case the worklist filter
//! matches, with names rather than codes, the header in the caller's language, the caller's
//! scope, and the row cap.

use axum::http::StatusCode;
use serde_json::{json, Value};
use zhili_core::policy::Role;

use crate::world::{grid, request, with_json, Answer, World};

/// County 370304 with 城管局 and 水利局, an operator, a leader and one staff member of each.
async fn world(max_rows: usize) -> World {
    World::builder()
        .department("cgj", "城管局", "370304")
        .department("slj", "水利局", "370304")
        .users(&[
            ("operator", Role::Operator, "370304"),
            ("staff", Role::DepartmentStaff, "370304"),
            ("water", Role::DepartmentStaff, "370304"),
        ])
        .in_department(&["staff"], "cgj")
        .in_department(&["water"], "slj")
        .grids(vec![grid("37030410020101", 1, None, 117.80, 36.40, 117.81, 36.42)])
        .config(move |c| c.export_max_rows = max_rows)
        .build()
        .await
}

async fn report(w: &World, class: &str, description: &str) -> i64 {
    let body = json!({"class_code": class, "lon": 117.805, "lat": 36.405, "description": description,
                      "address": "=HYPERLINK(\"x\"),山头街道"});
    let (s, b) = w.call("POST", "/api/cases", w.token("operator"), Some(body)).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    b["case"]["id"].as_i64().unwrap()
}

async fn act(w: &World, id: i64, cmd: Value) {
    let (_, c) = w.call("GET", &format!("/api/cases/{id}"), w.token("operator"), None).await;
    let mut body = cmd;
    body["version"] = c["case"]["version"].clone();
    let (s, b) = w.call("POST", &format!("/api/cases/{id}/transitions"), w.token("operator"), Some(body)).await;
    assert_eq!(s, StatusCode::OK, "{b}");
}

/// Three cases: two 暴露垃圾 (one dispatched to 城管局), one 道路破损 dispatched to 水利局.
async fn cases(w: &World) -> (i64, i64, i64) {
    let a = report(w, "SJ0102", "路边暴露垃圾，\"一大堆\"").await;
    let b = report(w, "SJ0102", "垃圾桶满溢").await;
    let c = report(w, "SJ0103", "积存垃圾渣土").await;
    for (id, dep) in [(b, "cgj"), (c, "slj")] {
        act(w, id, json!({"command": "file"})).await;
        act(w, id, json!({"command": "dispatch", "department": dep})).await;
    }
    (a, b, c)
}

async fn export(w: &World, who: &str, query: &str, lang: Option<&str>) -> Answer {
    let mut r = request("GET", &format!("/api/cases/export?{query}"), w.token(who));
    if let Some(l) = lang {
        r = r.header("accept-language", l);
    }
    w.answer(with_json(r, None)).await
}

/// The CSV's rows as fields (a small reader for quoted fields, enough for these files).
fn csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = vec![];
    let (mut row, mut field, mut quoted, mut chars) = (vec![], String::new(), false, text.chars().peekable());
    while let Some(ch) = chars.next() {
        match (ch, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => row.push(std::mem::take(&mut field)),
            ('\r', false) => {}
            ('\n', false) => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (c, _) => field.push(c),
        }
    }
    rows
}

#[tokio::test]
async fn csv_export_has_a_bom_names_and_every_matching_case() {
    let w = world(1000).await;
    let (a, b, c) = cases(&w).await;
    let got = export(&w, "operator", "format=csv", None).await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text());
    assert_eq!(got.header("content-type"), Some("text/csv; charset=utf-8"));
    let cd = got.header("content-disposition").unwrap();
    assert!(cd.starts_with("attachment; filename=\"cases-20"), "{cd}");
    assert!(cd.contains("filename*=UTF-8''%E6%A1%88%E4%BB%B6%E5%AF%BC%E5%87%BA-20"), "{cd}");
    assert!(got.body.starts_with("\u{feff}".as_bytes()), "no BOM");
    let rows = csv(got.text().trim_start_matches('\u{feff}'));
    assert_eq!(
        rows[0],
        [
            "案件编号",
            "类别",
            "大类",
            "状态",
            "来源",
            "所属网格",
            "街道/乡镇",
            "责任部门",
            "上报时间",
            "立案时间",
            "处置时限",
            "结案时间",
            "是否超时",
            "地址",
            "描述",
            "经度",
            "纬度"
        ]
    );
    let ids: Vec<i64> = rows[1..].iter().map(|r| r[0].parse().unwrap()).collect();
    assert_eq!(ids, vec![c, b, a], "newest first, every case");
    let by_id = |id: i64| rows.iter().find(|r| r[0] == id.to_string()).unwrap().clone();
    let rb = by_id(b);
    assert_eq!(rb[1], "暴露垃圾");
    assert!(rb[2].starts_with("事件"), "{}", rb[2]);
    assert_eq!(rb[3], "已派遣");
    assert_eq!(rb[4], "热线");
    assert_eq!(rb[6], "域城镇", "the township by name");
    assert_eq!(rb[7], "城管局", "the department by name, not cgj");
    assert_eq!(rb[9].len(), "2026-12-03 10:00".len(), "filed in local time: {}", rb[9]);
    assert!(!rb[10].is_empty(), "a dispatched case has a handling deadline");
    assert_eq!(rb[12], "否");
    assert_eq!(rb[13], "'=HYPERLINK(\"x\"),山头街道", "a formula is defused");
    assert_eq!((rb[15].as_str(), rb[16].as_str()), ("117.805000", "36.405000"));
    assert_eq!(by_id(a)[14], "路边暴露垃圾，\"一大堆\"");
    assert_eq!(by_id(a)[7], "", "not dispatched yet");

    // In English (the user's language): the header and labels, not the names.
    let (s, _) = w.call("PUT", "/api/me/locale", w.token("operator"), Some(json!({"locale": "en"}))).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let en = export(&w, "operator", "format=csv", None).await;
    let rows = csv(en.text().trim_start_matches('\u{feff}'));
    assert_eq!(&rows[0][..4], ["Case number", "Class", "Major class", "State"]);
    assert!(en.header("content-disposition").unwrap().contains("UTF-8''cases-20"));
    let rb = rows.iter().find(|r| r[0] == b.to_string()).unwrap();
    assert_eq!(
        (rb[3].as_str(), rb[4].as_str(), rb[7].as_str(), rb[12].as_str()),
        ("Dispatched", "Hotline", "城管局", "No")
    );
}

#[tokio::test]
async fn export_honours_the_filter_and_the_callers_scope() {
    let w = world(1000).await;
    let (a, b, c) = cases(&w).await;
    let ids = |got: Answer| -> Vec<i64> {
        assert_eq!(got.status, StatusCode::OK, "{}", got.text());
        csv(got.text().trim_start_matches('\u{feff}'))[1..].iter().map(|r| r[0].parse().unwrap()).collect()
    };
    assert_eq!(ids(export(&w, "operator", "format=csv&class=SJ0102", None).await), vec![b, a]);
    assert_eq!(ids(export(&w, "operator", "format=csv&state=reported", None).await), vec![a]);
    assert_eq!(ids(export(&w, "operator", "format=csv&department=slj&sort=newest", None).await), vec![c]);
    // The worklist page's flags as it writes them.
    assert_eq!(ids(export(&w, "operator", "format=csv&overdue=1", None).await), Vec::<i64>::new());
    // A department exports its own cases only, whatever it asks for.
    assert_eq!(ids(export(&w, "staff", "format=csv", None).await), vec![b]);
    assert_eq!(ids(export(&w, "water", "format=csv", None).await), vec![c]);
    assert_eq!(ids(export(&w, "staff", "format=csv&department=slj", None).await), Vec::<i64>::new());
    // Nobody logged in gets nothing.
    assert_eq!(export(&w, "nobody", "format=csv", None).await.status, StatusCode::UNAUTHORIZED);
    // A bad filter or format is named.
    let (s, e) = w.call("GET", "/api/cases/export?format=pdf", w.token("operator"), None).await;
    assert_eq!((s, e["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("format")), "{e}");
    assert_eq!(e["error"]["text"], "导出格式应为 csv 或 xlsx（收到 pdf）");
    let (s, e) = w.call("GET", "/api/cases/export?overdue=maybe", w.token("operator"), None).await;
    assert_eq!((s, e["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("overdue")), "{e}");
    let (s, e) = w.call("GET", "/api/cases/export?from=yesterday", w.token("operator"), None).await;
    assert_eq!((s, e["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("from")), "{e}");
}

#[tokio::test]
async fn xlsx_export_reads_back_with_names_and_dates() {
    use calamine::{Data, DataType, Reader, Xlsx};
    let w = world(1000).await;
    let (a, b, c) = cases(&w).await;
    let got = export(&w, "operator", "format=xlsx&class=SJ01", None).await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text());
    assert_eq!(got.header("content-type"), Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"));
    assert!(got.header("content-disposition").unwrap().contains(".xlsx"));
    let mut book = Xlsx::new(std::io::Cursor::new(got.body.to_vec())).unwrap();
    assert_eq!(book.sheet_names(), vec!["案件".to_string()]);
    let range = book.worksheet_range("案件").unwrap();
    let rows: Vec<&[Data]> = range.rows().collect();
    assert_eq!(rows.len(), 4, "header and three cases");
    assert_eq!(rows[0][0], Data::String("案件编号".into()));
    assert_eq!(rows[0][16], Data::String("纬度".into()));
    let ids: Vec<i64> = rows[1..].iter().map(|r| r[0].as_f64().unwrap() as i64).collect();
    assert_eq!(ids, vec![c, b, a]);
    let rb = rows[2];
    assert_eq!(rb[7], Data::String("城管局".into()));
    assert_eq!(rb[1], Data::String("暴露垃圾".into()));
    assert!(matches!(rb[8], Data::DateTime(_)), "reported is a date-time cell: {:?}", rb[8]);
    assert_eq!(rb[15].as_f64(), Some(117.805));
    assert_eq!(rows[3][7], Data::Empty, "not dispatched");
}

#[tokio::test]
async fn export_past_the_cap_is_refused_before_anything_is_sent() {
    let w = world(2).await;
    cases(&w).await;
    let (s, e) = w.call("GET", "/api/cases/export?format=xlsx", w.token("operator"), None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(e["error"]["code"], "invalid_query");
    assert_eq!(e["error"]["text"], "符合条件的案件超过 2 件，请缩小筛选范围后再导出");
    // Within the cap it goes.
    let got = export(&w, "operator", "format=csv&class=SJ0102", None).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(csv(got.text().trim_start_matches('\u{feff}')).len(), 3);
}

#[tokio::test]
async fn the_worklist_links_its_export_with_its_filter() {
    let w = world(1000).await;
    let (s, page) = w.call("GET", "/cases?class=SJ0102&overdue=1", w.token("operator"), None).await;
    assert_eq!(s, StatusCode::OK);
    let html = page.as_str().unwrap().replace("&#38;", "&amp;");
    assert!(html.contains("href=\"/api/cases/export?format=csv&amp;class=SJ0102&amp;overdue=1\""), "{html}");
    assert!(html.contains("href=\"/api/cases/export?format=xlsx&amp;class=SJ0102&amp;overdue=1\""));
    assert!(html.contains(">导出 CSV</a>") && html.contains(">导出 XLSX</a>"));
}
