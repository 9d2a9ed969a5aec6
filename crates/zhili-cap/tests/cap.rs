//! zhili-cap against the OASIS CAP 1.2 XSD (python3 lxml), its own reader, the flash-flood
//! fixtures (准备转移 → 立即转移 → 解除) and the Atom feed.
//!
//! The fixtures under `tests/fixtures/` are what the writer produces; after a deliberate change
//! to the writer or the examples, rewrite them with `ZHILI_BLESS=1 cargo test -p zhili-cap`.

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, Duration, FixedOffset, Utc};
use proptest::prelude::*;
use zhili_cap::*;

const BOSHAN: &str = "370304";
/// The deployment configures its GB/T 4657 agency code; the fixtures use 000.
const AGENCY: &str = "000";
const SENDER: &str = "37030400000000@zhili.example";

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn bj(s: &str) -> CapTime {
    CapTime::beijing(utc(s)).unwrap()
}

fn id(at: &str) -> WarningId {
    WarningId::builder(BOSHAN, AGENCY, utc(at)).build().unwrap()
}

/// The danger zone of 上庄村 (synthetic, in 池上镇, 博山区).
fn danger_zone() -> Polygon {
    Polygon::closing(&[
        (36.3712, 117.9521),
        (36.3745, 117.9588),
        (36.3731, 117.9650),
        (36.3680, 117.9672),
        (36.3641, 117.9610),
        (36.3662, 117.9540),
    ])
    .unwrap()
}

fn village_area() -> Area {
    let mut area = Area::new("博山区池上镇上庄村山洪危险区");
    area.polygons.push(danger_zone());
    area.geocodes.push(NamedValue::new(GEOCODE_DIVISION, "370304106201"));
    area
}

fn flood_info(response: ResponseType, urgency: Urgency, severity: Severity, certainty: Certainty) -> Info {
    let mut info = Info::new(Category::Met, "山洪灾害预警", urgency, severity, certainty);
    info.language = Some("zh-CN".into());
    info.response_types.push(response);
    info.sender_name = Some("博山区防汛抗旱指挥部办公室".into());
    info.contact = Some("博山区防汛抗旱指挥部办公室 0533-4100000".into());
    info.areas.push(village_area());
    info
}

/// 准备转移: the village's 1-hour rainfall passed the prepare threshold.
fn prepare() -> Alert {
    let wid = id("2026-07-18T03:00:00Z");
    let mut a = Alert::new(wid.to_string(), SENDER, wid.issued(), Status::Actual, MsgType::Alert, Scope::Public);
    let mut info = flood_info(ResponseType::Prepare, Urgency::Expected, Severity::Severe, Certainty::Likely);
    info.effective = Some(bj("2026-07-18T03:00:00Z"));
    info.expires = Some(bj("2026-07-18T09:00:00Z"));
    info.headline = Some("上庄村山洪灾害准备转移预警".into());
    info.description = Some("上庄雨量站 1 小时降雨 38.5 mm,已达准备转移指标 35 mm(土壤较湿)。".into());
    info.instruction = Some("危险区群众做好转移准备,老人、儿童和行动不便者先行转移。".into());
    info.web = Some("https://zhili.example/flood/warnings/1".into());
    info.parameters.push(NamedValue::new("rainfall_1h_mm", "38.5"));
    info.parameters.push(NamedValue::new("threshold_1h_mm", "35"));
    a.infos.push(info);
    a
}

/// 立即转移: the warning upgraded 40 minutes later.
fn evacuate() -> Alert {
    let wid = id("2026-07-18T03:40:00Z");
    let mut a = Alert::new(wid.to_string(), SENDER, wid.issued(), Status::Actual, MsgType::Update, Scope::Public);
    a.references.push(prepare().reference());
    let mut info = flood_info(ResponseType::Evacuate, Urgency::Immediate, Severity::Extreme, Certainty::Observed);
    info.effective = Some(bj("2026-07-18T03:40:00Z"));
    info.expires = Some(bj("2026-07-18T09:40:00Z"));
    info.headline = Some("上庄村山洪灾害立即转移预警".into());
    info.description = Some("上庄雨量站 3 小时降雨 92.0 mm,已达立即转移指标 80 mm。".into());
    info.instruction = Some("危险区群众立即沿转移路线转移至上庄小学安置点。".into());
    info.web = Some("https://zhili.example/flood/warnings/1".into());
    a.infos.push(info);
    a
}

/// 解除: the warning lifted.
fn lift() -> Alert {
    let wid = id("2026-07-18T08:30:00Z");
    let mut a = Alert::new(wid.to_string(), SENDER, wid.issued(), Status::Actual, MsgType::Update, Scope::Public);
    a.references.push(prepare().reference());
    a.references.push(evacuate().reference());
    let mut info = flood_info(ResponseType::AllClear, Urgency::Past, Severity::Minor, Certainty::Observed);
    info.effective = Some(bj("2026-07-18T08:30:00Z"));
    info.headline = Some("上庄村山洪灾害预警解除".into());
    info.description = Some("降雨已停止,上庄河水位回落,预警解除。".into());
    info.instruction = Some("转移群众经村责任人确认安全后方可返回。".into());
    a.infos.push(info);
    a
}

/// Every element CAP has, two languages, and text that needs escaping.
fn everything() -> Alert {
    let mut a = prepare();
    a.source = Some("zhili flood engine".into());
    a.scope = Scope::Restricted;
    a.restriction = Some("仅限防汛责任人 & 应急部门".into());
    a.addresses = vec!["county-duty".into(), "township duty".into()];
    a.codes = vec!["IPAWSv1.0".into(), "GB/T 35965.1".into()];
    a.note = Some("演练 <drill> & test\r\nline two".into());
    a.incidents = vec!["2026-flood-07".into(), "上庄 山洪".into()];
    let info = &mut a.infos[0];
    info.categories.push(Category::Geo);
    info.response_types.push(ResponseType::Monitor);
    info.audience = Some("危险区群众".into());
    info.event_codes.push(NamedValue::new("zhili:flood-grade", "prepare"));
    info.onset = Some(bj("2026-07-18T03:30:00Z"));
    info.resources.push(Resource {
        resource_desc: "危险区图".into(),
        mime_type: "image/png".into(),
        size: Some(20_480),
        uri: Some("https://zhili.example/flood/villages/370304106201/zone.png".into()),
        deref_uri: Some("iVBORw0KGgo=".into()),
        digest: Some("da39a3ee5e6b4b0d3255bfef95601890afd80709".into()),
    });
    let area = &mut info.areas[0];
    area.circles.push(Circle::new(Point::new(36.369, 117.96).unwrap(), 1.5).unwrap());
    area.geocodes.push(NamedValue::new(GEOCODE_DIVISION, BOSHAN));
    area.altitude = Some(820.5);
    area.ceiling = Some(3000.0);
    let mut en =
        Info::new(Category::Met, "Flash flood warning", Urgency::Expected, Severity::Severe, Certainty::Likely);
    en.language = Some("en-US".into());
    en.response_types.push(ResponseType::Prepare);
    en.headline = Some("Shangzhuang: prepare to evacuate".into());
    en.areas.push(village_area());
    a.infos.push(en);
    a
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn schema_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schema")
}

/// A fresh directory for this test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("zhili-cap-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `check.py` on `files`: (every file valid, its output). Without python3 and lxml the
/// schema check is skipped with a note on a developer's machine (`pip install lxml` to run it)
/// and fails in CI (`CI` set), so that no CI run passes without it.
fn check(kind: &str, files: &[PathBuf]) -> Option<(bool, String)> {
    let ready = Command::new("python3").args(["-c", "import lxml"]).output().is_ok_and(|o| o.status.success());
    if !ready {
        assert!(std::env::var_os("CI").is_none(), "CI must install python3 with lxml (see .ci/run)");
        eprintln!("skipped: the OASIS XSD check needs python3 with lxml (pip install lxml)");
        return None;
    }
    let mut cmd = Command::new("python3");
    cmd.arg(schema_dir().join("check.py")).arg(kind);
    if kind == "cap" {
        cmd.arg(schema_dir().join("CAP-v1.2.xsd"));
    }
    let out = cmd.args(files).output().expect("python3 runs check.py");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.code() == Some(0) || out.status.code() == Some(1), "check.py failed to run: {stderr}{stdout}");
    Some((out.status.success(), stdout))
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Compares `text` with the fixture `name`, or rewrites it under `ZHILI_BLESS=1`.
fn fixture(name: &str, text: &str) {
    let path = fixtures().join(name);
    if std::env::var_os("ZHILI_BLESS").is_some() {
        std::fs::write(&path, text).unwrap();
        return;
    }
    let want =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e} (ZHILI_BLESS=1 writes it)", path.display()));
    assert_eq!(text, want, "{name} differs from the writer's output (ZHILI_BLESS=1 rewrites it)");
}

#[test]
fn flood_documents_match_the_fixtures_and_read_back() {
    for (name, alert) in
        [("flood-prepare.xml", prepare()), ("flood-evacuate.xml", evacuate()), ("flood-lift.xml", lift())]
    {
        alert.validate_gb35965().unwrap();
        let xml = alert.to_xml().unwrap();
        fixture(name, &xml);
        assert_eq!(Alert::from_xml(&xml).unwrap(), alert, "{name} does not read back");
    }
    let xml = evacuate().to_xml().unwrap();
    assert!(xml.contains("<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">"));
    assert!(xml.contains("<identifier>37030400000000_20260718114000_0</identifier>"));
    assert!(xml.contains("<sent>2026-07-18T11:40:00+08:00</sent>"));
    assert!(xml.contains(&format!(
        "<references>{SENDER},37030400000000_20260718110000_0,2026-07-18T11:00:00+08:00</references>"
    )));
    assert!(xml.contains("<responseType>Evacuate</responseType>"));
    assert!(xml.contains("<geocode>\n        <valueName>GB/T 2260</valueName>\n        <value>370304106201</value>"));
    let lift = lift().to_xml().unwrap();
    assert!(lift.contains("<responseType>AllClear</responseType>") && lift.contains("<msgType>Update</msgType>"));
}

#[test]
fn everything_escapes_and_reads_back() {
    let a = everything();
    let xml = a.to_xml().unwrap();
    assert!(xml.contains("<note>演练 &lt;drill&gt; &amp; test&#13;\nline two</note>"));
    assert!(xml.contains("<addresses>county-duty \"township duty\"</addresses>"));
    assert!(xml.contains("<incidents>2026-flood-07 \"上庄 山洪\"</incidents>"));
    assert!(xml.contains("<circle>36.369,117.96 1.5</circle>"));
    assert_eq!(Alert::from_xml(&xml).unwrap(), a);
}

#[test]
fn written_documents_are_valid_against_the_oasis_xsd() {
    let dir = scratch("valid");
    let mut files = Vec::new();
    for (name, a) in [("prepare", prepare()), ("evacuate", evacuate()), ("lift", lift()), ("everything", everything())]
    {
        files.push(write(&dir, &format!("{name}.xml"), &a.to_xml().unwrap()));
    }
    // Every enumeration value once, and a UTC time (written -00:00).
    for (i, status) in Status::ALL.iter().enumerate() {
        let mut a = everything();
        a.status = *status;
        a.msg_type = MsgType::ALL[i % MsgType::ALL.len()];
        a.references.push(prepare().reference());
        a.sent = CapTime::new(utc("2026-07-18T03:00:00Z"), FixedOffset::east_opt(0).unwrap()).unwrap();
        let info = &mut a.infos[0];
        info.categories = Category::ALL.to_vec();
        info.response_types = ResponseType::ALL.to_vec();
        info.urgency = Urgency::ALL[i];
        info.severity = Severity::ALL[i];
        info.certainty = Certainty::ALL[i];
        files.push(write(&dir, &format!("enum-{i}.xml"), &a.to_xml().unwrap()));
    }
    for name in ["flood-prepare.xml", "flood-evacuate.xml", "flood-lift.xml"] {
        files.push(fixtures().join(name));
    }
    let Some((ok, out)) = check("cap", &files) else {
        return;
    };
    assert!(ok, "the XSD rejects a written document:\n{out}");
    assert_eq!(out.lines().filter(|l| l.starts_with("ok ")).count(), files.len(), "{out}");
}

/// Broken copies of a valid document: the XSD check must reject each (so the positive test
/// above can fail), and so must our reader, with the line of the fault.
#[test]
fn invalid_documents_fail_the_xsd_and_the_reader() {
    let xml = prepare().to_xml().unwrap();
    let cases: Vec<(&str, String, usize)> = vec![
        (
            "misordered",
            xml.replace(
                "  <status>Actual</status>\n  <msgType>Alert</msgType>\n",
                "  <msgType>Alert</msgType>\n  <status>Actual</status>\n",
            ),
            6,
        ),
        ("bad-enum", xml.replace("<urgency>Expected</urgency>", "<urgency>Soon</urgency>"), 14),
        ("zulu-time", xml.replace("<sent>2026-07-18T11:00:00+08:00</sent>", "<sent>2026-07-18T03:00:00Z</sent>"), 5),
        (
            "unknown-element",
            xml.replace("  <scope>Public</scope>\n", "  <scope>Public</scope>\n  <priority>1</priority>\n"),
            9,
        ),
        ("missing-event", xml.replace("    <event>山洪灾害预警</event>\n", ""), 12),
        ("wrong-namespace", xml.replace("emergency:cap:1.2", "emergency:cap:1.1"), 2),
    ];
    let dir = scratch("invalid");
    for (name, text, line) in &cases {
        assert_ne!(text, &xml, "{name}: the replacement did not apply");
        let file = write(&dir, &format!("{name}.xml"), text);
        if let Some((ok, out)) = check("cap", &[file]) {
            assert!(!ok && out.starts_with("INVALID"), "{name}: the XSD check accepted it:\n{out}");
        }
        let err = Alert::from_xml(text).expect_err(name);
        assert_eq!(err.line, *line, "{name}: {err}");
    }
}

#[test]
fn reader_names_line_and_column() {
    let xml = prepare().to_xml().unwrap();
    let misordered = xml.replace(
        "  <status>Actual</status>\n  <msgType>Alert</msgType>\n",
        "  <msgType>Alert</msgType>\n  <status>Actual</status>\n",
    );
    let err = Alert::from_xml(&misordered).unwrap_err();
    assert_eq!((err.line, err.column), (6, 3));
    assert_eq!(err.to_string(), "line 6, column 3: unexpected <msgType> in <alert>, expected <status>");

    let unknown = xml.replace("  <scope>Public</scope>\n", "  <scope>Public</scope>\n  <priority>1</priority>\n");
    let err = Alert::from_xml(&unknown).unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 9, column 3: unexpected <priority> in <alert>, expected one of <restriction>, <addresses>, <code>, <note>, <references>, <incidents>, <info>"
    );

    let cases = [
        ("<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\"><identifier>x</identifier>", "not well-formed"),
        ("<!DOCTYPE alert [<!ENTITY e \"x\">]><alert/>", "DTD"),
        (
            "<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\"><identifier>&e;</identifier></alert>",
            "unknown entity &e;",
        ),
        ("<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\" id=\"1\"/>", "attribute id"),
        ("<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">text<identifier/></alert>", "holds text"),
        ("<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\"></alert>", "<alert> ends without <identifier>"),
        ("<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\"/><alert/>", "after the root"),
        ("<cap:alert xmlns:cap=\"urn:oasis:names:tc:emergency:cap:1.1\"/>", "expected alert in namespace"),
        ("", "no root element"),
    ];
    for (text, want) in cases {
        let err = Alert::from_xml(text).unwrap_err().to_string();
        assert!(err.contains(want), "{text}: {err}");
    }

    let bad_polygon = xml.replace("36.3712,117.9521</polygon>", "36.3712,117.9</polygon>");
    let err = Alert::from_xml(&bad_polygon).unwrap_err();
    assert!(matches!(err.kind, XmlErrorKind::Value { element: "polygon", .. }), "{err}");
    assert!(err.to_string().contains("not closed"), "{err}");
}

#[test]
fn reader_takes_prefixes_comments_and_signatures() {
    let xml = lift().to_xml().unwrap();
    let prefixed = xml
        .replace("<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">", "<cap:alert xmlns:cap=\"urn:oasis:names:tc:emergency:cap:1.2\">")
        .replace("<", "<cap:")
        .replace("<cap:/", "</cap:")
        .replace("<cap:?xml", "<?xml")
        .replace("<cap:cap:", "<cap:")
        .replace("</cap:cap:", "</cap:")
        .replace(
            "</cap:alert>",
            "<!-- signed --><ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" Id=\"s\"><ds:SignedInfo/></ds:Signature></cap:alert>",
        );
    assert_eq!(Alert::from_xml(&prefixed).unwrap(), lift(), "{prefixed}");
    // A signature anywhere but at the end is refused.
    let early =
        xml.replace("  <scope>", "  <ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"/>\n  <scope>");
    assert!(Alert::from_xml(&early).is_err());
}

#[test]
fn validate_names_each_broken_rule() {
    let mut a = prepare();
    a.identifier = "a b".into();
    a.sender = "x,y".into();
    a.scope = Scope::Private;
    a.msg_type = MsgType::Cancel;
    a.infos[0].event = " ".into();
    a.infos[0].categories.clear();
    a.infos[0].language = Some("zh_CN".into());
    a.infos[0].web = Some("/relative".into());
    a.infos[0].expires = Some(bj("2026-07-18T02:00:00Z"));
    a.infos[0].areas[0].area_desc = String::new();
    a.infos[0].areas[0].ceiling = Some(10.0);
    a.infos[0].areas[0].geocodes[0].value = String::new();
    a.infos[0].description = Some("bell \u{7}".into());
    let Invalid(found) = a.validate().unwrap_err();
    let got: Vec<String> = found.iter().map(|v| v.to_string()).collect();
    assert_eq!(
        got,
        [
            "identifier: must not contain whitespace (found at character 1)",
            "sender: must not contain a comma (found at character 1)",
            "addresses: required because scope is Private",
            "references: required because msgType is Cancel",
            "info[0].language: `zh_CN` is not a language tag such as zh-CN",
            "info[0].category: at least one category is required",
            "info[0].event: must not be empty",
            "info[0].expires: 2026-07-18T10:00:00+08:00 is before info[0].effective 2026-07-18T11:00:00+08:00",
            "info[0].description: character U+0007 at 5 cannot be written in XML 1.0",
            "info[0].web: `/relative` is not a full absolute URI",
            "info[0].area[0].areaDesc: must not be empty",
            "info[0].area[0].geocode[0].value: must not be empty",
            "info[0].area[0].ceiling: required because ceiling is only used with altitude",
        ]
    );
    assert!(a.to_xml().is_err());

    let mut r = prepare();
    r.scope = Scope::Restricted;
    r.infos.clear();
    r.addresses = vec!["ok".into(), "bad\"quote".into()];
    r.references.push(Reference { sender: "s".into(), identifier: "i d".into(), sent: r.sent });
    let got: Vec<String> = r.validate().unwrap_err().0.iter().map(|v| v.to_string()).collect();
    assert_eq!(
        got,
        [
            "restriction: required because scope is Restricted",
            "addresses: item 1 `bad\"quote` must be non-empty and contain no double quote",
            "references[0].identifier: must not contain whitespace (found at character 1)",
            "info: an Actual Alert must carry at least one info (GB/T 35965.1)",
        ]
    );
    // A test message needs no info.
    let mut t = prepare();
    t.status = Status::Test;
    t.infos.clear();
    t.validate().unwrap();
}

#[test]
fn the_chinese_profile_checks_identifier_and_beijing_time() {
    let mut a = prepare();
    a.identifier = "43b080713727".into();
    a.sent = CapTime::new(utc("2026-07-18T03:00:00Z"), FixedOffset::east_opt(0).unwrap()).unwrap();
    a.validate().unwrap();
    let got: Vec<String> = a.validate_gb35965().unwrap_err().0.iter().map(|v| v.to_string()).collect();
    assert_eq!(
        got,
        [
            "identifier: identifier `43b080713727` has 12 characters, expected 31 (ZZZZZZDDDUUUXX_YYYYMMDDhhmmss_N)",
            "sent: 2026-07-18T03:00:00-00:00 is not in Beijing time (+08:00)",
        ]
    );
}

#[test]
fn identifier_builds_parses_and_says_which_part_is_wrong() {
    let wid = WarningId::builder("370304", "412", utc("2026-07-18T15:59:59Z"))
        .unit("003")
        .extension("01")
        .sequence(7)
        .build()
        .unwrap();
    let text = wid.to_string();
    assert_eq!(text, "37030441200301_20260718235959_7");
    assert_eq!(text.len(), IDENTIFIER_LEN);
    assert_eq!(text.parse::<WarningId>().unwrap(), wid);
    assert_eq!(wid.unit_code(), "37030441200301");
    assert_eq!(wid.issued().to_string(), "2026-07-18T23:59:59+08:00");
    // Beijing date, not UTC date.
    let next_day = WarningId::builder("370304", "412", utc("2026-07-18T16:00:00Z")).build().unwrap();
    assert_eq!(next_day.to_string(), "37030441200000_20260719000000_0");

    let part = |text: &str| match text.parse::<WarningId>() {
        Err(IdentifierError::Part { part, at, .. }) => (part, at),
        other => panic!("{text}: {other:?}"),
    };
    assert_eq!(part("3703A441200000_20260718110000_0"), (IdPart::Division, 0));
    assert_eq!(part("00030441200000_20260718110000_0"), (IdPart::Division, 0));
    assert_eq!(part("370304412x0000_20260718110000_0"), (IdPart::Unit, 9));
    assert_eq!(part("3703044120000x_20260718110000_0"), (IdPart::Extension, 12));
    assert_eq!(part("370304x1200000_20260718110000_0"), (IdPart::Agency, 6));
    assert_eq!(part("37030441200000-20260718110000_0"), (IdPart::Separator, 14));
    assert_eq!(part("37030441200000_20260230110000_0"), (IdPart::Time, 15));
    assert_eq!(part("37030441200000_20260718250000_0"), (IdPart::Time, 15));
    assert_eq!(part("37030441200000_20260718110000-0"), (IdPart::Separator, 29));
    assert_eq!(part("37030441200000_20260718110000_x"), (IdPart::Sequence, 30));
    assert!(matches!(
        "37030441200000_20260718110000_10".parse::<WarningId>(),
        Err(IdentifierError::Length { len: 32, .. })
    ));
    assert!(matches!("３7030441200000_20260718110000_".parse::<WarningId>(), Err(IdentifierError::Length { .. })));
    let err = "37030441200000_20260230110000_0".parse::<WarningId>().unwrap_err().to_string();
    assert_eq!(err, "character 15: issue time YYYYMMDDhhmmss (Beijing) is `20260230110000`, expected 14 digits YYYYMMDDhhmmss, a real Beijing date and time");

    let build = |d: &str, a: &str, u: &str, x: &str, n: u8| {
        WarningId::builder(d, a, utc("2026-07-18T03:00:00Z")).unit(u).extension(x).sequence(n).build()
    };
    let part_of = |r: Result<WarningId, IdentifierError>| match r {
        Err(IdentifierError::Part { part, .. }) => part,
        other => panic!("{other:?}"),
    };
    assert_eq!(part_of(build("37030", "412", "000", "00", 0)), IdPart::Division);
    assert_eq!(part_of(build("370304", "41", "000", "00", 0)), IdPart::Agency);
    assert_eq!(part_of(build("370304", "412", "0000", "00", 0)), IdPart::Unit);
    assert_eq!(part_of(build("370304", "412", "000", "0", 0)), IdPart::Extension);
    assert_eq!(part_of(build("370304", "412", "000", "00", 10)), IdPart::Sequence);
}

/// A survey-precision danger zone of 6,208 vertices, as a peer sent.
fn big_ring() -> Polygon {
    let n = 6207;
    let pairs: Vec<(f64, f64)> = (0..n)
        .map(|i| {
            let t = i as f64 / n as f64 * std::f64::consts::TAU;
            let r = 0.01 * (1.0 + 0.3 * (5.0 * t).sin() + 0.02 * (97.0 * t).sin());
            (36.37 + r * t.sin(), 117.96 + r * t.cos() / 0.805)
        })
        .collect();
    Polygon::closing(&pairs).unwrap()
}

#[test]
fn a_6208_vertex_ring_simplifies_and_validates() {
    let ring = big_ring();
    assert_eq!(ring.points().len(), 6208);
    let small = ring.simplified(100).unwrap();
    assert!(small.points().len() <= 100 && small.points().len() >= 4);
    assert_eq!(small.points().first(), small.points().last());
    // The five lobes survive: the simplified ring reaches as far north as 99 % of the original.
    let north = |p: &Polygon| p.points().iter().map(|p| p.lat()).fold(f64::MIN, f64::max);
    assert!(north(&small) - 36.37 > 0.99 * (north(&ring) - 36.37));
    let mut a = prepare();
    a.infos[0].areas[0].polygons = vec![small];
    let dir = scratch("big");
    let Some((ok, out)) = check("cap", &[write(&dir, "simplified.xml", &a.to_xml().unwrap())]) else {
        return;
    };
    assert!(ok, "{out}");
}

#[test]
fn the_atom_feed_links_each_alert() {
    let alerts = [lift(), evacuate(), prepare()];
    let base = "https://zhili.example/cap/alerts";
    let entries: Vec<Entry> =
        alerts.iter().map(|a| Entry::for_alert(a, format!("{base}/{}.xml", a.identifier))).collect();
    let feed = Feed {
        id: "https://zhili.example/cap/alerts.atom".into(),
        title: "博山区山洪灾害预警".into(),
        updated: entries[0].updated,
        self_link: "https://zhili.example/cap/alerts.atom".into(),
        author: "博山区防汛抗旱指挥部办公室".into(),
        language: Some("zh-CN".into()),
        entries,
    };
    let xml = feed.to_xml().unwrap();
    fixture("alerts.atom", &xml);
    assert!(xml.contains("<updated>2026-07-18T16:30:00+08:00</updated>"));
    assert!(xml.contains(
        "<link rel=\"alternate\" type=\"application/cap+xml\" href=\"https://zhili.example/cap/alerts/37030400000000_20260718114000_0.xml\"/>"
    ));
    assert!(xml.contains("<title>上庄村山洪灾害立即转移预警</title>"));

    let dir = scratch("atom");
    let good = write(&dir, "alerts.atom", &xml);
    let empty = Feed { entries: Vec::new(), ..feed.clone() };
    let empty = write(&dir, "empty.atom", &empty.to_xml().unwrap());
    if let Some((ok, out)) = check("atom", &[good, empty]) {
        assert!(ok, "{out}");
    }
    // The check can fail: without an id, and with the CAP link's type wrong.
    let no_id = write(&dir, "no-id.atom", &xml.replacen("  <id>https://zhili.example/cap/alerts.atom</id>\n", "", 1));
    let bad_type = write(&dir, "bad-type.atom", &xml.replace("application/cap+xml", "application/xml"));
    let broken = write(&dir, "broken.atom", &xml.replace("</feed>", ""));
    for f in [no_id, bad_type, broken] {
        if let Some((ok, out)) = check("atom", std::slice::from_ref(&f)) {
            assert!(!ok, "{}: {out}", f.display());
        }
    }

    let mut bad = feed;
    bad.id = "alerts".into();
    bad.entries[1].title = String::new();
    let got: Vec<String> = bad.validate().unwrap_err().0.iter().map(|v| v.to_string()).collect();
    assert_eq!(got, ["feed.id: `alerts` is not an absolute IRI", "entry[1].title: must not be empty"]);
}

fn any_alert() -> impl Strategy<Value = Alert> {
    let text = "[a-zA-Z0-9 <>&\"'\u{4e00}-\u{4e20}\n\t]{1,20}";
    let token = "[a-zA-Z0-9._@-]{1,12}";
    (
        token,
        token,
        0i64..4_000_000_000,
        0usize..5,
        proptest::option::of(text),
        proptest::collection::vec("[a-z\u{4e00}-\u{4e20}]{1,4}( [a-z]{1,3})?", 0..3),
        proptest::collection::vec((0usize..12, 0usize..9, text, proptest::option::of(text)), 0..3),
    )
        .prop_map(|(identifier, sender, secs, kind, note, incidents, infos)| {
            let sent = CapTime::beijing(DateTime::UNIX_EPOCH + Duration::seconds(secs)).unwrap();
            let mut a = Alert::new(identifier, sender, sent, Status::ALL[kind], MsgType::Alert, Scope::Public);
            a.note = note;
            a.incidents = incidents;
            for (c, r, event, description) in infos {
                let mut info =
                    Info::new(Category::ALL[c], event, Urgency::ALL[kind], Severity::ALL[kind], Certainty::ALL[kind]);
                info.response_types.push(ResponseType::ALL[r]);
                info.description = description;
                a.infos.push(info);
            }
            if a.status == Status::Actual && a.infos.is_empty() {
                a.status = Status::Test;
            }
            a
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_valid_alert_reads_back(a in any_alert()) {
        prop_assume!(a.infos.iter().all(|i| !i.event.trim().is_empty()));
        let xml = a.to_xml().unwrap();
        prop_assert_eq!(Alert::from_xml(&xml).unwrap(), a);
    }

    #[test]
    fn the_reader_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = Alert::from_xml(&text);
        let mut doc = prepare().to_xml().unwrap();
        let cut = bytes.len() * doc.len() / 300;
        let cut = (0..=cut).rev().find(|&i| doc.is_char_boundary(i)).unwrap_or(0);
        doc.truncate(cut);
        let _ = Alert::from_xml(&doc);
    }

    #[test]
    fn simplified_rings_stay_closed_and_ordered(
        pts in proptest::collection::vec((36.0f64..37.0, 117.0f64..118.0), 3..300),
        max in 4usize..50,
    ) {
        let ring = Polygon::closing(&pts).unwrap();
        let small = ring.simplified(max).unwrap();
        let n = small.points().len();
        prop_assert!(n <= max.max(4) && n >= 4);
        prop_assert_eq!(small.points().first(), small.points().last());
        prop_assert_eq!(small.points()[0], ring.points()[0]);
        // A subsequence of the original ring.
        let mut rest = ring.points()[..ring.points().len() - 1].iter();
        for p in &small.points()[..n - 1] {
            prop_assert!(rest.any(|q| q == p));
        }
    }

    #[test]
    fn identifiers_round_trip(secs in 0i64..200_000_000_000, seq in 0u8..10, unit in 0u32..1000) {
        let at = DateTime::UNIX_EPOCH + Duration::seconds(secs);
        let wid = WarningId::builder("370304", "412", at).unit(&format!("{unit:03}")).sequence(seq).build().unwrap();
        prop_assert_eq!(wid.to_string().parse::<WarningId>().unwrap(), wid.clone());
        prop_assert_eq!(wid.issued().utc(), at);
    }
}
