//! The texts of a warning's messages (预警短信/广播文本), zh-CN.
//!
//! One function per kind of message, from the village's name, the grade and the trigger, so the
//! state machine, the server's previews and the tests say the same words. Numbers: rain in mm
//! with at most one decimal, levels in m with two.

use super::{LiftKind, Trigger};
use crate::vocab::{Channel, Grade, Tier, Window};

/// The channel's Chinese name (短信, 语音电话, 预警广播 …).
pub fn channel_zh(channel: Channel) -> &'static str {
    match channel {
        Channel::InApp => "站内通知",
        Channel::Sms => "短信",
        Channel::Voice => "语音电话",
        Channel::Broadcast => "预警广播",
        Channel::Siren => "报警器",
    }
}

/// A window as messages say it: `1 小时`, `30 分钟`.
pub fn window_zh(window: Window) -> String {
    let m = window.as_minutes();
    if m.is_multiple_of(60) {
        format!("{} 小时", m / 60)
    } else {
        format!("{m} 分钟")
    }
}

/// The warning's name: `准备转移预警`, `橙色预警`.
pub fn grade_warning(grade: Grade) -> String {
    let zh = grade.zh();
    if zh.ends_with("预警") {
        zh.to_owned()
    } else {
        format!("{zh}预警")
    }
}

/// Rain in mm: `42.5`, `40`.
pub fn mm(v: f64) -> String {
    let s = format!("{v:.1}");
    s.strip_suffix(".0").map(str::to_owned).unwrap_or(s)
}

/// A level or rate in m: `123.45`.
pub fn metres(v: f64) -> String {
    format!("{v:.2}")
}

/// What was observed: `1 小时降雨 42.5 毫米`, `东石桥断面水位 123.45 米`.
fn observed(trigger: &Trigger) -> String {
    match trigger {
        Trigger::Rain { window, value_mm, .. } => format!("{}降雨 {} 毫米", window_zh(*window), mm(*value_mm)),
        Trigger::Level { section_name, value_m, .. } => format!("{section_name}水位 {} 米", metres(*value_m)),
        Trigger::Rise { section_name, value_m_per_h, .. } => {
            format!("{section_name}水位每小时上涨 {} 米", metres(*value_m_per_h))
        }
        Trigger::Manual { by, .. } => {
            let who = if by.name.is_empty() { &by.id } else { &by.name };
            format!("经 {who} 研判")
        }
    }
}

/// The indicator reached: `已达准备转移指标（40 毫米）`.
fn reached(grade: Grade, trigger: &Trigger) -> String {
    let name = grade.zh();
    match trigger {
        Trigger::Rain { threshold_mm, .. } => format!("已达{name}指标（{} 毫米）", mm(*threshold_mm)),
        Trigger::Level { threshold_m, .. } => format!("已达{name}指标（{} 米）", metres(*threshold_m)),
        Trigger::Rise { threshold_m_per_h, .. } => {
            format!("已达{name}指标（每小时 {} 米）", metres(*threshold_m_per_h))
        }
        Trigger::Manual { note, .. } if note.is_empty() => format!("发布{}", grade_warning(grade)),
        Trigger::Manual { note, .. } => format!("发布{}（{note}）", grade_warning(grade)),
    }
}

/// What a responsible person must do.
fn action(grade: Grade) -> &'static str {
    if grade.evacuate() {
        "请立即组织群众转移"
    } else {
        "请立即组织准备转移"
    }
}

/// The internal warning to a responsible person, e.g.
/// `【山洪预警】博山区某村 1 小时降雨 42.5 毫米，已达准备转移指标（40 毫米），请立即组织准备转移并回复确认。`
/// An upgrade says `【山洪预警升级】`.
pub fn internal_message(village_name: &str, grade: Grade, trigger: &Trigger, upgrade: bool) -> String {
    let head = if upgrade { "【山洪预警升级】" } else { "【山洪预警】" };
    format!("{head}{village_name} {}，{}，{}并回复确认。", observed(trigger), reached(grade, trigger), action(grade))
}

/// The same warning again, on the next channel, because it was not acknowledged.
pub fn reminder_message(warning_text: &str, reminder: u8) -> String {
    format!("【第 {reminder} 次催办】{warning_text}")
}

/// The public warning on the village's broadcast and sirens.
pub fn public_message(village_name: &str, grade: Grade, trigger: &Trigger) -> String {
    let what = if grade.evacuate() {
        "请全体村民立即按转移路线撤离到安置点，不要返回！"
    } else {
        "请村民做好转移准备，听从村组干部安排。"
    };
    format!("【山洪预警】{village_name}{}，{}。{what}", observed(trigger), reached(grade, trigger))
}

/// The follow-up case's title.
pub fn case_title(village_name: &str, grade: Grade) -> String {
    format!("山洪{}：{village_name}", grade_warning(grade))
}

/// The trigger in one line for the trail and the case: window, value, threshold, station, soil.
pub fn trigger_detail(trigger: &Trigger) -> String {
    match trigger {
        Trigger::Rain { window, value_mm, threshold_mm, station, soil } => {
            let mut s = format!("{}雨量 {} 毫米 ≥ 指标 {} 毫米", window_zh(*window), mm(*value_mm), mm(*threshold_mm));
            if let Some(soil) = soil {
                s.push_str(&format!("，土壤{}", soil.zh()));
            }
            if let Some(station) = station {
                s.push_str(&format!("，测站 {station}"));
            }
            s
        }
        Trigger::Level { section, section_name, value_m, threshold_m } => {
            format!("{section_name}（{section}）水位 {} 米 ≥ 指标 {} 米", metres(*value_m), metres(*threshold_m))
        }
        Trigger::Rise { section, section_name, value_m_per_h, threshold_m_per_h } => format!(
            "{section_name}（{section}）涨率 {} 米/小时 ≥ 指标 {} 米/小时",
            metres(*value_m_per_h),
            metres(*threshold_m_per_h)
        ),
        Trigger::Manual { by, note } => format!("人工研判：{} {}", by.name, note).trim_end().to_owned(),
    }
}

/// 督办 to the next tier up: who of `tier` has not acknowledged after `minutes`.
pub fn escalation_message(village_name: &str, grade: Grade, tier: Tier, names: &[String], minutes: i64) -> String {
    format!(
        "【山洪预警督办】{village_name}{}已发出 {minutes} 分钟，{}责任人 {} 尚未确认，请立即督促落实。",
        grade_warning(grade),
        tier.zh(),
        names.join("、")
    )
}

/// 督办 when every channel to a person failed.
pub fn unreachable_message(village_name: &str, grade: Grade, tier: Tier, names: &[String]) -> String {
    format!(
        "【山洪预警督办】{village_name}{}无法送达{}责任人 {}（所有渠道均失败），请立即设法联系。",
        grade_warning(grade),
        tier.zh(),
        names.join("、")
    )
}

/// To the duty officer when a public channel failed.
pub fn public_failed_message(village_name: &str, channel: Channel, error: &str) -> String {
    let error = if error.is_empty() { "原因未知" } else { error };
    format!("【山洪预警督办】{village_name}{}发布失败（{error}），请立即组织人工鸣锣、喊话。", channel_zh(channel))
}

/// To the duty officer when the public warning is due but the village has no public channel.
pub fn public_unavailable_message(village_name: &str) -> String {
    format!("【山洪预警督办】{village_name}无可用的预警广播或报警器，请立即组织人工鸣锣、喊话。")
}

/// The lift (解除) or withdrawal (撤销) to everyone told.
pub fn lift_message(village_name: &str, grade: Grade, kind: LiftKind, reason: &str) -> String {
    match kind {
        LiftKind::AllClear => format!("【山洪预警解除】{village_name}{}已解除：{reason}。", grade_warning(grade)),
        LiftKind::InError => {
            format!("【山洪预警撤销】{village_name}{}系误发，现予撤销：{reason}。", grade_warning(grade))
        }
    }
}

/// To the duty officer: the lift is due.
pub fn lift_proposal_message(village_name: &str, grade: Grade, quiet_minutes: u32) -> String {
    format!(
        "【解除建议】{village_name}各时段雨量已连续 {quiet_minutes} 分钟低于最低预警指标，建议解除{}。",
        grade_warning(grade)
    )
}

/// The reason of an automatic lift.
pub fn auto_lift_reason(quiet_minutes: u32) -> String {
    format!("各时段雨量已连续 {quiet_minutes} 分钟低于最低预警指标，系统自动解除")
}
