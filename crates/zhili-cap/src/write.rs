//! The XML writer: CAP 1.2 in its namespace, elements in the XSD's sequence, text escaped.
//!
//! Hand-written (the schema is small and fixed): two-space indentation, UTF-8, `&`, `<`, `>`
//! escaped in text (and `"` in attributes), carriage returns as `&#13;` so that they survive a
//! parser's line-end normalisation. [`Alert::to_xml`] validates first, so what leaves is valid.

use crate::model::{Alert, Area, Info, NamedValue, Resource};
use crate::validate::Invalid;

/// CAP 1.2's XML namespace.
pub const CAP_NAMESPACE: &str = "urn:oasis:names:tc:emergency:cap:1.2";

/// CAP's MIME type (RFC 7303 style, as aggregators expect in a feed's link).
pub const CAP_MIME_TYPE: &str = "application/cap+xml";

/// Appends `text` escaped for element content.
pub(crate) fn escape_text(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

/// Appends `text` escaped for a double-quoted attribute value.
pub(crate) fn escape_attr(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\r' => out.push_str("&#13;"),
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
}

/// An indenting element writer.
pub(crate) struct Out {
    pub(crate) s: String,
    depth: usize,
}

impl Out {
    pub(crate) fn new() -> Self {
        Out { s: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"), depth: 0 }
    }

    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.s.push_str("  ");
        }
    }

    /// `<name attr="v"…>` on its own line.
    pub(crate) fn open(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.indent();
        self.s.push('<');
        self.s.push_str(name);
        self.attrs(attrs);
        self.s.push_str(">\n");
        self.depth += 1;
    }

    fn attrs(&mut self, attrs: &[(&str, &str)]) {
        for (k, v) in attrs {
            self.s.push(' ');
            self.s.push_str(k);
            self.s.push_str("=\"");
            escape_attr(&mut self.s, v);
            self.s.push('"');
        }
    }

    /// `</name>`.
    pub(crate) fn close(&mut self, name: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.indent();
        self.s.push_str("</");
        self.s.push_str(name);
        self.s.push_str(">\n");
    }

    /// `<name>text</name>`.
    pub(crate) fn leaf(&mut self, name: &str, text: &str) {
        self.indent();
        self.s.push('<');
        self.s.push_str(name);
        self.s.push('>');
        escape_text(&mut self.s, text);
        self.s.push_str("</");
        self.s.push_str(name);
        self.s.push_str(">\n");
    }

    /// `<name attr="v"…/>`.
    pub(crate) fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.indent();
        self.s.push('<');
        self.s.push_str(name);
        self.attrs(attrs);
        self.s.push_str("/>\n");
    }

    fn opt(&mut self, name: &str, text: &Option<String>) {
        if let Some(t) = text {
            self.leaf(name, t);
        }
    }

    fn pairs(&mut self, name: &str, pairs: &[NamedValue]) {
        for p in pairs {
            self.open(name, &[]);
            self.leaf("valueName", &p.value_name);
            self.leaf("value", &p.value);
            self.close(name);
        }
    }
}

/// CAP's space-separated list, items holding whitespace in double quotes.
pub(crate) fn join_list(items: &[String]) -> String {
    let quoted: Vec<String> =
        items.iter().map(|i| if i.chars().any(char::is_whitespace) { format!("\"{i}\"") } else { i.clone() }).collect();
    quoted.join(" ")
}

impl Alert {
    /// The document as CAP 1.2 XML (UTF-8, namespace [`CAP_NAMESPACE`]), after
    /// [`validate`](Self::validate): an invalid alert is refused with every broken rule.
    pub fn to_xml(&self) -> Result<String, Invalid> {
        self.validate()?;
        let mut o = Out::new();
        o.open("alert", &[("xmlns", CAP_NAMESPACE)]);
        o.leaf("identifier", &self.identifier);
        o.leaf("sender", &self.sender);
        o.leaf("sent", &self.sent.to_string());
        o.leaf("status", self.status.as_str());
        o.leaf("msgType", self.msg_type.as_str());
        o.opt("source", &self.source);
        o.leaf("scope", self.scope.as_str());
        o.opt("restriction", &self.restriction);
        if !self.addresses.is_empty() {
            o.leaf("addresses", &join_list(&self.addresses));
        }
        for code in &self.codes {
            o.leaf("code", code);
        }
        o.opt("note", &self.note);
        if !self.references.is_empty() {
            let refs: Vec<String> = self.references.iter().map(|r| r.to_string()).collect();
            o.leaf("references", &refs.join(" "));
        }
        if !self.incidents.is_empty() {
            o.leaf("incidents", &join_list(&self.incidents));
        }
        for info in &self.infos {
            write_info(&mut o, info);
        }
        o.close("alert");
        Ok(o.s)
    }
}

fn write_info(o: &mut Out, info: &Info) {
    o.open("info", &[]);
    o.opt("language", &info.language);
    for c in &info.categories {
        o.leaf("category", c.as_str());
    }
    o.leaf("event", &info.event);
    for r in &info.response_types {
        o.leaf("responseType", r.as_str());
    }
    o.leaf("urgency", info.urgency.as_str());
    o.leaf("severity", info.severity.as_str());
    o.leaf("certainty", info.certainty.as_str());
    o.opt("audience", &info.audience);
    o.pairs("eventCode", &info.event_codes);
    for (name, t) in [("effective", info.effective), ("onset", info.onset), ("expires", info.expires)] {
        if let Some(t) = t {
            o.leaf(name, &t.to_string());
        }
    }
    o.opt("senderName", &info.sender_name);
    o.opt("headline", &info.headline);
    o.opt("description", &info.description);
    o.opt("instruction", &info.instruction);
    o.opt("web", &info.web);
    o.opt("contact", &info.contact);
    o.pairs("parameter", &info.parameters);
    for r in &info.resources {
        write_resource(o, r);
    }
    for a in &info.areas {
        write_area(o, a);
    }
    o.close("info");
}

fn write_resource(o: &mut Out, r: &Resource) {
    o.open("resource", &[]);
    o.leaf("resourceDesc", &r.resource_desc);
    o.leaf("mimeType", &r.mime_type);
    if let Some(size) = r.size {
        o.leaf("size", &size.to_string());
    }
    o.opt("uri", &r.uri);
    o.opt("derefUri", &r.deref_uri);
    o.opt("digest", &r.digest);
    o.close("resource");
}

fn write_area(o: &mut Out, a: &Area) {
    o.open("area", &[]);
    o.leaf("areaDesc", &a.area_desc);
    for p in &a.polygons {
        o.leaf("polygon", &p.to_string());
    }
    for c in &a.circles {
        o.leaf("circle", &c.to_string());
    }
    o.pairs("geocode", &a.geocodes);
    if let Some(alt) = a.altitude {
        o.leaf("altitude", &alt.to_string());
    }
    if let Some(ceiling) = a.ceiling {
        o.leaf("ceiling", &ceiling.to_string());
    }
    o.close("area");
}
