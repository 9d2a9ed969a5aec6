//! User-interface messages (界面文案) in zh-CN (default) and English.
//!
//! The frame's own table here, each module's in its `Module`; one row per key, and a test
//! (in the crate root) checks that no key is defined twice or lacks a language.

use zhili_core::model::Locale;

/// (key, zh-CN, en): the frame's own messages; each domain module has its own
/// (`web::module::Module::messages`).
pub(crate) const MESSAGES: &[(&str, &str, &str)] = &[
    ("app.name", "治理 · 数字社会治理平台", "Zhili · Digital Social Governance"),
    ("app.short", "治理", "Zhili"),
    ("nav.logout", "退出登录", "Log out"),
    ("nav.menu", "菜单", "Menu"),
    ("nav.account", "账户", "Account"),
    ("nav.language", "English", "中文"),
    ("level.county", "区县", "County"),
    ("level.township", "乡镇街道", "Township"),
    ("level.village", "村社区", "Village / community"),
    ("common.none", "无", "None"),
    ("common.yes", "是", "Yes"),
    ("common.no", "否", "No"),
    ("common.prev", "上一页", "Previous"),
    ("common.next", "下一页", "Next"),
    ("common.total", "共", "Total"),
    ("nav.notifications", "通知", "Notifications"),
    ("error.forbidden", "无权访问此页面", "You may not open this page"),
    ("error.not_found", "页面不存在", "No such page"),
    ("error.status", "错误", "Error"),
    ("error.conflict_field", "{field}已存在", "{field} already exists"),
    ("error.missing_reference", "{field}所指的记录不存在", "{field} refers to a record that does not exist"),
    (
        "error.stale",
        "记录已被他人修改（现为第 {current} 版），请刷新后重试",
        "The record was changed by someone else (it is now at version {current}); reload and retry",
    ),
    ("settings.read_only", "只读：仅管理员可修改。", "Read only: only administrators may change this."),
    ("settings.save", "保存", "Save"),
];

/// Translator for one locale; templates call `t.get("key")`.
#[derive(Debug, Clone, Copy)]
pub struct Tr(pub Locale);

impl Tr {
    /// The message for `key`; the key itself if missing (visible, never a panic).
    pub fn get(&self, key: &str) -> &'static str {
        match crate::web::module::message(key) {
            Some((zh, en)) => match self.0 {
                Locale::ZhCn => zh,
                Locale::En => en,
            },
            None => {
                tracing::warn!(key, "missing UI message");
                "?"
            }
        }
    }

    /// The message for `key`, if one is registered.
    pub fn try_get(&self, key: &str) -> Option<&'static str> {
        crate::web::module::message(key).map(|(zh, en)| match self.0 {
            Locale::ZhCn => zh,
            Locale::En => en,
        })
    }

    /// The message for `key` with each `{name}` replaced by its value.
    pub fn format(&self, key: &str, params: &[(&str, String)]) -> String {
        params.iter().fold(self.get(key).to_string(), |s, (name, value)| s.replace(&format!("{{{name}}}"), value))
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
    fn accept_language() {
        assert_eq!(from_accept_language(None), Locale::ZhCn);
        assert_eq!(from_accept_language(Some("en-US,en;q=0.9")), Locale::En);
        assert_eq!(from_accept_language(Some("zh-CN,zh;q=0.9,en;q=0.8")), Locale::ZhCn);
        assert_eq!(from_accept_language(Some("fr")), Locale::ZhCn);
    }
}
