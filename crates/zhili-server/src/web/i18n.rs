//! User-interface messages (界面文案) in zh-CN (default) and English.
//!
//! One table, one row per key; a test checks that no row lacks a language.

use zhili_core::model::Locale;

/// (key, zh-CN, en)
const MESSAGES: &[(&str, &str, &str)] = &[
    ("app.name", "治理 · 数字社会治理平台", "Zhili · Digital Social Governance"),
    ("app.short", "治理", "Zhili"),
    ("nav.home", "首页", "Home"),
    ("nav.divisions", "行政区划", "Divisions"),
    ("nav.map", "一张图", "One Map"),
    ("map.title", "社会治理一张图", "One Map"),
    ("map.search", "网格编码或名称", "Grid code or name"),
    ("map.go", "查找", "Find"),
    ("map.layers", "图层", "Layers"),
    ("map.layer.divisions", "行政区划", "Administrative divisions"),
    ("map.layer.grids", "网格", "Grids"),
    ("map.grids_zoom", "网格在放大到 10 级以上时显示。", "Grids show from zoom 10."),
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
    ("nav.departments", "部门", "Departments"),
    ("nav.users", "用户", "Users"),
    ("nav.audit", "审计日志", "Audit log"),
    ("nav.logout", "退出登录", "Log out"),
    ("nav.menu", "菜单", "Menu"),
    ("nav.language", "English", "中文"),
    ("login.title", "登录", "Log in"),
    ("login.username", "用户名", "Username"),
    ("login.password", "密码", "Password"),
    ("login.submit", "登录", "Log in"),
    ("login.failed", "用户名或密码错误", "Wrong username or password"),
    ("login.throttled", "尝试次数过多，请稍后再试", "Too many attempts; try again later"),
    ("login.expired", "表单已过期，请重试", "The form expired; please try again"),
    ("home.title", "工作台", "Overview"),
    ("home.welcome", "欢迎", "Welcome"),
    ("home.jurisdiction", "辖区", "Jurisdiction"),
    ("home.role", "角色", "Role"),
    ("home.divisions", "行政区划数", "Divisions"),
    ("home.departments", "部门数", "Departments"),
    ("home.users", "用户数", "Users"),
    ("divisions.title", "行政区划", "Administrative divisions"),
    ("divisions.code", "代码", "Code"),
    ("divisions.name", "名称", "Name"),
    ("divisions.level", "层级", "Level"),
    ("divisions.children", "下级", "Children"),
    ("divisions.up", "上一级", "Up one level"),
    ("level.county", "区县", "County"),
    ("level.township", "乡镇街道", "Township"),
    ("level.village", "村社区", "Village / community"),
    ("departments.title", "部门与机构", "Departments and agencies"),
    ("departments.code", "编码", "Code"),
    ("departments.name", "名称", "Name"),
    ("departments.division", "所在区划", "Division"),
    ("departments.command", "指挥中心", "Command centre"),
    ("nav.grids", "网格", "Grids"),
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
    ("cases.all_states", "全部状态", "All states"),
    ("cases.filter", "筛选", "Filter"),
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
    ("case.title", "案件详情", "Case"),
    ("report.title", "上报问题", "Report a problem"),
    ("report.major", "大类", "Category"),
    ("report.minor", "小类", "Subcategory"),
    ("report.photos", "照片", "Photos"),
    ("report.description", "问题描述", "Description"),
    ("report.locate", "定位", "Locate me"),
    ("report.position", "位置", "Position"),
    ("report.submit", "提交", "Submit"),
    ("intake.title", "热线录入", "Hotline intake"),
    ("intake.new", "录入案件", "New case"),
    ("intake.source", "来源", "Channel"),
    ("intake.contact", "来电人联系方式", "Caller's contact"),
    ("intake.address", "地址（可不填，按位置生成）", "Address (optional: derived from the position)"),
    ("intake.position", "位置（在地图上点击）", "Position (click the map)"),
    ("intake.place", "所在网格", "Grid"),
    ("grids.title", "网格", "Grids"),
    ("grids.code", "网格编码", "Code"),
    ("grids.name", "名称", "Name"),
    ("grids.level", "层级", "Level"),
    ("grids.parent", "上级网格", "Parent"),
    ("grids.village", "所属村/社区", "Village/community"),
    ("grids.export", "导出 GeoJSON", "Export GeoJSON"),
    ("grids.import", "导入网格", "Import grids"),
    ("grids.import_help", "GeoJSON 或 GeoPackage 文件，属性 code、name、level、parent。先全部校验；有任何错误则不写入。", "A GeoJSON or GeoPackage file with properties code, name, level, parent. Everything is validated first; with any error nothing is written."),
    ("grids.file", "文件", "File"),
    ("grids.check", "校验", "Validate"),
    ("grids.run", "导入", "Import"),
    ("users.title", "用户", "Users"),
    ("users.username", "用户名", "Username"),
    ("users.name", "姓名", "Name"),
    ("users.role", "角色", "Role"),
    ("users.jurisdiction", "辖区", "Jurisdiction"),
    ("users.phone", "手机", "Phone"),
    ("audit.title", "审计日志", "Audit log"),
    ("audit.seq", "序号", "No."),
    ("audit.at", "时间", "Time"),
    ("audit.actor", "操作人", "Actor"),
    ("audit.action", "操作", "Action"),
    ("audit.target", "对象", "Target"),
    ("audit.ip", "来源地址", "From"),
    ("audit.outcome", "结果", "Outcome"),
    ("audit.chain_ok", "哈希链校验通过", "Hash chain verified"),
    ("audit.chain_broken", "哈希链已被篡改", "Hash chain broken"),
    ("common.none", "无", "None"),
    ("common.yes", "是", "Yes"),
    ("common.no", "否", "No"),
    ("common.prev", "上一页", "Previous"),
    ("common.next", "下一页", "Next"),
    ("common.total", "共", "Total"),
    ("nav.notifications", "通知", "Notifications"),
    ("notifications.title", "消息通知", "Notifications"),
    ("notifications.unread", "未读", "Unread"),
    ("notifications.none", "暂无通知", "No notifications"),
    ("notifications.mark_all", "全部标为已读", "Mark all read"),
    ("notifications.kind", "类型", "Kind"),
    ("notifications.at", "时间", "Time"),
    ("public.title", "群众随手拍", "Report a problem"),
    ("public.link", "群众随手拍：反映身边问题", "Report a problem (no account needed)"),
    ("public.intro", "无需登录。选择类别、描述问题、使用您的位置，提交后可凭编号查询办理进度。", "No account needed. Pick a category, describe the problem and use your location; follow it later by its number."),
    ("public.service", "问题类别", "Category"),
    ("public.choose", "请选择", "Choose…"),
    ("public.description", "问题描述", "Description"),
    ("public.locate", "使用我的位置", "Use my location"),
    ("public.position", "位置", "Location"),
    ("public.phone", "联系电话（可选）", "Phone (optional)"),
    ("public.phone_note", "仅工作人员可见，不会公开。", "Only staff can see it; it is never published."),
    ("public.no_photos", "本页不接收照片。", "Photos are not accepted on this page."),
    ("public.submit", "提交", "Submit"),
    ("public.lookup", "查询办理进度", "Follow a report"),
    ("public.lookup_id", "诉求编号", "Report number"),
    ("public.lookup_go", "查询", "Look up"),
    ("public.status_title", "办理进度", "Report status"),
    ("public.not_found", "没有这个编号的诉求", "There is no report with this number"),
    ("public.number", "编号", "Number"),
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
    ("error.forbidden", "无权访问此页面", "You may not open this page"),
    ("error.not_found", "页面不存在", "No such page"),
    ("nav.case_classes", "案件分类", "Case classes"),
    ("nav.calendar", "工作日历", "Work calendar"),
    ("settings.read_only", "只读：仅管理员可修改。", "Read only: only administrators may change this."),
    ("settings.save", "保存", "Save"),
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

/// Translator for one locale; templates call `t.get("key")`.
#[derive(Debug, Clone, Copy)]
pub struct Tr(pub Locale);

impl Tr {
    /// The message for `key`; the key itself if missing (visible, never a panic).
    pub fn get(&self, key: &str) -> &'static str {
        match MESSAGES.iter().find(|m| m.0 == key) {
            Some((_, zh, en)) => match self.0 {
                Locale::ZhCn => zh,
                Locale::En => en,
            },
            None => {
                tracing::warn!(key, "missing UI message");
                "?"
            }
        }
    }

    /// The BCP 47 tag for `<html lang>`.
    pub fn lang(&self) -> &'static str {
        self.0.as_str()
    }

    /// The other language, for the switch link.
    pub fn other(&self) -> &'static str {
        match self.0 {
            Locale::ZhCn => "en",
            Locale::En => "zh-CN",
        }
    }
}

/// Pick a locale from an `Accept-Language` header; Chinese unless English is preferred.
pub fn from_accept_language(h: Option<&str>) -> Locale {
    let Some(h) = h else { return Locale::ZhCn };
    for part in h.split(',') {
        let tag = part.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if tag.starts_with("zh") {
            return Locale::ZhCn;
        }
        if tag.starts_with("en") {
            return Locale::En;
        }
    }
    Locale::ZhCn
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_in_both_languages_and_unique() {
        let mut keys = std::collections::HashSet::new();
        for (k, zh, en) in MESSAGES {
            assert!(keys.insert(*k), "duplicate key {k}");
            assert!(!zh.is_empty() && !en.is_empty(), "{k}");
        }
        assert_eq!(Tr(Locale::En).get("nav.home"), "Home");
        assert_eq!(Tr(Locale::ZhCn).get("nav.home"), "首页");
    }

    #[test]
    fn accept_language() {
        assert_eq!(from_accept_language(None), Locale::ZhCn);
        assert_eq!(from_accept_language(Some("en-US,en;q=0.9")), Locale::En);
        assert_eq!(from_accept_language(Some("zh-CN,zh;q=0.9,en;q=0.8")), Locale::ZhCn);
        assert_eq!(from_accept_language(Some("fr")), Locale::ZhCn);
    }
}
