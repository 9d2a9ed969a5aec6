//! The case loop (案件闭环): intake, transitions, worklists and photos (`api`), the cases
//! layer of the One Map (`map`), the evaluation figures (`metrics`), Open311 and the
//! citizens' pages, the case pages, and dispatch notices and overdue escalation (`notify`).

pub mod api;
pub mod export;
pub mod home;
pub mod intake;
pub mod map;
pub mod metrics;
pub mod notify;
pub mod open311;
pub mod pages;
pub mod public;
pub mod thumb;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

use crate::AppState;
use zhili_core::policy::Action;

use crate::web::module::{Module, NavEntry, Needs};

/// The case loop's routes: the case API (photos and the catalogue with their own body
/// limits), figures, the map layer's data, Open311, and the pages with their scripts.
pub fn routes(state: &AppState) -> Router<AppState> {
    const JS: &str = "text/javascript; charset=utf-8";
    Router::new()
        .route("/api/cases", get(api::list).post(api::report))
        .route("/api/cases/export", get(export::export))
        .route("/api/cases/{id}", get(api::get))
        .route("/api/cases/bulk-transitions", post(api::bulk_transition))
        .route("/api/cases/{id}/transitions", post(api::transition))
        .route("/api/attachments", post(api::upload).layer(DefaultBodyLimit::max(state.config.photo_max_bytes)))
        .route("/api/attachments/{id}", get(api::download))
        .route(
            "/api/case-classes",
            get(api::classes).put(api::import_classes).layer(DefaultBodyLimit::max(8 * 1024 * 1024)),
        )
        .route("/api/case-classes/export", get(api::export_classes))
        .route("/api/work-calendar", get(api::get_calendar).put(api::put_calendar))
        .route("/api/work-calendar/holiday-text", post(api::holiday_text))
        .route("/api/case-metrics", get(metrics::case_metrics))
        .route("/api/case-points", get(map::points))
        .route("/api/case-density", get(map::density))
        .route("/open311/discovery.{format}", get(open311::discovery))
        .route("/open311/v2/discovery.{format}", get(open311::discovery))
        .route("/open311/v2/services.{format}", get(open311::services))
        .route("/open311/v2/services/{file}", get(open311::service_definition))
        .route(
            "/open311/v2/requests.{format}",
            get(open311::list_requests).post(open311::create_request).layer(DefaultBodyLimit::max(
                state.config.photo_max_bytes * open311::MAX_MEDIA + state.config.body_limit_bytes,
            )),
        )
        .route("/open311/v2/requests/{file}", get(open311::get_request))
        .route("/cases", get(pages::cases_page))
        .route("/cases/new", get(pages::intake_page))
        .route("/cases/{id}", get(pages::case_page))
        .route("/report", get(pages::report_page))
        .route("/dashboard", get(pages::dashboard_page))
        .route("/settings/case-classes", get(pages::case_classes_page))
        .route("/settings/calendar", get(pages::calendar_page))
        .merge(public::routes())
        .merge(crate::web::page::assets(&[
            ("map-cases.js", JS, include_str!("assets/map-cases.js")),
            ("intake.js", JS, include_str!("assets/intake.js")),
            ("worklist.js", JS, include_str!("assets/worklist.js")),
            ("case.js", JS, include_str!("assets/case.js")),
            ("report.js", JS, include_str!("assets/report.js")),
            ("dashboard.js", JS, include_str!("assets/dashboard.js")),
            ("settings-classes.js", JS, include_str!("assets/settings-classes.js")),
            ("settings-calendar.js", JS, include_str!("assets/settings-calendar.js")),
            ("public-report.js", JS, include_str!("assets/public-report.js")),
        ]))
}

/// Start the case loop's background work: the overdue escalation loop.
pub fn start(state: &AppState) {
    notify::start(state);
}

/// The case module (案件): its routes, navigation, messages and the cases layer of the One Map.
pub static MODULE: Module = Module {
    routes,
    start,
    nav: &[
        NavEntry { href: "/report", key: "nav.report", needs: Needs::Action(Action::ReportCase), order: 30 },
        NavEntry { href: "/cases", key: "nav.cases", needs: Needs::Action(Action::ReadCases), order: 40 },
        NavEntry { href: "/dashboard", key: "nav.dashboard", needs: Needs::Action(Action::ReadCases), order: 50 },
        NavEntry {
            href: "/settings/case-classes",
            key: "nav.case_classes",
            needs: Needs::Action(Action::ReadCases),
            order: 60,
        },
        NavEntry {
            href: "/settings/calendar",
            key: "nav.calendar",
            needs: Needs::Action(Action::ReadCases),
            order: 70,
        },
    ],
    messages: MESSAGES,
    openapi: <Doc as utoipa::OpenApi>::openapi,
    events: &zhili_case::notify::WebhookEvent::NAMES,
    subjects: &[crate::web::module::SubjectLink {
        kind: zhili_case::notify::SUBJECT_KIND,
        href: |id| format!("/cases/{id}"),
    }],
    provide,
    runtime,
    layers: &[map::LAYER],
    home: Some(home::parts),
    ..Module::named("case")
};

/// The services the case loop offers the others: case intake, and the deployment's local time
/// (its working-time calendar's UTC offset).
fn provide(state: &AppState, ports: &mut zhili_core::ports::Ports) {
    intake::provide(state, ports);
    ports.add::<dyn crate::web::clock::LocalTime>(std::sync::Arc::new(CalendarTime(state.clone())));
}

/// Local time from the working-time calendar.
struct CalendarTime(AppState);

#[async_trait::async_trait]
impl crate::web::clock::LocalTime for CalendarTime {
    async fn offset(&self) -> chrono::FixedOffset {
        let settings = self.0.port::<dyn zhili_platform::settings::SettingStore>();
        match cases(&self.0).calendar(settings).await {
            Ok(c) => c.offset(),
            Err(e) => {
                tracing::warn!(error = ?e.message, "work calendar unreadable; showing UTC");
                chrono::FixedOffset::east_opt(0).expect("zero is in range")
            }
        }
    }
}

/// The case loop's per-process machinery: the intake writer with the settings caches, and
/// where the last escalation pass stood.
fn runtime(ports: &mut zhili_core::ports::Ports) {
    ports.add::<api::Runtime>(std::sync::Arc::new(api::Runtime::default()));
    ports.add::<notify::EscalationMark>(std::sync::Arc::new(notify::EscalationMark::default()));
    ports.add::<thumb::Thumbs>(std::sync::Arc::new(thumb::Thumbs::default()));
}

/// The case loop's per-process machinery of this state.
pub fn cases(state: &AppState) -> &api::Runtime {
    state.port::<api::Runtime>()
}

/// This module's part of the OpenAPI document (merged by `crate::openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        api::report, api::list, api::get, api::transition, api::bulk_transition, api::upload, api::download,
        api::classes, api::export_classes, api::import_classes, api::get_calendar, api::put_calendar,
        api::holiday_text, export::export, metrics::case_metrics, map::points, map::density,
    ),
    components(schemas(crate::core::views::Paged<api::CaseView>)),
)]
struct Doc;

/// This module's UI messages (key, zh-CN, English).
const MESSAGES: &[crate::web::module::Message] = &[
    ("case.error.outside_district", "位置 {lon}, {lat} 不在本辖区范围内", "The position {lon}, {lat} is outside the district"),
    ("case.error.outside_jurisdiction", "该位置属于 {division}，不在您的管辖范围内", "The position is in {division}, outside your jurisdiction"),
    ("case.error.bulk_count", "请选择 1–{max} 件案件（已选 {got} 件）", "Choose 1–{max} cases (chosen: {got})"),
    ("case.error.bulk_twice", "案件 {id} 重复选择", "Case {id} is chosen twice"),
    ("case.error.wrong_state", "案件当前为“{state}”，不能{command}；现在可以：{now}", "A case that is {state} cannot be given “{command}”; allowed now: {now}"),
    ("case.error.wrong_state_none", "案件当前为“{state}”，不能{command}；您现在没有可执行的操作", "A case that is {state} cannot be given “{command}”; nothing is allowed for you now"),
    ("case.error.wrong_role", "角色“{role}”不能执行“{command}”", "The role {role} may not “{command}”"),
    ("case.error.missing_field", "“{command}”需要填写{field}", "“{command}” needs the {field}"),
    ("case.error.invalid_field", "“{command}”的{field}取值无效", "“{command}”: the {field} is not valid"),
    ("case.error.extension_pending", "已有延期 {minutes} 个工作分钟的申请待审批，审批后才能再次申请", "An extension of {minutes} working minutes is pending; it must be decided first"),
    ("case.error.no_extension_pending", "没有待审批的延期申请", "No extension request is pending"),
    ("case.error.bad_date", "请填写有效日期", "Enter a valid date"),
    ("case.error.period_order", "截止日期须晚于起始日期", "The end date must be after the start date"),
    ("case.error.period_long", "查询时段最长五年", "A period is at most five years"),
    ("case.error.thumb_not_image", "该附件类型为 {type}，不是图片，没有缩略图", "This attachment is {type}, not an image: it has no thumbnail"),
    ("case.error.thumb_undecodable", "该图片无法解码，文件可能已损坏", "The image cannot be decoded; the file may be damaged"),
    ("case.error.export_cap", "符合条件的案件超过 {max} 件，请缩小筛选范围后再导出", "More than {max} cases match; narrow the filter to export them"),
    ("case.error.export_format", "导出格式应为 csv 或 xlsx（收到 {format}）", "The export format must be csv or xlsx (got {format})"),
    ("export.col.id", "案件编号", "Case number"),
    ("export.col.class", "类别", "Class"),
    ("export.col.major", "大类", "Major class"),
    ("export.col.state", "状态", "State"),
    ("export.col.source", "来源", "Channel"),
    ("export.col.grid", "所属网格", "Grid"),
    ("export.col.township", "街道/乡镇", "Township"),
    ("export.col.department", "责任部门", "Department"),
    ("export.col.reported", "上报时间", "Reported"),
    ("export.col.filed", "立案时间", "Filed"),
    ("export.col.handle_deadline", "处置时限", "Handling deadline"),
    ("export.col.closed", "结案时间", "Closed"),
    ("export.col.overdue", "是否超时", "Overdue"),
    ("export.col.address", "地址", "Address"),
    ("export.col.description", "描述", "Description"),
    ("export.col.lon", "经度", "Longitude"),
    ("export.col.lat", "纬度", "Latitude"),
    ("export.kind.event", "事件", "Event"),
    ("export.kind.component", "部件", "Component"),
    ("export.yes", "是", "Yes"),
    ("export.no", "否", "No"),
    ("export.file_name", "案件导出", "cases"),
    ("export.sheet_name", "案件", "Cases"),
    ("cases.export", "导出", "Export"),
    ("cases.export_csv", "导出 CSV", "Export CSV"),
    ("cases.export_xlsx", "导出 XLSX", "Export XLSX"),
    ("case.error.bad_time", "{field}不是有效日期（应为 年-月-日）", "The {field} is not a valid date (YYYY-MM-DD)"),
    ("field.from", "起始日期", "start date"),
    ("field.to", "截止日期", "end date"),
    ("field.note", "说明", "note"),
    ("field.reason", "原因", "reason"),
    ("field.photos", "照片", "photos"),
    ("field.department", "处置部门", "department"),
    ("field.score", "满意度", "satisfaction score"),
    ("field.extra_minutes", "延长工作分钟", "extra working minutes"),
    ("field.approve", "审批结果", "decision"),
    ("field.passed", "核查结果", "check result"),
    ("field.duplicate_of", "重复案件编号", "duplicate case number"),
    ("field.class_code", "案件类别", "class"),
    ("case.source.grid_worker", "网格员上报", "Grid worker"),
    ("case.source.hotline", "热线", "Hotline"),
    ("case.source.public", "公众上报", "The public"),
    ("case.source.open311", "公众上报(Open311)", "The public (Open311)"),
    ("case.source.superior", "上级交办", "Assigned from above"),
    ("case.source.machine", "系统/传感器", "System / sensor"),
    ("case.counter.dispatches", "派遣", "dispatches"),
    ("case.counter.returns", "回退", "returns"),
    ("case.counter.reworks", "返工", "reworks"),
    ("case.counter.extensions", "延期", "extensions"),
    ("case.counter.reopens", "重新打开", "reopens"),
    ("case.counter.deferrals", "缓办", "deferrals"),
    ("dashboard.group.department", "部门", "Department"),
    ("dashboard.group.township", "乡镇街道", "Township"),
    ("dashboard.group.village", "村社区", "Village"),
    ("dashboard.group.grid1", "大网格", "Large grid"),
    ("dashboard.group.grid", "网格", "Grid"),
    ("dashboard.group.major", "大类", "Major class"),
    ("dashboard.group.class", "小类", "Class"),
    ("dashboard.group.reporter", "上报人", "Reporter"),
    ("dashboard.group.month", "月", "Month"),
    ("dashboard.group.day", "日", "Day"),
    ("audit.action.case.report", "上报案件", "Case reported"),
    ("audit.action.case.bulk_load", "批量导入案件", "Cases loaded in bulk"),
    ("audit.action.case.rollup_rebuild", "重建统计汇总", "Figures rebuilt"),
    ("audit.action.case.escalate", "超期督办", "Overdue escalation"),
    ("audit.action.case.file", "立案", "File"),
    ("audit.action.case.void", "作废", "Void"),
    ("audit.action.case.dispatch", "派遣", "Dispatch"),
    ("audit.action.case.accept", "签收", "Accept"),
    ("audit.action.case.return", "回退", "Return"),
    ("audit.action.case.request_extension", "申请延期", "Request extension"),
    ("audit.action.case.decide_extension", "审批延期", "Decide extension"),
    ("audit.action.case.respond", "反馈", "Report back"),
    ("audit.action.case.verify", "核查", "Verify"),
    ("audit.action.case.close", "结案", "Close"),
    ("audit.action.case.evaluate", "评价", "Evaluate"),
    ("audit.action.case.reopen", "重新打开", "Reopen"),
    ("audit.action.case.shelve", "挂账", "Shelve"),
    ("audit.action.case.unshelve", "解除挂账", "Unshelve"),
    ("audit.action.case.defer", "缓办", "Defer"),
    ("audit.action.case.resume", "恢复办理", "Resume"),
    ("notification.kind.dispatched", "派遣", "Dispatched"),
    ("notification.kind.overdue", "超期", "Overdue"),
    ("notification.kind.escalated", "督办", "Escalated"),
    ("map.layer.cases", "案件", "Cases"),
    ("map.cases.period", "时段", "Period"),
    ("map.cases.7d", "近7天", "Last 7 days"),
    ("map.cases.30d", "近30天", "Last 30 days"),
    ("map.cases.year", "今年", "This year"),
    ("map.cases.state", "状态", "State"),
    ("map.cases.all", "全部", "All"),
    ("map.cases.open", "未结案", "Open"),
    ("map.cases.closed", "已结案", "Closed"),
    ("map.cases.overdue", "已超时", "Overdue"),
    ("map.cases.zoom", "13 级以下为热力，放大后显示点位。", "Heat below zoom 13, points above."),
    ("nav.cases", "案件", "Cases"),
    ("nav.dashboard", "统计", "Dashboard"),
    ("dashboard.title", "考核统计", "Performance dashboard"),
    ("dashboard.from", "起始日期", "From"),
    ("dashboard.to", "截止日期(不含)", "To (exclusive)"),
    ("dashboard.group", "分组", "Group by"),
    ("dashboard.show", "查询", "Show"),
    ("nav.report", "上报", "Report"),
    ("cases.title", "案件工作台", "Case worklist"),
    ("cases.id", "编号", "No."),
    ("cases.class", "类别", "Class"),
    ("cases.state", "状态", "State"),
    ("cases.address", "地址", "Address"),
    ("cases.department", "处置部门", "Department"),
    ("cases.deadline", "时限", "Deadline"),
    ("cases.reported", "上报时间", "Reported"),
    ("cases.overdue", "超时", "Overdue"),
    ("cases.only_overdue", "只看超时", "Overdue only"),
    ("cases.within", "所属区划：", "Within:"),
    ("cases.within_clear", "取消区划筛选", "Clear the division"),
    ("cases.all_states", "全部状态", "All states"),
    ("cases.filter", "筛选", "Filter"),
    ("cases.filters", "筛选与排序", "Filters and order"),
    ("cases.all_classes", "全部类别", "All classes"),
    ("cases.whole_major", "整个大类", "whole major class"),
    ("cases.all_departments", "全部部门", "All departments"),
    ("cases.grid_code", "网格编码", "Grid code"),
    ("cases.from", "上报自", "Reported from"),
    ("cases.to", "至", "to"),
    ("cases.bulk_command", "批量操作", "Bulk action"),
    ("cases.bulk_file", "批量立案", "File selected"),
    ("cases.bulk_dispatch", "批量派遣", "Dispatch selected"),
    ("cases.bulk_accept", "批量签收", "Accept selected"),
    ("cases.bulk_note", "说明（可选）", "Note (optional)"),
    ("cases.bulk_apply", "执行", "Apply"),
    ("cases.pick_all", "全选本页", "Select this page"),
    ("cases.pick", "选择案件", "Select case"),
    ("cases.empty", "没有符合条件的案件", "No cases match"),
    ("cases.sort", "排序", "Order"),
    ("cases.sort_default", "默认排序", "Default order"),
    ("cases.sort_upcoming", "新待办优先", "New work first"),
    ("cases.sort_deadline", "最早时限优先", "Earliest deadline first"),
    ("cases.sort_newest", "最新上报优先", "Newest first"),
    ("home.queue", "我的待办", "My to-do"),
    ("home.today", "今日概况", "Today"),
    ("home.to_verify", "待核实", "To confirm"),
    ("home.to_check", "待核查", "To verify"),
    ("home.my_reports", "我的上报", "My reports"),
    ("home.to_accept", "待签收", "To accept"),
    ("home.handling", "处置中", "Being handled"),
    ("home.due_soon", "即将超时", "Due within 4 working hours"),
    ("home.overdue", "已超时", "Overdue"),
    ("home.to_file", "待立案", "To file"),
    ("home.to_dispatch", "待派遣", "To dispatch"),
    ("home.to_close", "待结案", "To close"),
    ("home.reported_today", "今日上报", "Reported today"),
    ("home.closed_today", "今日结案", "Closed today"),
    ("home.overdue_now", "当前超时", "Overdue now"),
    ("home.on_time_rate", "本月按期结案率", "On-time rate this month"),
    ("case.title", "案件详情", "Case"),
    ("report.title", "上报问题", "Report a problem"),
    ("report.major", "大类", "Category"),
    ("report.minor", "小类", "Subcategory"),
    ("report.photos", "照片", "Photos"),
    ("report.description", "问题描述", "Description"),
    ("report.locate", "定位", "Locate me"),
    ("report.position", "位置", "Position"),
    ("report.submit", "提交", "Submit"),
    ("report.pick_on_map", "在地图上选点", "Pick on the map"),
    ("report.place", "所在网格", "Grid and place"),
    ("report.pin_hint", "点击地图放置标记，可拖动调整。", "Tap the map to place the marker; drag it to adjust."),
    ("public.photos", "照片（可选，最多 {max} 张，每张不超过 {mb} MB）", "Photos (optional, at most {max}, up to {mb} MB each)"),
    ("public.pick_on_map", "在地图上选点", "Pick on the map"),
    ("public.pin_hint", "点击地图标出问题位置，可拖动标记调整。", "Tap the map where the problem is; drag the marker to adjust."),
    ("public.code_note", "请记下查询码：凭它查询办理进度，诉求编号不公开。", "Keep this tracking code: it is how you follow the report."),
    ("intake.title", "热线录入", "Hotline intake"),
    ("intake.new", "录入案件", "New case"),
    ("intake.source", "来源", "Channel"),
    ("intake.contact", "来电人联系方式", "Caller's contact"),
    ("intake.address", "地址（可不填，按位置生成）", "Address (optional: derived from the position)"),
    ("intake.position", "位置（在地图上点击）", "Position (click the map)"),
    ("intake.place", "所在网格", "Grid"),
    ("intake.find_place", "查找地点", "Find a place"),
    ("intake.find_hint", "网格、村社区或乡镇街道名称", "Name of a grid, village or township"),
    ("intake.find", "查找", "Find"),
    ("public.title", "群众随手拍", "Report a problem"),
    ("public.link", "群众随手拍：反映身边问题", "Report a problem (no account needed)"),
    ("public.intro", "无需登录。选择类别、描述问题、拍照并确定位置，提交后可凭查询码查询办理进度。", "No account needed. Pick a category, describe the problem, add photos and the place; follow it later by its tracking code."),
    ("public.service", "问题类别", "Category"),
    ("public.choose", "请选择", "Choose…"),
    ("public.description", "问题描述", "Description"),
    ("public.locate", "使用我的位置", "Use my location"),
    ("public.position", "位置", "Location"),
    ("public.phone", "联系电话（可选）", "Phone (optional)"),
    ("public.phone_note", "仅工作人员可见，不会公开。", "Only staff can see it; it is never published."),
    ("public.submit", "提交", "Submit"),
    ("public.lookup", "查询办理进度", "Follow a report"),
    ("public.lookup_id", "查询码", "Tracking code"),
    ("public.lookup_go", "查询", "Look up"),
    ("public.status_title", "办理进度", "Report status"),
    ("public.not_found", "没有这个查询码的诉求", "There is no report with this tracking code"),
    ("public.number", "查询码", "Tracking code"),
    ("public.status", "状态", "Status"),
    ("public.open", "已受理", "Open"),
    ("public.closed", "已办结", "Closed"),
    ("public.detail", "进度", "Progress"),
    ("public.service_name", "类别", "Category"),
    ("public.requested", "提交时间", "Reported"),
    ("public.updated", "更新时间", "Updated"),
    ("public.address", "地址", "Address"),
    ("public.agency", "处置部门", "Handled by"),
    ("public.notes", "说明", "Notes"),
    ("public.new", "再反映一个问题", "Report another problem"),
    ("public.detail.submitted", "已提交，待立案", "Submitted, awaiting filing"),
    ("public.detail.acknowledged", "已立案", "Acknowledged"),
    ("public.detail.action_scheduled", "已派遣至处置部门", "Sent to the department"),
    ("public.detail.in_progress", "处置中", "In progress"),
    ("public.detail.awaiting_verification", "已处置，待核查", "Handled, awaiting verification"),
    ("public.detail.verified", "已核查", "Verified"),
    ("public.detail.shelved", "已挂账", "Shelved"),
    ("public.detail.deferred", "已缓办", "Deferred"),
    ("public.detail.fixed", "已解决", "Fixed"),
    ("public.detail.duplicate", "重复诉求", "Duplicate"),
    ("public.detail.invalid", "无效诉求", "Not valid"),
    ("public.duplicate_of", "重复诉求，见查询码 {id}", "Duplicate of report {id}"),
    ("public.duplicate", "重复诉求", "Duplicate of another report"),
    ("public.result", "处理结果", "Result"),
    ("public.closed_at", "办结时间", "Closed"),
    ("public.lookup_note", "查询码为 16 位字母和数字，提交后显示。", "The tracking code has 16 letters and digits; it is shown when you report."),
    ("open311.error.service_required", "请选择问题类别", "required (see services.json)"),
    ("open311.error.service_unknown", "没有问题类别 {code}", "unknown service {code}"),
    ("open311.error.service_inactive", "问题类别 {code} 已停用", "service {code} is no longer offered"),
    ("open311.error.coordinate_range", "须在 -{limit} 到 {limit} 之间，现为 {value}", "must be within -{limit}..{limit}, got {value}"),
    ("open311.error.coordinate_number", "须为数字（WGS-84 度），现为 {value}", "must be a number (WGS-84 degrees), got {value}"),
    ("open311.error.position_not_address", "请提供位置：诉求按位置确定网格和处置部门，仅有地址无法受理", "required; reports are placed by their position (it decides the grid and who handles them), so address_string or address_id alone cannot be accepted"),
    ("open311.error.position_required", "请提供问题所在位置", "required (the WGS-84 position of the problem)"),
    ("open311.error.lat_with_long", "须与经度一同提供", "required with long"),
    ("open311.error.long_with_lat", "须与纬度一同提供", "required with lat"),
    ("open311.error.too_long", "最多 {max} 个字符，现有 {n} 个", "must have at most {max} characters, has {n}"),
    ("open311.error.control_characters", "含有控制字符", "contains control characters"),
    ("open311.error.media_url", "须为不含空格、最长 500 个字符的 http(s) 网址，现为 {value}", "must be an http(s) URL of at most 500 characters without spaces, got {value}"),
    ("open311.error.phone", "请填写有效的电话号码（3–20 位数字，可含空格和 + - ( )），现为 {value}", "must be a phone number (3–20 digits, spaces, + - ( )), got {value}"),
    ("open311.error.email", "请填写有效的电子邮箱（最长 100 个字符），现为 {value}", "must be an e-mail address of at most 100 characters, got {value}"),
    ("open311.error.outside_district", "位置（纬度 {lat}，经度 {long}）不在本辖区范围内", "the position (lat {lat}, long {long}) is outside the district served here"),
    ("open311.error.media_count", "最多 {max} 张照片，现有 {n} 张", "at most {max} photos, got {n}"),
    ("open311.error.media_type", "照片须为 JPEG、PNG 或 WebP 格式，现为 {type}", "photos must be image/jpeg, image/png or image/webp, not {type}"),
    ("open311.error.media_size", "每张照片不能超过 {mb} MB（{max} 字节），这张有 {n} 字节", "photos are limited to {max} bytes; this one has {n}"),
    ("open311.error.media_bytes", "文件内容不是 {type} 图片", "the bytes are not a {type} image (checked the file's first bytes)"),
    ("nav.case_classes", "案件分类", "Case classes"),
    ("nav.calendar", "工作日历", "Work calendar"),
    ("classes.title", "案件分类与立案标准", "Case classes and standards"),
    ("classes.search", "搜索代码、名称或部门", "Search code, name or department"),
    ("classes.export_xlsx", "导出 XLSX", "Export XLSX"),
    ("classes.export_csv", "导出 CSV", "Export CSV"),
    ("classes.import", "导入", "Import"),
    ("classes.import_help", "上传 XLSX 或 CSV 文件替换整个分类目录：先校验，无误后再导入。", "Upload an XLSX or CSV file to replace the whole catalogue: check first, then import."),
    ("classes.check", "校验", "Check"),
    ("classes.run", "导入", "Import"),
    ("classes.kind", "类型", "Kind"),
    ("classes.major", "大类", "Major class"),
    ("classes.code", "小类代码", "Code"),
    ("classes.name", "小类名称", "Name"),
    ("classes.department", "责任部门", "Department"),
    ("classes.limit_file", "立案时限", "Filing limit"),
    ("classes.limit_dispatch", "派遣时限", "Dispatch limit"),
    ("classes.limit_handle", "处置时限", "Handling limit"),
    ("classes.limit_verify", "核查时限", "Verification limit"),
    ("classes.urgency", "紧急程度", "Urgency"),
    ("classes.active", "启用", "Active"),
    ("classes.filing_condition", "立案条件", "Filing condition"),
    ("classes.closing_condition", "结案条件", "Closing condition"),
    ("classes.edit", "编辑分类", "Edit class"),
    ("classes.cancel", "取消", "Cancel"),
    ("calendar.title", "工作日历", "Working-time calendar"),
    ("calendar.periods", "每日工作时段", "Working periods of a day"),
    ("calendar.add_period", "添加时段", "Add a period"),
    ("calendar.weekend", "每周休息日", "Weekly rest days"),
    ("calendar.offset", "UTC 偏移（分钟，中国 480）", "UTC offset (minutes; China 480)"),
    ("calendar.year", "年度日历", "Year"),
    ("calendar.legend", "点击日期切换：正常 → 放假 → 调休上班。", "Click a day to cycle: normal → holiday → make-up working day."),
    ("calendar.holiday", "放假", "Holiday"),
    ("calendar.workday", "调休上班", "Make-up working day"),
    ("calendar.text", "节假日文本", "Holiday text"),
    ("calendar.text_help", "每行一个日期或区间，后跟 休 或 班，例如 2026-10-01..2026-10-07 休", "One date or range a line, then 休 (holiday) or 班 (make-up day), e.g. 2026-10-01..2026-10-07 休"),
    ("calendar.text_export", "导出文本", "Export text"),
    ("calendar.text_import", "按文本替换", "Replace from text"),
];
