//! CAP's rules over a whole [`Alert`], each broken rule named by its element path.
//!
//! Paths use CAP's element names with 0-based indexes, e.g. `info[0].area[1].geocode[0].value`.
//! What a type already guarantees (times, rings, enumerations) is not checked again.

use std::fmt;

use crate::identifier::WarningId;
use crate::model::{Alert, Area, Info, MsgType, NamedValue, Reference, Resource, Scope, Status};
use crate::time::beijing;

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Where: the element path (`info[0].event`).
    pub path: String,
    /// What.
    pub rule: Rule,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.rule)
    }
}

/// The rules of CAP 1.2 (and of the GB/T 35965.1 profile) a document can break.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rule {
    /// A required text is empty or only whitespace.
    #[error("must not be empty")]
    Empty,
    /// `identifier`/`sender` hold a character CAP forbids there.
    #[error("must not contain {what} (found at character {at})")]
    Forbidden {
        /// The character's description.
        what: &'static str,
        /// Its position in characters.
        at: usize,
    },
    /// A character XML 1.0 cannot carry (control characters, U+FFFE, U+FFFF).
    #[error("character U+{code:04X} at {at} cannot be written in XML 1.0")]
    NotXml {
        /// The code point.
        code: u32,
        /// Its position in characters.
        at: usize,
    },
    /// An element required by another's value is absent.
    #[error("required because {because}")]
    Required {
        /// The reason (`scope is Private`).
        because: &'static str,
    },
    /// A list item (addresses, incidents) that cannot be written in CAP's space-separated form.
    #[error("item {item} `{value}` must be non-empty and contain no double quote")]
    Item {
        /// Which item.
        item: usize,
        /// Its text.
        value: String,
    },
    /// Not an RFC 3066 language tag (`zh-CN`).
    #[error("`{value}` is not a language tag such as zh-CN")]
    Language {
        /// The text.
        value: String,
    },
    /// Not an absolute URI.
    #[error("`{value}` is not {expected}")]
    Uri {
        /// The text.
        value: String,
        /// What it must be.
        expected: &'static str,
    },
    /// A digest that is not SHA-1 (40 hex digits), as CAP 1.2 computes it.
    #[error("`{value}` is not a SHA-1 digest (40 hex digits)")]
    Digest {
        /// The text.
        value: String,
    },
    /// `derefUri` holding something other than base64.
    #[error("is not base64 (character {at})")]
    Base64 {
        /// Position of the first bad character.
        at: usize,
    },
    /// A time that comes before one it must follow.
    #[error("{value} is before {other_path} {other}")]
    Order {
        /// This time.
        value: String,
        /// The other element's path.
        other_path: String,
        /// The other time.
        other: String,
    },
    /// `altitude`/`ceiling` not a finite number, or ceiling below altitude.
    #[error("{reason}")]
    Height {
        /// What is wrong.
        reason: &'static str,
    },
    /// An alert that must carry at least one `info`.
    #[error("an Actual {msg_type} must carry at least one info (GB/T 35965.1)")]
    NoInfo {
        /// Its msgType.
        msg_type: &'static str,
    },
    /// `category` absent (the XSD requires at least one).
    #[error("at least one category is required")]
    NoCategory,
    /// The identifier is not in GB/T 35965.1 form.
    #[error("{0}")]
    Identifier(String),
    /// A time not in Beijing time, as the GB/T 35965.1 profile writes every time.
    #[error("{value} is not in Beijing time (+08:00)")]
    NotBeijing {
        /// The time.
        value: String,
    },
}

/// Every broken rule of a document, in document order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Invalid(pub Vec<Violation>);

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the CAP document breaks {} rule(s): ", self.0.len())?;
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{v}")?;
        }
        Ok(())
    }
}

/// A character XML 1.0 can carry.
pub(crate) fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

struct Check {
    found: Vec<Violation>,
}

impl Check {
    fn push(&mut self, path: impl Into<String>, rule: Rule) {
        self.found.push(Violation { path: path.into(), rule });
    }

    /// Any text: only XML characters.
    fn text(&mut self, path: &str, value: &str) {
        if let Some((at, c)) = value.chars().enumerate().find(|&(_, c)| !is_xml_char(c)) {
            self.push(path, Rule::NotXml { code: c as u32, at });
        }
    }

    fn opt(&mut self, path: &str, value: &Option<String>) {
        if let Some(v) = value {
            self.text(path, v);
        }
    }

    /// A required text: XML characters and not blank.
    fn required(&mut self, path: &str, value: &str) {
        if value.trim().is_empty() {
            self.push(path, Rule::Empty);
        } else {
            self.text(path, value);
        }
    }

    /// `identifier` and `sender`: no whitespace, comma, `<` or `&` (CAP 1.2 §3.2.1).
    fn token(&mut self, path: &str, value: &str) {
        if value.is_empty() {
            return self.push(path, Rule::Empty);
        }
        let bad = value.chars().enumerate().find_map(|(at, c)| {
            let what = match c {
                c if c.is_whitespace() => "whitespace",
                ',' => "a comma",
                '<' => "`<`",
                '&' => "`&`",
                _ => return None,
            };
            Some(Rule::Forbidden { what, at })
        });
        match bad {
            Some(rule) => self.push(path, rule),
            None => self.text(path, value),
        }
    }

    fn list(&mut self, path: &str, items: &[String]) {
        for (item, value) in items.iter().enumerate() {
            if value.trim().is_empty() || value.contains('"') {
                self.push(path, Rule::Item { item, value: value.clone() });
            } else {
                self.text(path, value);
            }
        }
    }

    fn pairs(&mut self, path: &str, element: &str, pairs: &[NamedValue]) {
        for (i, p) in pairs.iter().enumerate() {
            self.required(&format!("{path}.{element}[{i}].valueName"), &p.value_name);
            self.required(&format!("{path}.{element}[{i}].value"), &p.value);
        }
    }

    fn reference(&mut self, path: &str, r: &Reference) {
        self.token(&format!("{path}.sender"), &r.sender);
        self.token(&format!("{path}.identifier"), &r.identifier);
    }

    fn info(&mut self, path: &str, info: &Info) {
        if let Some(lang) = &info.language {
            if !is_language(lang) {
                self.push(format!("{path}.language"), Rule::Language { value: lang.clone() });
            }
        }
        if info.categories.is_empty() {
            self.push(format!("{path}.category"), Rule::NoCategory);
        }
        self.required(&format!("{path}.event"), &info.event);
        self.opt(&format!("{path}.audience"), &info.audience);
        self.pairs(path, "eventCode", &info.event_codes);
        let expires = info.expires;
        for (name, t) in [("effective", info.effective), ("onset", info.onset)] {
            if let (Some(t), Some(e)) = (t, expires) {
                if e.utc() < t.utc() {
                    self.push(
                        format!("{path}.expires"),
                        Rule::Order {
                            value: e.to_string(),
                            other_path: format!("{path}.{name}"),
                            other: t.to_string(),
                        },
                    );
                }
            }
        }
        self.opt(&format!("{path}.senderName"), &info.sender_name);
        self.opt(&format!("{path}.headline"), &info.headline);
        self.opt(&format!("{path}.description"), &info.description);
        self.opt(&format!("{path}.instruction"), &info.instruction);
        if let Some(web) = &info.web {
            if !is_absolute_uri(web) {
                self.push(format!("{path}.web"), Rule::Uri { value: web.clone(), expected: "a full absolute URI" });
            }
        }
        self.opt(&format!("{path}.contact"), &info.contact);
        self.pairs(path, "parameter", &info.parameters);
        for (i, r) in info.resources.iter().enumerate() {
            self.resource(&format!("{path}.resource[{i}]"), r);
        }
        for (i, a) in info.areas.iter().enumerate() {
            self.area(&format!("{path}.area[{i}]"), a);
        }
    }

    fn resource(&mut self, path: &str, r: &Resource) {
        self.required(&format!("{path}.resourceDesc"), &r.resource_desc);
        self.required(&format!("{path}.mimeType"), &r.mime_type);
        if let Some(uri) = &r.uri {
            if uri.is_empty() || uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
                self.push(format!("{path}.uri"), Rule::Uri { value: uri.clone(), expected: "a URI without spaces" });
            }
        }
        if let Some(data) = &r.deref_uri {
            let bad =
                data.chars().position(|c| !(c.is_ascii_alphanumeric() || "+/=".contains(c) || c.is_ascii_whitespace()));
            if let Some(at) = bad {
                self.push(format!("{path}.derefUri"), Rule::Base64 { at });
            }
        }
        if let Some(d) = &r.digest {
            if d.len() != 40 || !d.bytes().all(|c| c.is_ascii_hexdigit()) {
                self.push(format!("{path}.digest"), Rule::Digest { value: d.clone() });
            }
        }
    }

    fn area(&mut self, path: &str, a: &Area) {
        self.required(&format!("{path}.areaDesc"), &a.area_desc);
        self.pairs(path, "geocode", &a.geocodes);
        if let Some(alt) = a.altitude {
            if !alt.is_finite() {
                self.push(format!("{path}.altitude"), Rule::Height { reason: "must be a finite number (feet)" });
            }
        }
        if let Some(ceiling) = a.ceiling {
            match a.altitude {
                None => self
                    .push(format!("{path}.ceiling"), Rule::Required { because: "ceiling is only used with altitude" }),
                Some(_) if !ceiling.is_finite() => {
                    self.push(format!("{path}.ceiling"), Rule::Height { reason: "must be a finite number (feet)" })
                }
                Some(alt) if ceiling < alt => {
                    self.push(format!("{path}.ceiling"), Rule::Height { reason: "must not be below altitude" })
                }
                Some(_) => {}
            }
        }
    }
}

/// `[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*`, XML Schema's `language`.
pub(crate) fn is_language(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let first_ok =
        parts.next().is_some_and(|p| (1..=8).contains(&p.len()) && p.bytes().all(|c| c.is_ascii_alphabetic()));
    first_ok && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|c| c.is_ascii_alphanumeric()))
}

/// `scheme:rest`, with no whitespace or control characters.
fn is_absolute_uri(uri: &str) -> bool {
    let Some((scheme, rest)) = uri.split_once(':') else {
        return false;
    };
    let scheme_ok = scheme.bytes().next().is_some_and(|c| c.is_ascii_alphabetic())
        && scheme.bytes().all(|c| c.is_ascii_alphanumeric() || b"+-.".contains(&c));
    scheme_ok
        && !rest.is_empty()
        && !uri.chars().any(|c| c.is_whitespace() || c.is_control() || "<>\"{}|\\^`".contains(c))
}

impl Alert {
    /// Checks CAP 1.2's rules over the whole document and returns every broken one.
    ///
    /// Beyond the XSD: `identifier`/`sender` (and those in `references`) hold no whitespace,
    /// comma, `<` or `&`; Private scope needs `addresses`; Restricted needs `restriction`;
    /// Update, Cancel, Ack and Error need `references`; an Actual Alert or Update carries at
    /// least one `info` (GB/T 35965.1); `expires` is not before `effective` or `onset`;
    /// `ceiling` only with `altitude` and not below it; texts hold only XML characters.
    pub fn validate(&self) -> Result<(), Invalid> {
        let mut c = Check { found: Vec::new() };
        c.token("identifier", &self.identifier);
        c.token("sender", &self.sender);
        c.opt("source", &self.source);
        match &self.restriction {
            Some(r) => c.required("restriction", r),
            None if self.scope == Scope::Restricted => {
                c.push("restriction", Rule::Required { because: "scope is Restricted" })
            }
            None => {}
        }
        if self.scope == Scope::Private && self.addresses.is_empty() {
            c.push("addresses", Rule::Required { because: "scope is Private" });
        }
        c.list("addresses", &self.addresses);
        for (i, code) in self.codes.iter().enumerate() {
            c.required(&format!("code[{i}]"), code);
        }
        c.opt("note", &self.note);
        let needs_refs = match self.msg_type {
            MsgType::Update => Some("msgType is Update"),
            MsgType::Cancel => Some("msgType is Cancel"),
            MsgType::Ack => Some("msgType is Ack"),
            MsgType::Error => Some("msgType is Error"),
            MsgType::Alert => None,
        };
        if let (Some(because), true) = (needs_refs, self.references.is_empty()) {
            c.push("references", Rule::Required { because });
        }
        for (i, r) in self.references.iter().enumerate() {
            c.reference(&format!("references[{i}]"), r);
        }
        c.list("incidents", &self.incidents);
        if self.status == Status::Actual
            && matches!(self.msg_type, MsgType::Alert | MsgType::Update)
            && self.infos.is_empty()
        {
            c.push("info", Rule::NoInfo { msg_type: self.msg_type.as_str() });
        }
        for (i, info) in self.infos.iter().enumerate() {
            c.info(&format!("info[{i}]"), info);
        }
        if c.found.is_empty() {
            Ok(())
        } else {
            Err(Invalid(c.found))
        }
    }

    /// [`validate`](Self::validate) and the GB/T 35965.1 profile: the identifier in
    /// [`WarningId`] form and every time (`sent`, references, info times) in Beijing time.
    pub fn validate_gb35965(&self) -> Result<(), Invalid> {
        let mut found = match self.validate() {
            Ok(()) => Vec::new(),
            Err(Invalid(v)) => v,
        };
        if let Err(e) = self.identifier.parse::<WarningId>() {
            found.push(Violation { path: "identifier".into(), rule: Rule::Identifier(e.to_string()) });
        }
        let mut times = vec![("sent".to_owned(), self.sent)];
        times.extend(self.references.iter().enumerate().map(|(i, r)| (format!("references[{i}].sent"), r.sent)));
        for (i, info) in self.infos.iter().enumerate() {
            for (name, t) in [("effective", info.effective), ("onset", info.onset), ("expires", info.expires)] {
                if let Some(t) = t {
                    times.push((format!("info[{i}].{name}"), t));
                }
            }
        }
        for (path, t) in times {
            if t.offset() != beijing() {
                found.push(Violation { path, rule: Rule::NotBeijing { value: t.to_string() } });
            }
        }
        if found.is_empty() {
            Ok(())
        } else {
            Err(Invalid(found))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_and_uri_forms() {
        assert!(is_language("zh-CN") && is_language("en") && is_language("zh-Hans-CN"));
        assert!(!is_language("") && !is_language("zh_CN") && !is_language("toolonglang") && !is_language("zh-"));
        assert!(is_absolute_uri("https://example.org/cap/alerts/1.xml") && is_absolute_uri("urn:oid:2.49.0"));
        assert!(
            !is_absolute_uri("/cap/alerts/1.xml") && !is_absolute_uri("https://a b") && !is_absolute_uri("1http:x")
        );
    }
}
