//! CAP 1.2 documents of the warnings (预警信息 CAP 报文): one per raise, update and lift, built
//! from the warning as it stood when the lifecycle asked, checked against CAP and the
//! GB/T 35965.1 profile, stored, and served at `/cap/alerts/{identifier}.xml`; the public Atom
//! feed `/cap/alerts.atom` lists the latest.
//!
//! The identifier is `ZZZZZZDDDUUUXX_YYYYMMDDhhmmss_N`: the village's county (6 digits), the
//! agency's GB/T 4657 code, unit `000`, and the time sent in Beijing time; because one storm
//! raises many villages in the same second, `XX` and `N` together number the document within
//! its second as `(warning id × 10 + sequence) mod 1000` — distinct for the documents of one
//! warning and for up to a hundred warnings sent in one second.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use zhili_cap::{
    Alert, Area, CapTime, Category, Certainty, Info, MsgType, NamedValue, Polygon, Reference, ResponseType, Scope,
    Severity, Status, Urgency, WarningId,
};
use zhili_core::codes::DivisionCode;
use zhili_core::ErrorCode;
use zhili_flood::model::Village;
use zhili_flood::vocab::Grade;
use zhili_flood::warning::store::{StoredCap, WarningStore};
use zhili_flood::warning::{text, CapMsgType, CapRef, CapResponse, Warning};

use crate::web::error::{AppError, AppResult};
use crate::AppState;

/// Most vertices of a danger zone's polygon in a CAP document.
const MAX_VERTICES: usize = 64;
/// Documents in the Atom feed.
const FEED_ENTRIES: i64 = 100;

/// The identifier of a warning's document.
pub fn identifier(village: &DivisionCode, agency: &str, warning: i64, cap: &CapRef) -> Result<WarningId, String> {
    let county = &village.as_str()[..6];
    let n = (warning.rem_euclid(100) * 10 + i64::from(cap.sequence % 10)).rem_euclid(1000);
    WarningId::builder(county, agency, cap.sent)
        .extension(&format!("{:02}", n / 10))
        .sequence((n % 10) as u8)
        .build()
        .map_err(|e| e.to_string())
}

fn msg_type(t: CapMsgType) -> MsgType {
    match t {
        CapMsgType::Alert => MsgType::Alert,
        CapMsgType::Update => MsgType::Update,
        CapMsgType::Cancel => MsgType::Cancel,
    }
}

fn severity(grade: Grade) -> Severity {
    match grade {
        Grade::Immediate | Grade::Red => Severity::Extreme,
        Grade::Orange => Severity::Severe,
        Grade::Prepare | Grade::Yellow => Severity::Moderate,
        Grade::Blue => Severity::Minor,
    }
}

fn beijing(t: DateTime<Utc>) -> Result<CapTime, String> {
    CapTime::beijing(t).map_err(|e| e.to_string())
}

/// The document for one `PublishCap` effect, validated (CAP 1.2 and GB/T 35965.1).
pub fn document(
    settings: &super::warning::WarningSettings,
    warning: &Warning,
    village: Option<&Village>,
    cap: &CapRef,
    response: Option<CapResponse>,
    grade: Grade,
    references: &[CapRef],
) -> Result<StoredCap, String> {
    let id = identifier(&warning.village, &settings.cap_agency, warning.id, cap)?;
    let sent = beijing(cap.sent)?;
    let mut alert = Alert::new(
        id.to_string(),
        settings.cap_sender.clone(),
        sent,
        Status::Actual,
        msg_type(cap.msg_type),
        Scope::Public,
    );
    for r in references {
        let rid = identifier(&warning.village, &settings.cap_agency, warning.id, r)?;
        alert.references.push(Reference {
            sender: settings.cap_sender.clone(),
            identifier: rid.to_string(),
            sent: beijing(r.sent)?,
        });
    }
    if cap.msg_type == CapMsgType::Cancel {
        alert.note = Some(
            warning
                .lift
                .as_ref()
                .map(|l| l.reason.clone())
                .filter(|r| !r.is_empty())
                .unwrap_or_else(|| "预警撤销".into()),
        );
    }
    let lifted = response == Some(CapResponse::AllClear) || cap.msg_type == CapMsgType::Cancel;
    let mut info = Info::new(
        Category::Geo,
        "山洪灾害预警",
        if lifted { Urgency::Past } else { Urgency::Immediate },
        if lifted { Severity::Minor } else { severity(grade) },
        if lifted { Certainty::Observed } else { Certainty::Likely },
    );
    info.language = Some("zh-CN".into());
    info.response_types = match response {
        Some(CapResponse::Prepare) => vec![ResponseType::Prepare],
        Some(CapResponse::Evacuate) => vec![ResponseType::Evacuate],
        Some(CapResponse::AllClear) => vec![ResponseType::AllClear],
        None => Vec::new(),
    };
    info.sender_name = Some(settings.cap_sender_name.clone());
    info.effective = Some(sent);
    info.headline = Some(if lifted {
        format!("{}山洪预警解除", warning.village_name)
    } else {
        format!("{}{}", warning.village_name, text::grade_warning(grade))
    });
    info.description = Some(if lifted {
        let (kind, reason) = warning
            .lift
            .as_ref()
            .map_or((zhili_flood::warning::LiftKind::AllClear, String::new()), |l| (l.kind, l.reason.clone()));
        text::lift_message(&warning.village_name, grade, kind, &reason)
    } else {
        format!(
            "{}\n{}",
            text::public_message(&warning.village_name, grade, &warning.trigger),
            text::trigger_detail(&warning.trigger)
        )
    });
    if !lifted {
        let mut instruction = String::from(if grade.evacuate() {
            "立即按转移路线撤离到安置点。"
        } else {
            "做好转移准备，听从村干部安排。"
        });
        if let Some(v) = village {
            for r in &v.routes {
                instruction.push_str(&format!("转移路线：{}。", r.text));
            }
            for s in &v.shelters {
                instruction.push_str(&format!("安置点：{}。", s.name));
            }
        }
        info.instruction = Some(instruction);
    }
    if !settings.public_url.is_empty() {
        info.web = Some(format!("{}/cap/alerts/{id}.xml", settings.public_url.trim_end_matches('/')));
    }
    info.parameters.push(NamedValue::new("grade", grade.as_str()));
    let mut area = Area::new(match village {
        Some(v) => format!("{}危险区（{}户{}人）", warning.village_name, v.households, v.population),
        None => warning.village_name.clone(),
    });
    area.geocodes.push(NamedValue::new(zhili_cap::GEOCODE_DIVISION, warning.village.as_str()));
    if let Some(v) = village {
        if let Ok(shape) = zhili_geo::geometry::parse_area_text(v.danger_zone.as_geojson()) {
            for polygon in &shape.0 {
                let pairs: Vec<(f64, f64)> = polygon.exterior().coords().map(|c| (c.y, c.x)).collect();
                let ring =
                    Polygon::closing(&pairs).and_then(|p| p.simplified(MAX_VERTICES)).map_err(|e| e.to_string())?;
                area.polygons.push(ring);
            }
        }
    }
    info.areas.push(area);
    alert.infos.push(info);
    alert.validate_gb35965().map_err(|e| e.to_string())?;
    let xml = alert.to_xml().map_err(|e| e.to_string())?;
    Ok(StoredCap {
        warning: warning.id,
        sequence: cap.sequence,
        identifier: id.to_string(),
        msg_type: cap.msg_type,
        sent: cap.sent,
        village: warning.village.clone(),
        xml,
    })
}

/// `GET /cap/alerts/{identifier}.xml`: one document, public.
#[utoipa::path(get, path = "/cap/alerts/{file}", tag = "flood",
    params(("file" = String, Path, description = "`<identifier>.xml`")),
    responses((status = 200, description = "CAP 1.2 XML", content_type = "application/cap+xml"), (status = 404)))]
pub async fn alert(State(state): State<AppState>, Path(file): Path<String>) -> AppResult<Response> {
    let Some(identifier) = file.strip_suffix(".xml") else {
        return Err(AppError::new(ErrorCode::RouteNotFound));
    };
    let doc = state.port::<dyn WarningStore>().cap(identifier).await.map_err(|e| match e {
        zhili_core::store::StoreError::NotFound => AppError::new(ErrorCode::NotFound),
        e => AppError::from(e),
    })?;
    Ok(([(header::CONTENT_TYPE, "application/cap+xml; charset=utf-8")], doc.xml).into_response())
}

/// `GET /cap/alerts.atom`: the latest documents as an Atom 1.0 feed, public.
#[utoipa::path(get, path = "/cap/alerts.atom", tag = "flood",
    responses((status = 200, description = "Atom 1.0 feed", content_type = "application/atom+xml")))]
pub async fn feed(State(state): State<AppState>) -> AppResult<Response> {
    let settings = super::settings(&state);
    let docs = state.port::<dyn WarningStore>().recent_caps(FEED_ENTRIES).await?;
    let base = if settings.public_url.is_empty() {
        "http://localhost".to_string()
    } else {
        settings.public_url.trim_end_matches('/').to_string()
    };
    let mut entries = Vec::new();
    for d in &docs {
        match Alert::from_xml(&d.xml) {
            Ok(alert) => {
                entries.push(zhili_cap::Entry::for_alert(&alert, format!("{base}/cap/alerts/{}.xml", d.identifier)))
            }
            Err(e) => tracing::error!(identifier = %d.identifier, error = %e, "stored CAP document unreadable"),
        }
    }
    let updated = docs.first().map_or_else(Utc::now, |d| d.sent);
    let feed = zhili_cap::Feed {
        id: format!("{base}/cap/alerts.atom"),
        title: format!("{} 山洪灾害预警", settings.cap_sender_name),
        updated: CapTime::beijing(updated).map_err(|e| AppError::field("updated", e.to_string()))?,
        self_link: format!("{base}/cap/alerts.atom"),
        author: settings.cap_sender_name.clone(),
        language: Some("zh-CN".into()),
        entries,
    };
    let xml = feed.to_xml().map_err(|e| AppError::field("feed", e.to_string()))?;
    Ok(([(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")], xml).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use zhili_flood::vocab::{Channel, Tier, Window};
    use zhili_flood::warning::{open, Policy, Raise, Recipient, Trigger};

    fn settings() -> super::super::warning::WarningSettings {
        super::super::warning::WarningSettings::default()
    }

    fn raise(grade: Grade) -> Raise {
        Raise {
            village: DivisionCode::parse("370304100201").unwrap(),
            village_name: "博山区池上镇上庄村".into(),
            grade,
            trigger: Trigger::Rain {
                window: Window::H1,
                value_mm: 32.5,
                threshold_mm: 30.0,
                station: None,
                soil: None,
            },
            recipients: vec![Recipient {
                id: "user:7".into(),
                name: "张三".into(),
                tier: Tier::Village,
                channels: vec![Channel::InApp],
            }],
            public_channels: vec![Channel::Broadcast],
        }
    }

    #[test]
    fn every_document_of_a_warning_has_its_own_identifier_and_validates() {
        let now = chrono::Utc::now();
        let (mut w, effects, _) = open(0, &raise(Grade::Prepare), &Policy::default(), now).unwrap();
        w.id = 1234;
        let caps: Vec<_> = effects
            .iter()
            .filter_map(|e| match e {
                zhili_flood::warning::Effect::PublishCap { cap, response, grade, references } => {
                    Some((*cap, *response, *grade, references.clone()))
                }
                _ => None,
            })
            .collect();
        assert_eq!(caps.len(), 1);
        let (cap, response, grade, references) = &caps[0];
        let doc = document(&settings(), &w, None, cap, *response, *grade, references).unwrap();
        let alert = Alert::from_xml(&doc.xml).unwrap();
        alert.validate_gb35965().unwrap();
        assert_eq!(alert.identifier, doc.identifier);
        assert!(doc.identifier.starts_with("370304000000"), "{}", doc.identifier);
        assert_eq!(alert.infos[0].response_types, vec![ResponseType::Prepare]);
        // Two documents of one warning in the same second, and two warnings: distinct.
        let next = CapRef { sequence: cap.sequence + 1, ..*cap };
        let a = identifier(&w.village, "000", 1234, cap).unwrap().to_string();
        let b = identifier(&w.village, "000", 1234, &next).unwrap().to_string();
        let c = identifier(&w.village, "000", 1235, cap).unwrap().to_string();
        assert!(a != b && a != c && b != c, "{a} {b} {c}");
    }
}
