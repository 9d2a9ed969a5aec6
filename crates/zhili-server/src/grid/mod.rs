//! Grids (网格): the grid API, the in-memory spatial index of divisions and grids
//! (`/api/locate`), and the grids page.

pub mod api;
pub mod pages;
pub mod spatial;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use axum::Router;

use crate::AppState;
use zhili_core::policy::Action;

use crate::web::module::{Module, NavEntry, Needs};

/// The grids' routes: the grid API (import with its own body limit), `/api/locate`, the page
/// and its script.
pub fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/api/grids", get(api::list_grids))
        .route("/api/locate", get(spatial::locate))
        .route(
            "/api/grids/import",
            post(api::import_grids).layer(DefaultBodyLimit::max(state.config.import_body_limit_bytes)),
        )
        .route("/api/grids/export", get(api::export_grids))
        .route("/api/grids/{code}", get(api::get_grid))
        .route("/api/grids/{code}/workers/{user_id}", put(api::assign_worker).delete(api::unassign_worker))
        .route("/grids", get(pages::grids_page))
        .route("/grids/{code}", get(pages::grid_page))
        .merge(crate::web::page::assets(&[(
            "grids.js",
            "text/javascript; charset=utf-8",
            include_str!("assets/grids.js"),
        )]))
}

/// The grid module (网格): its routes, navigation and messages.
pub static MODULE: Module = Module {
    routes,
    nav: &[NavEntry { href: "/grids", key: "nav.grids", needs: Needs::Action(Action::ReadGrids), order: 80 }],
    messages: MESSAGES,
    openapi: <Doc as utoipa::OpenApi>::openapi,
    ..Module::named("grid")
};

/// This module's part of the OpenAPI document (merged by `crate::openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        api::list_grids, api::get_grid, api::export_grids, spatial::locate, api::import_grids, api::assign_worker,
        api::unassign_worker,
    ),
    components(schemas(crate::core::views::Paged<api::GridView>)),
)]
struct Doc;

/// This module's UI messages (key, zh-CN, English).
const MESSAGES: &[crate::web::module::Message] = &[
    ("grid.error.import_problems", "发现 {n} 处问题，未导入任何数据", "{n} problem(s) found; nothing was imported"),
    (
        "grid.problem.not_feature_collection",
        "文件应为 GeoJSON FeatureCollection",
        "Expected a GeoJSON FeatureCollection",
    ),
    (
        "grid.problem.too_many_features",
        "共 {n} 个要素，每次最多导入 {max} 个",
        "{n} features; at most {max} per import",
    ),
    ("grid.problem.code_missing", "缺少属性 code（网格编码），或不是文本", "The property code is missing or not text"),
    (
        "grid.problem.code_invalid",
        "网格编码 {value} 不符合编码规则",
        "The grid code {value} does not follow the code scheme",
    ),
    (
        "grid.problem.code_invalid.length",
        "网格编码 {value} 应为 {expected} 位数字（村/社区编码 12 位 + 序号 {serial} 位），实为 {got} 位",
        "The grid code {value} must have {expected} digits (village 12 + serial {serial}); it has {got}",
    ),
    (
        "grid.problem.code_invalid.not_digit",
        "网格编码 {value} 的第 {position} 位“{found}”不是数字",
        "Character {position} (“{found}”) of the grid code {value} is not a digit",
    ),
    (
        "grid.problem.code_invalid.village",
        "网格编码 {value} 的第 1–12 位不是有效的村/社区编码",
        "Digits 1–12 of the grid code {value} are not a village/community code",
    ),
    (
        "grid.problem.code_invalid.zero_serial",
        "网格编码 {value} 的序号（第 13–{end} 位）不能全为 0",
        "The serial of the grid code {value} (digits 13–{end}) must not be all zeros",
    ),
    ("grid.problem.name_length", "属性 name（名称）须为 1–100 个字", "The property name must have 1–100 characters"),
    (
        "grid.problem.level_range",
        "属性 level（层级）须为 1–{max} 的整数",
        "The property level must be a whole number 1–{max}",
    ),
    (
        "grid.problem.parent_invalid",
        "上级网格编码 {value} 不符合编码规则",
        "The parent code {value} does not follow the code scheme",
    ),
    (
        "grid.problem.parent_invalid.length",
        "上级网格编码 {value} 应为 {expected} 位数字（村/社区编码 12 位 + 序号 {serial} 位），实为 {got} 位",
        "The parent code {value} must have {expected} digits (village 12 + serial {serial}); it has {got}",
    ),
    (
        "grid.problem.parent_invalid.not_digit",
        "上级网格编码 {value} 的第 {position} 位“{found}”不是数字",
        "Character {position} (“{found}”) of the parent code {value} is not a digit",
    ),
    (
        "grid.problem.parent_invalid.village",
        "上级网格编码 {value} 的第 1–12 位不是有效的村/社区编码",
        "Digits 1–12 of the parent code {value} are not a village/community code",
    ),
    (
        "grid.problem.parent_invalid.zero_serial",
        "上级网格编码 {value} 的序号（第 13–{end} 位）不能全为 0",
        "The serial of the parent code {value} (digits 13–{end}) must not be all zeros",
    ),
    (
        "grid.problem.parent_type",
        "属性 parent（上级网格）须为网格编码或 null",
        "The property parent must be a grid code or null",
    ),
    ("grid.problem.geometry_invalid", "几何图形在 {at} 处无效", "The geometry is not valid at {at}"),
    ("grid.problem.geometry_missing", "该要素没有几何图形", "The feature has no geometry"),
    (
        "grid.problem.duplicate_code",
        "编码重复：文件中另一个要素也使用该编码",
        "Duplicate code: another feature in this file has it",
    ),
    (
        "grid.problem.outside_jurisdiction",
        "村/社区 {village} 不在您的管辖范围 {jurisdiction} 内",
        "The village/community {village} is outside your jurisdiction {jurisdiction}",
    ),
    (
        "grid.problem.village_missing",
        "村/社区 {village}（编码第 1–12 位）不存在",
        "The village/community {village} (digits 1–12 of the code) does not exist",
    ),
    (
        "grid.problem.outside_village",
        "有 {area} 平方米超出所属村/社区 {village}",
        "{area} m² lie outside its village/community {village}",
    ),
    (
        "grid.problem.top_with_parent",
        "一级网格不应有上级网格，但填写了 {parent}",
        "A level-1 grid has no parent, but {parent} is given",
    ),
    (
        "grid.problem.parent_other_village",
        "上级网格 {parent} 属于另一个村/社区",
        "The parent {parent} belongs to another village/community",
    ),
    ("grid.problem.own_parent", "网格不能以自身为上级", "A grid cannot be its own parent"),
    (
        "grid.problem.parent_missing",
        "上级网格 {parent} 既不在本文件中，也未入库",
        "The parent {parent} is neither in this file nor stored",
    ),
    (
        "grid.problem.parent_level",
        "上级网格 {parent} 为第 {level} 级，本网格应为第 {expected} 级",
        "The parent {parent} is at level {level}, so this grid must be at level {expected}",
    ),
    (
        "grid.problem.outside_parent",
        "有 {area} 平方米超出上级网格 {parent}",
        "{area} m² lie outside its parent {parent}",
    ),
    (
        "grid.problem.overlap",
        "与同级网格 {other}（第 {other_feature} 个要素）重叠 {area} 平方米",
        "Overlaps its sibling {other} (feature {other_feature}) by {area} m²",
    ),
    (
        "grid.problem.overlap_stored",
        "与已入库的同级网格 {other} 重叠 {area} 平方米",
        "Overlaps its stored sibling {other} by {area} m²",
    ),
    (
        "grid.problem.gap",
        "{parent} 有 {area} 平方米未被任何下级网格覆盖",
        "{area} m² of {parent} are covered by none of its grids",
    ),
    ("audit.action.grid.assign", "分配网格员", "Grid worker assigned"),
    ("audit.action.grid.assign_batch", "批量分配网格员", "Grid workers assigned in bulk"),
    ("audit.action.grid.import", "导入网格", "Grids imported"),
    ("audit.action.grid.unassign", "取消网格员分配", "Grid worker unassigned"),
    ("nav.grids", "网格", "Grids"),
    ("grids.title", "网格", "Grids"),
    ("grids.code", "网格编码", "Code"),
    ("grids.name", "名称", "Name"),
    ("grids.level", "层级", "Level"),
    ("grids.parent", "上级网格", "Parent"),
    ("grids.village", "所属村/社区", "Village/community"),
    ("grids.export", "导出 GeoJSON", "Export GeoJSON"),
    ("grids.import", "导入网格", "Import grids"),
    (
        "grids.import_help",
        "GeoJSON 或 GeoPackage 文件，要素属性：",
        "A GeoJSON or GeoPackage file with the feature properties",
    ),
    (
        "grids.import_rule",
        "先全部校验；有任何错误则不写入。",
        "Everything is validated first; with any error nothing is written.",
    ),
    ("grids.file", "文件", "File"),
    ("grids.check", "校验", "Validate"),
    ("grids.run", "导入", "Import"),
    ("grid.title", "网格详情", "Grid"),
    ("grid.not_found", "没有这个网格，或不在您的管辖范围内", "No such grid, or it is outside your jurisdiction"),
    ("grid.workers", "网格人员", "Grid staff"),
    ("grid.duty", "职责", "Duty"),
    ("grid.phone", "电话", "Phone"),
    ("grid.no_workers", "尚未配备网格员", "No grid workers assigned yet"),
    ("grid.duty.leader", "网格长", "Grid leader"),
    ("grid.duty.full_time", "专职网格员", "Full-time grid worker"),
    ("grid.duty.part_time", "兼职网格员", "Part-time grid worker"),
    ("grid.on_map", "在一张图上查看", "Show on the One Map"),
    ("grid.cases", "本网格案件", "Cases in this grid"),
];
