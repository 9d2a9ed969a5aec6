//! The JSON API of the foundation (基础接口): divisions, departments, users, the audit log,
//! health and the caller's own profile. Every handler asks [`authorize`] first.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Deserializer};
use zhili_core::audit::AuditEvent;
use zhili_core::codes::DivisionCode;
use zhili_core::model::{
    validate_department_code, validate_name, validate_phone, validate_username, Locale, NewDepartment, NewUser,
};
use zhili_core::policy::{authorize, Action, Role};
use zhili_core::store::{verify_audit_chain, AuditVerifyError, Page, UserFilter, UserUpdate};
use zhili_core::{password, ErrorCode};

use crate::core::views::{AuditView, DepartmentView, DivisionView, Paged, UserView};
use crate::web::caller::Caller;
use crate::web::error::{AppError, AppResult, ErrorBody};
use crate::web::extract::{ApiJson, ApiQuery};
use crate::AppState;

/// Paging parameters: `offset` ≥ 0, `limit` 1–1000 (default 100).
#[derive(Deserialize, utoipa::IntoParams)]
pub struct PageQuery {
    /// Items to skip.
    pub offset: Option<i64>,
    /// Items to return, 1–1000.
    pub limit: Option<i64>,
}

impl PageQuery {
    /// The page asked for, or a precise error.
    pub fn page(&self) -> AppResult<Page> {
        let offset = self.offset.unwrap_or(0);
        let limit = self.limit.unwrap_or(100);
        if offset < 0 {
            return Err(AppError::msg(ErrorCode::InvalidQuery, "offset must be ≥ 0").at("offset"));
        }
        if !(1..=1000).contains(&limit) {
            return Err(AppError::msg(ErrorCode::InvalidQuery, "limit must be 1–1000").at("limit"));
        }
        Ok(Page { offset, limit })
    }
}

fn parse_code(field: &str, s: &str) -> AppResult<DivisionCode> {
    DivisionCode::parse(s).map_err(|e| AppError::field(field, e.to_string()))
}

fn query_code(field: &str, s: &str) -> AppResult<DivisionCode> {
    DivisionCode::parse(s).map_err(|e| AppError::msg(ErrorCode::InvalidQuery, e.to_string()).at(field))
}

/// Health of this process and its database.
#[utoipa::path(get, path = "/healthz", tag = "ops",
    responses((status = 200, description = "healthy", body = Object), (status = 503, body = ErrorBody)))]
pub async fn healthz(State(state): State<AppState>) -> AppResult<Json<serde_json::Value>> {
    state.store.ping().await?;
    Ok(Json(
        serde_json::json!({"status": "ok", "database": state.store.backend(), "version": env!("CARGO_PKG_VERSION")}),
    ))
}

/// Prometheus metrics, text format.
#[utoipa::path(get, path = "/metrics", tag = "ops", responses((status = 200, description = "Prometheus text", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    ([("content-type", "text/plain; version=0.0.4; charset=utf-8")], state.metrics.render()).into_response()
}

/// Query of `GET /api/divisions`.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct DivisionQuery {
    /// List the children of this division; without it, the top of the caller's jurisdiction.
    pub parent: Option<String>,
}

/// Divisions: the children of `parent`, or the caller's jurisdiction root. Divisions are
/// public reference data (GB/T 2260 codes are published).
#[utoipa::path(get, path = "/api/divisions", tag = "divisions", params(DivisionQuery),
    responses((status = 200, body = Vec<DivisionView>), (status = 400, body = ErrorBody)))]
pub async fn list_divisions(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<DivisionQuery>,
) -> AppResult<Json<Vec<DivisionView>>> {
    authorize(&caller.principal, Action::ReadDivisions, None)?;
    let list = match (&q.parent, &caller.principal.jurisdiction) {
        (Some(p), _) => state.store.child_divisions(Some(&query_code("parent", p)?)).await?,
        (None, Some(j)) => vec![state.store.division(j).await?],
        (None, None) => state.store.child_divisions(None).await?,
    };
    Ok(Json(list.iter().map(|d| DivisionView::of(d, false)).collect()))
}

/// One division with its boundary.
#[utoipa::path(get, path = "/api/divisions/{code}", tag = "divisions",
    params(("code" = String, Path, description = "Division code")),
    responses((status = 200, body = DivisionView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn get_division(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> AppResult<Json<DivisionView>> {
    authorize(&caller.principal, Action::ReadDivisions, None)?;
    let d = state.store.division(&parse_code("code", &code)?).await?;
    Ok(Json(DivisionView::of(&d, true)))
}

/// Body of `PUT /api/divisions/{code}`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutDivision {
    /// Official name.
    pub name: String,
    /// Boundary: a GeoJSON Polygon or MultiPolygon in WGS-84/CGCS2000 longitude-latitude.
    #[schema(value_type = Option<Object>)]
    pub boundary: Option<serde_json::Value>,
}

/// Create or change a division (system administrators, inside their jurisdiction). The
/// parent division must exist; the boundary must be a valid area.
#[utoipa::path(put, path = "/api/divisions/{code}", tag = "divisions", request_body = PutDivision,
    params(("code" = String, Path, description = "Division code")),
    responses((status = 200, body = DivisionView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn put_division(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<PutDivision>,
) -> AppResult<Json<DivisionView>> {
    authorize(&caller.principal, Action::ManageDivisions, None)?;
    let code = parse_code("code", &code)?;
    authorize(&caller.principal, Action::ManageDivisions, Some(&code))
        .map_err(|_| AppError::msg(ErrorCode::Forbidden, "the division is outside your jurisdiction").at("code"))?;
    validate_name("name", &b.name).map_err(|m| AppError::field("name", m))?;
    let boundary = match &b.boundary {
        None => None,
        Some(v) => {
            let area = zhili_geo::geometry::parse_area(v)
                .map_err(|e| AppError::field(format!("boundary.{}", e.at), e.message))?;
            Some(zhili_geo::geometry::area_to_geojson(&area).to_string())
        }
    };
    let d = zhili_core::model::Division { code, name: b.name.trim().into(), boundary };
    state.store.upsert_division(&caller.actor(), &d).await.map_err(|e| match e {
        zhili_core::store::StoreError::MissingReference { .. } => AppError::field(
            "code",
            format!(
                "the parent division {} does not exist",
                d.code.parent().map(|p| p.to_string()).unwrap_or_default()
            ),
        ),
        e => e.into(),
    })?;
    Ok(Json(DivisionView::of(&d, true)))
}

/// Departments that concern the caller: seated in the jurisdiction or above it.
#[utoipa::path(get, path = "/api/departments", tag = "departments", params(PageQuery),
    responses((status = 200, body = Vec<DepartmentView>), (status = 401, body = ErrorBody)))]
pub async fn list_departments(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> AppResult<Json<Vec<DepartmentView>>> {
    authorize(&caller.principal, Action::ReadDepartments, None)?;
    let page = q.page()?;
    // Departments are few (tens to hundreds per county); filter the whole list by concern.
    let all = state.store.departments(None, Page { offset: 0, limit: 10_000 }).await?;
    let items = all
        .iter()
        .filter(|d| caller.principal.concerns(&d.division))
        .skip(page.offset as usize)
        .take(page.limit as usize)
        .map(DepartmentView::from)
        .collect();
    Ok(Json(items))
}

/// One department.
#[utoipa::path(get, path = "/api/departments/{id}", tag = "departments",
    params(("id" = i64, Path, description = "Department id")),
    responses((status = 200, body = DepartmentView), (status = 404, body = ErrorBody)))]
pub async fn get_department(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> AppResult<Json<DepartmentView>> {
    authorize(&caller.principal, Action::ReadDepartments, None)?;
    let d = state.store.department(id).await?;
    if !caller.principal.concerns(&d.division) {
        return Err(AppError::new(ErrorCode::NotFound));
    }
    Ok(Json(DepartmentView::from(&d)))
}

/// Body of `POST /api/departments`.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct CreateDepartment {
    /// Short code, 2–32 of a–z, 0–9, _.
    pub code: String,
    /// Name.
    pub name: String,
    /// Division served (inside the caller's jurisdiction).
    pub division: String,
    /// Whether this is the command centre.
    #[serde(default)]
    pub is_command_centre: bool,
}

/// Create a department (system administrators).
#[utoipa::path(post, path = "/api/departments", tag = "departments", request_body = CreateDepartment,
    responses((status = 201, body = DepartmentView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_department(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<CreateDepartment>,
) -> AppResult<(StatusCode, Json<DepartmentView>)> {
    authorize(&caller.principal, Action::ManageDepartments, None)?;
    validate_department_code(&b.code).map_err(|m| AppError::field("code", m))?;
    validate_name("name", &b.name).map_err(|m| AppError::field("name", m))?;
    let division = parse_code("division", &b.division)?;
    authorize(&caller.principal, Action::ManageDepartments, Some(&division))
        .map_err(|_| AppError::msg(ErrorCode::Forbidden, "division is outside your jurisdiction").at("division"))?;
    let d = state
        .store
        .create_department(
            &caller.actor(),
            &NewDepartment {
                code: b.code,
                name: b.name.trim().into(),
                division,
                is_command_centre: b.is_command_centre,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(DepartmentView::from(&d))))
}

/// Query of `GET /api/users`.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct UserQuery {
    /// Only users whose jurisdiction lies inside this division.
    pub within: Option<String>,
    /// Only this role.
    pub role: Option<String>,
    /// Only this department.
    pub department_id: Option<i64>,
    /// Only those whose username or name contains this text (1–50 characters).
    pub q: Option<String>,
    /// Items to skip.
    pub offset: Option<i64>,
    /// Items to return, 1–1000.
    pub limit: Option<i64>,
}

/// A user search text, checked: 1–50 characters once trimmed (`None` for none or blank).
pub(crate) fn user_text(q: Option<&str>) -> AppResult<Option<String>> {
    match q.map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) if t.chars().count() > 50 => {
            Err(AppError::msg(ErrorCode::InvalidQuery, "q must have at most 50 characters").at("q"))
        }
        Some(t) => Ok(Some(t.to_string())),
    }
}

/// Users inside the caller's jurisdiction; phones masked.
#[utoipa::path(get, path = "/api/users", tag = "users", params(UserQuery),
    responses((status = 200, body = Paged<UserView>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<UserQuery>,
) -> AppResult<Json<Paged<UserView>>> {
    authorize(&caller.principal, Action::ReadUsers, None)?;
    let page = PageQuery { offset: q.offset, limit: q.limit }.page()?;
    let j = caller.principal.jurisdiction.clone().ok_or_else(|| AppError::new(ErrorCode::Unauthenticated))?;
    let within = match &q.within {
        None => Some(j),
        Some(w) => match j.intersect(&query_code("within", w)?) {
            Some(w) => Some(w),
            // Disjoint from the jurisdiction: nothing to see.
            None => {
                return Ok(Json(Paged {
                    items: vec![],
                    total: 0,
                    total_exact: true,
                    offset: page.offset,
                    limit: page.limit,
                }))
            }
        },
    };
    let role = match &q.role {
        None => None,
        Some(r) => Some(
            Role::from_name(r)
                .ok_or_else(|| AppError::msg(ErrorCode::InvalidQuery, format!("unknown role {r:?}")).at("role"))?,
        ),
    };
    let text = user_text(q.q.as_deref())?;
    let filter = UserFilter { within, role, department_id: q.department_id, text };
    let users = state.store.users(&filter, page).await?;
    let total = state.store.count_users(&filter).await?;
    state
        .store
        .audit(&AuditEvent::success(&caller.actor(), "user.list", "users").with_detail(serde_json::json!({
            "within": filter.within, "role": filter.role, "department_id": filter.department_id, "q": filter.text,
            "returned": users.len(),
        })))
        .await?;
    Ok(Json(Paged {
        items: users.iter().map(|u| UserView::of(u, false)).collect(),
        total,
        total_exact: true,
        offset: page.offset,
        limit: page.limit,
    }))
}

async fn visible_user(
    state: &AppState,
    caller: &Caller,
    id: i64,
    action: Action,
) -> AppResult<zhili_core::model::User> {
    authorize(&caller.principal, action, None)?;
    let u = state.store.user(id).await?;
    authorize(&caller.principal, action, Some(&u.jurisdiction))?;
    Ok(u)
}

/// One user; phone masked.
#[utoipa::path(get, path = "/api/users/{id}", tag = "users", params(("id" = i64, Path, description = "User id")),
    responses((status = 200, body = UserView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_user(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>) -> AppResult<Json<UserView>> {
    let u = visible_user(&state, &caller, id, Action::ReadUsers).await?;
    state.store.audit(&AuditEvent::success(&caller.actor(), "user.read", format!("user:{id}"))).await?;
    Ok(Json(UserView::of(&u, false)))
}

/// One user with personal data in full (roles that need it); the read is audited.
#[utoipa::path(get, path = "/api/users/{id}/personal", tag = "users", params(("id" = i64, Path, description = "User id")),
    responses((status = 200, body = UserView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_user_personal(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> AppResult<Json<UserView>> {
    let u = visible_user(&state, &caller, id, Action::ReadPersonalData).await?;
    state.store.audit(&AuditEvent::success(&caller.actor(), "user.read_personal", format!("user:{id}"))).await?;
    Ok(Json(UserView::of(&u, true)))
}

/// Body of `POST /api/users`.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct CreateUser {
    /// Login name, 3–64 of letters, digits, `_-.`.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Role name (not `public`).
    pub role: String,
    /// Jurisdiction code, inside the caller's.
    pub jurisdiction: String,
    /// Department id.
    pub department_id: Option<i64>,
    /// 11-digit mobile number.
    pub phone: Option<String>,
    /// Initial password, 8–128 characters.
    pub password: String,
}

/// Check a new user's fields; the error names the first bad field.
pub fn validate_new_user(b: &CreateUser) -> AppResult<(Role, DivisionCode)> {
    validate_username(&b.username).map_err(|m| AppError::field("username", m))?;
    validate_name("display_name", &b.display_name).map_err(|m| AppError::field("display_name", m))?;
    let role = Role::from_name(&b.role).filter(|r| *r != Role::Public).ok_or_else(|| {
        AppError::field("role", "role must be admin, leader, operator, department_staff or grid_worker")
    })?;
    let jurisdiction = parse_code("jurisdiction", &b.jurisdiction)?;
    if let Some(p) = &b.phone {
        validate_phone(p).map_err(|m| AppError::field("phone", m))?;
    }
    password::validate(&b.password).map_err(|e| AppError::field("password", e.to_string()))?;
    Ok((role, jurisdiction))
}

/// Create a user (system administrators).
#[utoipa::path(post, path = "/api/users", tag = "users", request_body = CreateUser,
    responses((status = 201, body = UserView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<CreateUser>,
) -> AppResult<(StatusCode, Json<UserView>)> {
    authorize(&caller.principal, Action::ManageUsers, None)?;
    let (role, jurisdiction) = validate_new_user(&b)?;
    authorize(&caller.principal, Action::ManageUsers, Some(&jurisdiction))
        .map_err(|_| AppError::msg(ErrorCode::Forbidden, "jurisdiction is outside your own").at("jurisdiction"))?;
    if let Some(id) = b.department_id {
        let d = state.store.department(id).await.map_err(|_| AppError::field("department_id", "no such department"))?;
        if !caller.principal.concerns(&d.division) {
            return Err(AppError::field("department_id", "no such department"));
        }
    }
    let pw = b.password.clone();
    let hash = tokio::task::spawn_blocking(move || password::hash(&pw))
        .await
        .map_err(|_| AppError::new(ErrorCode::Internal))?;
    let u = state
        .store
        .create_user(
            &caller.actor(),
            &NewUser {
                username: b.username,
                display_name: b.display_name.trim().into(),
                role,
                jurisdiction,
                department_id: b.department_id,
                phone: b.phone,
                password_hash: hash,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(UserView::of(&u, false))))
}

/// Tell an absent field (`None`) from an explicit `null` (`Some(None)`).
fn double_option<'de, T: Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Body of `PATCH /api/users/{id}`: only the fields given change.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    /// Display name.
    pub display_name: Option<String>,
    /// Role name (not `public`).
    pub role: Option<String>,
    /// Jurisdiction code, inside the caller's.
    pub jurisdiction: Option<String>,
    /// Department id; `null` removes it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub department_id: Option<Option<i64>>,
    /// 11-digit mobile number; `null` removes it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    /// `false` disables the account and ends its sessions.
    pub active: Option<bool>,
}

/// Change a user's account (system administrators). An administrator cannot disable or
/// demote themselves, so a deployment never loses its last way in by accident.
#[utoipa::path(patch, path = "/api/users/{id}", tag = "users", request_body = UpdateUser,
    params(("id" = i64, Path, description = "User id")),
    responses((status = 200, body = UserView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<UpdateUser>,
) -> AppResult<Json<UserView>> {
    visible_user(&state, &caller, id, Action::ManageUsers).await?;
    let mut change = UserUpdate { active: b.active, ..Default::default() };
    if let Some(n) = &b.display_name {
        validate_name("display_name", n).map_err(|m| AppError::field("display_name", m))?;
        change.display_name = Some(n.trim().into());
    }
    if let Some(r) = &b.role {
        change.role = Some(Role::from_name(r).filter(|r| *r != Role::Public).ok_or_else(|| {
            AppError::field("role", "role must be admin, leader, operator, department_staff or grid_worker")
        })?);
    }
    if let Some(j) = &b.jurisdiction {
        let j = parse_code("jurisdiction", j)?;
        authorize(&caller.principal, Action::ManageUsers, Some(&j))
            .map_err(|_| AppError::msg(ErrorCode::Forbidden, "jurisdiction is outside your own").at("jurisdiction"))?;
        change.jurisdiction = Some(j);
    }
    if let Some(Some(p)) = &b.phone {
        validate_phone(p).map_err(|m| AppError::field("phone", m))?;
    }
    change.phone = b.phone.clone();
    if let Some(Some(d)) = b.department_id {
        let dept =
            state.store.department(d).await.map_err(|_| AppError::field("department_id", "no such department"))?;
        if !caller.principal.concerns(&dept.division) {
            return Err(AppError::field("department_id", "no such department"));
        }
    }
    change.department_id = b.department_id;
    if caller.principal.user_id == Some(id) {
        if change.active == Some(false) {
            return Err(AppError::field("active", "you cannot disable your own account"));
        }
        if change.role.is_some_and(|r| r != Role::Admin) {
            return Err(AppError::field("role", "you cannot remove your own administrator role"));
        }
    }
    let u = state.store.update_user(&caller.actor(), id, &change).await?;
    Ok(Json(UserView::of(&u, false)))
}

/// Body of `PUT /api/me/password`.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct ChangeOwnPassword {
    /// The password now.
    pub current_password: String,
    /// The new password, 8–128 characters.
    pub new_password: String,
}

/// Change one's own password. Ends every session of the account, this one included.
#[utoipa::path(put, path = "/api/me/password", tag = "auth", request_body = ChangeOwnPassword,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn change_my_password(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<ChangeOwnPassword>,
) -> AppResult<StatusCode> {
    authorize(&caller.principal, Action::ReadOwnProfile, None)?;
    let user = caller.require_user()?;
    password::validate(&b.new_password).map_err(|e| AppError::field("new_password", e.to_string()))?;
    // The same throttled check as a login: this endpoint is no side door for guessing.
    crate::core::auth::authenticate_password(&state, &user.username, &b.current_password, &caller.ip).await.map_err(
        |e| {
            if e.code == ErrorCode::BadCredentials {
                AppError::field("current_password", "the current password is wrong")
            } else {
                e
            }
        },
    )?;
    let hash = tokio::task::spawn_blocking(move || password::hash(&b.new_password))
        .await
        .map_err(|_| AppError::new(ErrorCode::Internal))?;
    state.store.set_password(&caller.actor(), user.id, &hash).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Body of `PUT /api/users/{id}/password`.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct SetPassword {
    /// New password, 8–128 characters.
    pub password: String,
}

/// Reset a user's password (system administrators); ends the user's sessions.
#[utoipa::path(put, path = "/api/users/{id}/password", tag = "users", request_body = SetPassword,
    params(("id" = i64, Path, description = "User id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_user_password(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<SetPassword>,
) -> AppResult<StatusCode> {
    visible_user(&state, &caller, id, Action::ManageUsers).await?;
    password::validate(&b.password).map_err(|e| AppError::field("password", e.to_string()))?;
    let hash = tokio::task::spawn_blocking(move || password::hash(&b.password))
        .await
        .map_err(|_| AppError::new(ErrorCode::Internal))?;
    state.store.set_password(&caller.actor(), id, &hash).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's own profile, personal data in full.
#[utoipa::path(get, path = "/api/me", tag = "auth",
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody)))]
pub async fn me(caller: Caller) -> AppResult<Json<UserView>> {
    authorize(&caller.principal, Action::ReadOwnProfile, None)?;
    Ok(Json(UserView::of(caller.require_user()?, true)))
}

/// Body of `PUT /api/me/locale`.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct SetLocale {
    /// `zh-CN` or `en`.
    pub locale: String,
}

/// Change the caller's UI language.
#[utoipa::path(put, path = "/api/me/locale", tag = "auth", request_body = SetLocale,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_my_locale(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<SetLocale>,
) -> AppResult<StatusCode> {
    authorize(&caller.principal, Action::ReadOwnProfile, None)?;
    let locale = Locale::from_tag(&b.locale).ok_or_else(|| AppError::field("locale", "locale must be zh-CN or en"))?;
    state.store.set_locale(&caller.actor(), caller.require_user()?.id, locale).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The most recent audit rows, newest first (system administrators).
#[utoipa::path(get, path = "/api/audit", tag = "audit", params(PageQuery),
    responses((status = 200, body = Vec<AuditView>), (status = 403, body = ErrorBody)))]
pub async fn list_audit(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> AppResult<Json<Vec<AuditView>>> {
    authorize(&caller.principal, Action::ReadAudit, None)?;
    let rows = state.store.recent_audit(q.page()?).await?;
    Ok(Json(rows.iter().map(AuditView::from).collect()))
}

/// Verify the audit hash chain (system administrators).
#[utoipa::path(get, path = "/api/audit/verify", tag = "audit",
    responses((status = 200, description = "`{ok, rows}` or `{ok:false, error}`", body = Object), (status = 403, body = ErrorBody)))]
pub async fn verify_audit(State(state): State<AppState>, caller: Caller) -> AppResult<Json<serde_json::Value>> {
    authorize(&caller.principal, Action::VerifyAudit, None)?;
    match verify_audit_chain(state.store.as_ref(), |_| {}).await {
        Ok(rows) => Ok(Json(serde_json::json!({"ok": true, "rows": rows}))),
        Err(AuditVerifyError::Chain(e)) => Ok(Json(serde_json::json!({"ok": false, "error": e.to_string()}))),
        Err(AuditVerifyError::Store(e)) => Err(e.into()),
    }
}
