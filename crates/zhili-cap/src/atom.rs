//! The Atom 1.0 feed of alerts (RFC 4287), served as `/cap/alerts.atom`.
//!
//! CAP aggregators (Google Public Alerts, the WMO register of alerting authorities) poll a feed
//! whose entries each link to one alert's XML with `type="application/cap+xml"`. The feed
//! carries what RFC 4287 requires — `id`, `title`, `updated`, an `author`, and a
//! `link rel="self"` — and each entry its `id`, `title`, `updated`, a `summary` and the
//! `link rel="alternate"` to the CAP document (an entry without `content` needs one).

use crate::model::Alert;
use crate::time::CapTime;
use crate::validate::{is_xml_char, Invalid, Rule, Violation};
use crate::write::{Out, CAP_MIME_TYPE};

/// Atom's XML namespace.
pub const ATOM_NAMESPACE: &str = "http://www.w3.org/2005/Atom";

/// The Atom feed's MIME type.
pub const ATOM_MIME_TYPE: &str = "application/atom+xml";

/// A feed of alerts.
#[derive(Debug, Clone, PartialEq)]
pub struct Feed {
    /// A permanent, absolute IRI for the feed (its URL will do).
    pub id: String,
    /// The feed's title (博山区山洪灾害预警).
    pub title: String,
    /// When the feed last changed: the latest entry's `updated`, or its creation.
    pub updated: CapTime,
    /// The feed's own absolute URL (`link rel="self"`).
    pub self_link: String,
    /// The publishing authority's name (`author/name`).
    pub author: String,
    /// The feed's language (`xml:lang`, e.g. `zh-CN`), optional.
    pub language: Option<String>,
    /// The entries, newest first by convention.
    pub entries: Vec<Entry>,
}

/// One alert in the feed.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// A permanent, absolute IRI for the entry.
    pub id: String,
    /// Its title.
    pub title: String,
    /// When the alert was last sent.
    pub updated: CapTime,
    /// A short summary, optional.
    pub summary: Option<String>,
    /// The absolute URL of the alert's CAP XML.
    pub alert_link: String,
}

impl Entry {
    /// The entry of `alert` whose XML is at `alert_url`: the URL is also its id; the title is
    /// the first info's headline (else its event, else `msgType identifier`); the summary its
    /// description (else its headline); updated is `sent`.
    pub fn for_alert(alert: &Alert, alert_url: impl Into<String>) -> Entry {
        let url = alert_url.into();
        let info = alert.infos.first();
        let title = info
            .and_then(|i| i.headline.clone())
            .or_else(|| info.map(|i| i.event.clone()))
            .unwrap_or_else(|| format!("{} {}", alert.msg_type, alert.identifier));
        let summary = info.and_then(|i| i.description.clone().or_else(|| i.headline.clone()));
        Entry { id: url.clone(), title, updated: alert.sent, summary, alert_link: url }
    }
}

fn check_text(found: &mut Vec<Violation>, path: &str, value: &str, required: bool) {
    if required && value.trim().is_empty() {
        found.push(Violation { path: path.to_owned(), rule: Rule::Empty });
    } else if let Some((at, c)) = value.chars().enumerate().find(|&(_, c)| !is_xml_char(c)) {
        found.push(Violation { path: path.to_owned(), rule: Rule::NotXml { code: c as u32, at } });
    }
}

fn check_iri(found: &mut Vec<Violation>, path: &str, value: &str) {
    let scheme = value.split_once(':').map(|(s, _)| s).unwrap_or("");
    let ok = scheme.bytes().next().is_some_and(|c| c.is_ascii_alphabetic())
        && scheme.bytes().all(|c| c.is_ascii_alphanumeric() || b"+-.".contains(&c))
        && value.len() > scheme.len() + 1
        && !value.chars().any(|c| c.is_whitespace() || c.is_control());
    if !ok {
        found.push(Violation {
            path: path.to_owned(),
            rule: Rule::Uri { value: value.to_owned(), expected: "an absolute IRI" },
        });
    }
}

impl Feed {
    /// Checks what RFC 4287 requires of the feed and its entries.
    pub fn validate(&self) -> Result<(), Invalid> {
        let mut found = Vec::new();
        check_iri(&mut found, "feed.id", &self.id);
        check_text(&mut found, "feed.title", &self.title, true);
        check_iri(&mut found, "feed.link[self]", &self.self_link);
        check_text(&mut found, "feed.author.name", &self.author, true);
        if let Some(lang) = &self.language {
            if lang.is_empty()
                || !lang.split('-').all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|c| c.is_ascii_alphanumeric()))
            {
                found.push(Violation { path: "feed.xml:lang".into(), rule: Rule::Language { value: lang.clone() } });
            }
        }
        for (i, e) in self.entries.iter().enumerate() {
            check_iri(&mut found, &format!("entry[{i}].id"), &e.id);
            check_text(&mut found, &format!("entry[{i}].title"), &e.title, true);
            if let Some(s) = &e.summary {
                check_text(&mut found, &format!("entry[{i}].summary"), s, false);
            }
            check_iri(&mut found, &format!("entry[{i}].link[alternate]"), &e.alert_link);
        }
        if found.is_empty() {
            Ok(())
        } else {
            Err(Invalid(found))
        }
    }

    /// The feed as Atom 1.0 XML, after [`validate`](Self::validate).
    pub fn to_xml(&self) -> Result<String, Invalid> {
        self.validate()?;
        let mut o = Out::new();
        let mut attrs = vec![("xmlns", ATOM_NAMESPACE)];
        if let Some(lang) = &self.language {
            attrs.push(("xml:lang", lang));
        }
        o.open("feed", &attrs);
        o.leaf("id", &self.id);
        o.leaf("title", &self.title);
        o.leaf("updated", &self.updated.to_rfc3339());
        o.empty("link", &[("rel", "self"), ("type", ATOM_MIME_TYPE), ("href", &self.self_link)]);
        o.open("author", &[]);
        o.leaf("name", &self.author);
        o.close("author");
        for e in &self.entries {
            o.open("entry", &[]);
            o.leaf("id", &e.id);
            o.leaf("title", &e.title);
            o.leaf("updated", &e.updated.to_rfc3339());
            if let Some(s) = &e.summary {
                o.leaf("summary", s);
            }
            o.empty("link", &[("rel", "alternate"), ("type", CAP_MIME_TYPE), ("href", &e.alert_link)]);
            o.close("entry");
        }
        o.close("feed");
        Ok(o.s)
    }
}
