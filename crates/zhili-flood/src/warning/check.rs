//! The checks an event's fields pass before the machine takes it: every error names the field
//! by its path (`recipients[1].channels[0]`, `trigger.value_mm`, `reason`).

use zhili_core::codes::DivisionLevel;

use super::{Actor, EventKind, Raise, Recipient, Trigger, WarningError};
use crate::vocab::Channel;

/// Check a channel list: all public (or all personal), no repeats.
pub(super) fn channels(
    list: &[Channel],
    public: bool,
    invalid: impl Fn(usize, String) -> WarningError,
) -> Result<(), WarningError> {
    for (i, c) in list.iter().enumerate() {
        if c.public() != public {
            let want =
                if public { "a public channel (broadcast, siren)" } else { "a personal channel (in_app, sms, voice)" };
            return Err(invalid(i, format!("must be {want}, got {}", c.as_str())));
        }
        if let Some(j) = list[..i].iter().position(|d| d == c) {
            return Err(invalid(i, format!("repeats {} (already at position {j})", c.as_str())));
        }
    }
    Ok(())
}

/// The longest text a field takes (characters); longer is an error, not a truncation.
pub const MAX_TEXT_CHARS: usize = 2000;

pub(super) fn required(event: EventKind, field: &str, value: &str) -> Result<String, WarningError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(WarningError::MissingField { event, field: field.to_owned() });
    }
    bounded(event, field, v)
}

pub(super) fn bounded(event: EventKind, field: &str, value: &str) -> Result<String, WarningError> {
    let v = value.trim();
    let n = v.chars().count();
    if n > MAX_TEXT_CHARS {
        return Err(WarningError::InvalidField {
            event,
            field: field.to_owned(),
            message: format!("is at most {MAX_TEXT_CHARS} characters, got {n}"),
        });
    }
    Ok(v.to_owned())
}

pub(super) fn actor(event: EventKind, field: &str, a: &Actor) -> Result<Actor, WarningError> {
    Ok(Actor {
        id: required(event, &format!("{field}.id"), &a.id)?,
        name: bounded(event, &format!("{field}.name"), &a.name)?,
    })
}

/// The largest magnitude a trigger's value may have (mm, m or m/h): beyond any real gauge.
pub const MAX_TRIGGER_VALUE: f64 = 10_000.0;

/// A trigger's values are kept to 0.001 (below any gauge's resolution), so that they survive a
/// JSON round trip unchanged and messages never show float noise.
fn thousandths(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// Check a trigger and return it with its texts trimmed and its values to 0.001.
pub(super) fn trigger(event: EventKind, t: &Trigger) -> Result<Trigger, WarningError> {
    let invalid =
        |field: &str, message: String| WarningError::InvalidField { event, field: format!("trigger.{field}"), message };
    // Rain and rates are 0 or more, thresholds of them above 0; levels are elevations and may
    // be below 0 on some datums.
    #[derive(Clone, Copy)]
    enum Rule {
        AboveZero,
        NotNegative,
        AnySign,
    }
    let value = |field: &str, v: f64, rule: Rule| -> Result<f64, WarningError> {
        let (ok, says) = match rule {
            Rule::AboveZero => (v > 0.0, "above 0"),
            Rule::NotNegative => (v >= 0.0, "0 or more"),
            Rule::AnySign => (true, "of any sign"),
        };
        if ok && v.is_finite() && v.abs() < MAX_TRIGGER_VALUE {
            Ok(thousandths(v))
        } else {
            Err(invalid(
                field,
                format!("must be a finite number {says}, less than {MAX_TRIGGER_VALUE} in size, got {v}"),
            ))
        }
    };
    let section = |code: &str, name: &str| -> Result<(String, String), WarningError> {
        let code = required(event, "trigger.section", code)?;
        let name = bounded(event, "trigger.section_name", name)?;
        let name = if name.is_empty() { code.clone() } else { name };
        Ok((code, name))
    };
    Ok(match t {
        Trigger::Rain { window, value_mm, threshold_mm, station, soil } => Trigger::Rain {
            window: *window,
            value_mm: value("value_mm", *value_mm, Rule::NotNegative)?,
            threshold_mm: value("threshold_mm", *threshold_mm, Rule::AboveZero)?,
            station: station.clone(),
            soil: *soil,
        },
        Trigger::Level { section: code, section_name, value_m, threshold_m } => {
            let (value_m, threshold_m) =
                (value("value_m", *value_m, Rule::AnySign)?, value("threshold_m", *threshold_m, Rule::AnySign)?);
            let (section, section_name) = section(code, section_name)?;
            Trigger::Level { section, section_name, value_m, threshold_m }
        }
        Trigger::Rise { section: code, section_name, value_m_per_h, threshold_m_per_h } => {
            let value_m_per_h = value("value_m_per_h", *value_m_per_h, Rule::NotNegative)?;
            let threshold_m_per_h = value("threshold_m_per_h", *threshold_m_per_h, Rule::AboveZero)?;
            let (section, section_name) = section(code, section_name)?;
            Trigger::Rise { section, section_name, value_m_per_h, threshold_m_per_h }
        }
        Trigger::Manual { by, note } => {
            Trigger::Manual { by: actor(event, "trigger.by", by)?, note: bounded(event, "trigger.note", note)? }
        }
    })
}

/// Check a raise and return it normalised (texts trimmed).
pub(super) fn raise(event: EventKind, r: &Raise) -> Result<Raise, WarningError> {
    let invalid = |field: String, message: String| WarningError::InvalidField { event, field, message };
    if r.village.level() != DivisionLevel::Village {
        return Err(invalid(
            "village".into(),
            format!("must be a 12-digit village code, got {} ({} digits)", r.village, r.village.as_str().len()),
        ));
    }
    let village_name = required(event, "village_name", &r.village_name)?;
    let trigger = trigger(event, &r.trigger)?;
    if r.recipients.is_empty() {
        return Err(WarningError::MissingField { event, field: "recipients".into() });
    }
    let mut recipients: Vec<Recipient> = Vec::with_capacity(r.recipients.len());
    for (i, p) in r.recipients.iter().enumerate() {
        let id = required(event, &format!("recipients[{i}].id"), &p.id)?;
        if let Some(j) = recipients.iter().position(|q| q.id == id) {
            return Err(invalid(format!("recipients[{i}].id"), format!("repeats {id:?} (already recipients[{j}])")));
        }
        let name = required(event, &format!("recipients[{i}].name"), &p.name)?;
        if p.channels.is_empty() {
            return Err(WarningError::MissingField { event, field: format!("recipients[{i}].channels") });
        }
        channels(&p.channels, false, |k, m| invalid(format!("recipients[{i}].channels[{k}]"), m))?;
        recipients.push(Recipient { id, name, tier: p.tier, channels: p.channels.clone() });
    }
    channels(&r.public_channels, true, |k, m| invalid(format!("public_channels[{k}]"), m))?;
    Ok(Raise {
        village: r.village.clone(),
        village_name,
        grade: r.grade,
        trigger,
        recipients,
        public_channels: r.public_channels.clone(),
    })
}
