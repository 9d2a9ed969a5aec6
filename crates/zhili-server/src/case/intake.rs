//! Case intake as a port (案件受理): the server's implementation of
//! [`zhili_case::intake::CaseIntake`], through which other modules (a flood warning, an IoT
//! alarm) open cases. Same checks as `POST /api/cases` (an active class, a position in the
//! district, text lengths, stored photos) and the same group commit; registered among the ports
//! by [`provide`].

use std::sync::Arc;

use async_trait::async_trait;
use zhili_case::intake::{CaseIntake, CaseRequest, IntakeError, OpenedCase};
use zhili_core::audit::Actor;
use zhili_core::ports::Ports;
use zhili_platform::settings::SettingStore;

use crate::case::api::{check_photos, check_text, intake, place, NewReport};
use crate::web::error::{AppError, AppResult};
use crate::AppState;

/// Case intake over the server's state.
struct Intake(AppState);

impl Intake {
    async fn open(&self, actor: &Actor, r: CaseRequest) -> AppResult<OpenedCase> {
        let state = &self.0;
        let description = check_text("description", &r.description, 1, 2000)?;
        let address = r.address.as_deref().map(|a| check_text("address", a, 0, 200)).transpose()?;
        let external_id = r.external_id.as_deref().map(|c| check_text("external_id", c, 1, 100)).transpose()?;
        let catalogue = crate::case::cases(state).catalogue(state.port::<dyn SettingStore>()).await?;
        let placed = place(state, &catalogue, None, &r.class_code, r.lon, r.lat, None)?;
        check_photos(state, "photos", &r.photos).await?;
        let done = intake(
            state,
            NewReport {
                actor: actor.clone(),
                reporter: actor.user_id,
                source: r.source,
                placed,
                description,
                address,
                photos: r.photos,
                contact: None,
                external_id,
            },
        )
        .await?;
        Ok(OpenedCase {
            case: done.case,
            duplicates: done.duplicates.iter().map(|d| d.id).collect(),
            suggested_department: done.suggested_department,
        })
    }
}

#[async_trait]
impl CaseIntake for Intake {
    async fn open_case(&self, actor: &Actor, request: CaseRequest) -> Result<OpenedCase, IntakeError> {
        self.open(actor, request).await.map_err(|e: AppError| IntakeError {
            code: e.code,
            field: e.field,
            message: e.message.unwrap_or_else(|| e.code.message_en().to_string()),
        })
    }
}

/// Offer case intake to the other modules.
pub fn provide(state: &AppState, ports: &mut Ports) {
    ports.add::<dyn CaseIntake>(Arc::new(Intake(state.clone())));
}
