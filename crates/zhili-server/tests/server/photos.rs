//! Photos and the clock as the case page shows them: thumbnails of image attachments
//! (`?size=thumb`, at most 320 px, JPEG, refused precisely for what has none) and the case
//! view's countdown in working time with its traffic light.

use std::io::Cursor;

use axum::body::Body;
use axum::http::StatusCode;
use chrono::Utc;
use serde_json::json;
use zhili_core::audit::Actor;
use zhili_core::policy::Role;
use zhili_platform::attachment::{Attachment, AttachmentStore};

use crate::world::{self, grid, World};

async fn world() -> World {
    World::builder()
        .department("cgj", "城管局", "370304")
        .users(&[("operator", Role::Operator, "370304"), ("staff", Role::DepartmentStaff, "370304")])
        .in_department(&["staff"], "cgj")
        .grids(vec![grid("37030410020101", 1, None, 117.80, 36.40, 117.81, 36.42)])
        .build()
        .await
}

/// A `w` × `h` PNG with a gradient (so it is not trivially compressible).
fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img).write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png).unwrap();
    out
}

/// Store an attachment as another module might (any media type), bypassing the photo upload.
async fn stored(w: &World, id: &str, content_type: &str, bytes: &[u8]) {
    let meta = Attachment {
        id: id.into(),
        content_type: content_type.into(),
        size: bytes.len() as i64,
        sha256: "0".repeat(64),
        uploaded_by: None,
        created_at: Utc::now(),
    };
    w.store.put_attachment(&Actor::system(), &meta, bytes).await.unwrap();
}

#[tokio::test]
async fn thumbnails_are_small_jpegs_of_images_and_refused_precisely_otherwise() {
    let w = world().await;
    let op = w.token("operator");
    let original = png(1200, 900);
    let req = world::request("POST", "/api/attachments", op)
        .header("content-type", "image/png")
        .body(Body::from(original.clone()))
        .unwrap();
    let (s, b) = w.send(req).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let id = b["id"].as_str().unwrap().to_string();

    // The thumbnail: JPEG, the longer side 320, the aspect kept, cached as immutable.
    for _ in 0..2 {
        let got = w
            .answer(
                world::request("GET", &format!("/api/attachments/{id}?size=thumb"), op).body(Body::empty()).unwrap(),
            )
            .await;
        assert_eq!(got.status, StatusCode::OK);
        assert_eq!(got.headers["content-type"], "image/jpeg");
        assert!(got.headers["cache-control"].to_str().unwrap().contains("immutable"));
        let t = image::load_from_memory_with_format(&got.body, image::ImageFormat::Jpeg).unwrap();
        assert_eq!((t.width(), t.height()), (320, 240));
        assert!(got.body.len() < 64 * 1024, "{} bytes", got.body.len());
    }
    // The full image as uploaded, with or without size=full.
    for q in ["", "?size=full"] {
        let got = w
            .answer(world::request("GET", &format!("/api/attachments/{id}{q}"), op).body(Body::empty()).unwrap())
            .await;
        assert_eq!((got.status, got.headers["content-type"].to_str().unwrap()), (StatusCode::OK, "image/png"));
        assert_eq!(got.body.as_ref(), original.as_slice());
    }

    // A size that does not exist, an unknown id, something that is no image, bytes that do not decode.
    let (s, b) = w.call("GET", &format!("/api/attachments/{id}?size=huge"), op, None).await;
    assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("size")), "{b}");
    assert!(b["error"]["message"].as_str().unwrap().contains("thumb or full"), "{b}");
    let (s, b) = w.call("GET", "/api/attachments/nosuchphoto?size=thumb", op, None).await;
    assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::NOT_FOUND, Some("id")), "{b}");
    assert_eq!(b["error"]["code"], "not_found");
    stored(&w, "aplanpdf", "application/pdf", b"%PDF-1.7 a plan").await;
    let (s, b) = w.call("GET", "/api/attachments/aplanpdf?size=thumb", op, None).await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, Some("unsupported_media_type")),
        "{b}"
    );
    assert_eq!(b["error"]["field"], "id");
    assert!(b["error"]["message"].as_str().unwrap().contains("application/pdf"), "{b}");
    assert_eq!(b["error"]["text"], "该附件类型为 application/pdf，不是图片，没有缩略图", "said in the user's language");
    stored(&w, "brokenpng", "image/png", b"\x89PNG\r\n\x1a\n and then nothing").await;
    let (s, b) = w.call("GET", "/api/attachments/brokenpng?size=thumb", op, None).await;
    assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("file")), "{b}");
    assert_eq!(b["error"]["text"], "该图片无法解码，文件可能已损坏");
    // The public has no photos at all.
    let (s, _) = w.call("GET", &format!("/api/attachments/{id}?size=thumb"), None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // A case with the photo names its thumbnail.
    let body = json!({"class_code": "SJ0102", "lon": 117.805, "lat": 36.405, "description": "路边暴露垃圾一堆", "photos": [id]});
    let (s, b) = w.call("POST", "/api/cases", op, Some(body)).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["case"]["thumb"], format!("/api/attachments/{id}?size=thumb"));
}

#[tokio::test]
async fn the_case_view_counts_down_in_the_steps_own_time_with_a_light() {
    let w = world().await;
    let (op, staff) = (w.token("operator"), w.token("staff"));
    let body = json!({"class_code": "SJ0102", "lon": 117.805, "lat": 36.405, "description": "路边暴露垃圾一堆"});
    let (s, b) = w.call("POST", "/api/cases", op, Some(body)).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let calendar = zhili_case::calendar::WorkCalendar::china();
    let now = Utc::now();
    // 立案派遣 of an ordinary class: 30 + 30 natural minutes from the next working start, so
    // the whole hour is left whenever the case came in (at night too: not 0).
    let clock = &b["case"]["clock"];
    assert_eq!((clock["basis"].as_str(), clock["allowance_minutes"].as_i64()), (Some("natural"), Some(60)), "{clock}");
    let left = clock["remaining_minutes"].as_i64().unwrap();
    assert!((59..=60).contains(&left), "{clock}");
    assert_eq!(clock["light"], "green");
    assert_eq!(clock["running"], calendar.is_working_time(now), "{clock}");
    assert_eq!(clock["day_minutes"], 450);
    let id = b["case"]["id"].as_i64().unwrap();
    // Filed and dispatched: the handling clock, 4 working hours, counted in working time.
    let mut version = b["case"]["version"].as_i64().unwrap();
    for (who, cmd) in [(op, json!({"command": "file"})), (op, json!({"command": "dispatch", "department": "cgj"}))] {
        let mut cmd = cmd;
        cmd["version"] = json!(version);
        let (s, b) = w.call("POST", &format!("/api/cases/{id}/transitions"), who, Some(cmd)).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        version = b["case"]["version"].as_i64().unwrap();
    }
    let (_, b) = w.call("GET", &format!("/api/cases/{id}"), staff, None).await;
    let clock = &b["case"]["clock"];
    assert_eq!((clock["basis"].as_str(), clock["allowance_minutes"].as_i64()), (Some("working"), Some(240)), "{clock}");
    assert_eq!(clock["remaining_minutes"], clock["remaining_working_minutes"]);
    assert!((239..=240).contains(&clock["remaining_minutes"].as_i64().unwrap()), "{clock}");
    assert_eq!(clock["running"], calendar.is_working_time(Utc::now()));
    let changes: chrono::DateTime<Utc> = serde_json::from_value(clock["changes_at"].clone()).unwrap();
    assert_eq!(changes, calendar.next_change(Utc::now()), "{clock}");
}
