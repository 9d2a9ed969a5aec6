//! The XML reader: CAP 1.2 documents from other agencies (and our own, for round trips).
//!
//! Two steps: quick-xml's namespace-aware pull parser builds a small tree with each element's
//! byte offset; the tree is then read against the XSD's sequences, so an unknown, misplaced or
//! missing element, a value outside an enumeration or a time without offset is an [`XmlError`]
//! with the line and column of the element at fault. Accepted besides CAP: comments,
//! processing instructions, `xsi:` attributes, and XML signatures (`ds:Signature`, namespace
//! `http://www.w3.org/2000/09/xmldsig#`) at the end of `alert`, which are skipped unchecked.
//! DTDs are refused; only the five predefined entities and character references are known.
//! The document's rules beyond the XSD are [`Alert::validate`]'s, which this does not call.

use std::fmt;
use std::str::FromStr;

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

use crate::geo::{decimal, Circle, Polygon};
use crate::model::{
    Alert, Area, Category, Certainty, Info, MsgType, NamedValue, Reference, Resource, ResponseType, Scope, Severity,
    Status, Urgency,
};
use crate::time::CapTime;
use crate::validate::{is_language, is_xml_char};
use crate::write::CAP_NAMESPACE;

/// XML Signature's namespace, allowed (and skipped) at the end of `alert`.
pub const XMLDSIG_NAMESPACE: &str = "http://www.w3.org/2000/09/xmldsig#";
const XSI_NAMESPACE: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// Deepest nesting read (CAP needs 5: alert, info, area, geocode, value; signatures more).
pub const MAX_DEPTH: usize = 32;

/// Why a document could not be read, and where (1-based line and column, in characters).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {kind}")]
pub struct XmlError {
    /// Line, from 1.
    pub line: usize,
    /// Column in characters, from 1.
    pub column: usize,
    /// What is wrong.
    pub kind: XmlErrorKind,
}

/// What is wrong with a document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlErrorKind {
    /// Not well-formed XML (quick-xml's description).
    #[error("not well-formed XML: {0}")]
    Malformed(String),
    /// A document type declaration.
    #[error("a DTD (<!DOCTYPE>) is not allowed")]
    Dtd,
    /// An entity other than the five predefined ones.
    #[error("unknown entity &{0};")]
    Entity(String),
    /// A character reference to a character XML 1.0 cannot carry.
    #[error("character reference &{0}; is not an XML 1.0 character")]
    CharRef(String),
    /// Nesting deeper than [`MAX_DEPTH`].
    #[error("elements nested deeper than {MAX_DEPTH}")]
    TooDeep,
    /// No root element.
    #[error("the document has no root element")]
    NoRoot,
    /// Something other than whitespace, comments or PIs after the root element.
    #[error("content after the root element")]
    AfterRoot,
    /// The root is not CAP 1.2's `alert`.
    #[error("the root element is {found}, expected alert in namespace {CAP_NAMESPACE}")]
    Root {
        /// The root's name, `{namespace}local`.
        found: String,
    },
    /// An element outside CAP's namespace where a CAP element must be.
    #[error("element {found} is not in the CAP 1.2 namespace {CAP_NAMESPACE}")]
    Namespace {
        /// `{namespace}local`.
        found: String,
    },
    /// An element where another was expected (unknown, misplaced or repeated).
    #[error("unexpected <{found}> in <{parent}>, expected {}", expected_list(.expected))]
    Unexpected {
        /// The element found.
        found: String,
        /// Its parent.
        parent: &'static str,
        /// What may come there, in order.
        expected: Vec<&'static str>,
    },
    /// The parent ends where a required element must come.
    #[error("<{parent}> ends without {}", expected_list(.expected))]
    Missing {
        /// The parent.
        parent: &'static str,
        /// What must come (the first of it is required).
        expected: Vec<&'static str>,
    },
    /// An attribute CAP does not define.
    #[error("<{element}> has attribute {name}, which CAP does not define")]
    Attribute {
        /// The element.
        element: String,
        /// The attribute's name.
        name: String,
    },
    /// Text inside an element that holds only elements.
    #[error("<{element}> holds text; it holds only elements")]
    Text {
        /// The element.
        element: &'static str,
    },
    /// An element inside an element that holds only text.
    #[error("<{element}> holds an element; it holds only text")]
    Child {
        /// The element.
        element: &'static str,
    },
    /// A value not of its element's type.
    #[error("<{element}> value `{value}`: {reason}")]
    Value {
        /// The element.
        element: &'static str,
        /// The text.
        value: String,
        /// Why it is not valid.
        reason: String,
    },
}

fn expected_list(names: &[&'static str]) -> String {
    match names {
        [] => "nothing more".to_owned(),
        [one] => format!("<{one}>"),
        _ => format!("one of {}", names.iter().map(|n| format!("<{n}>")).collect::<Vec<_>>().join(", ")),
    }
}

/// One element of the tree.
struct Node {
    ns: Option<String>,
    name: String,
    at: usize,
    text: String,
    /// Offset of the first non-whitespace text, if any.
    text_at: Option<usize>,
    children: Vec<Node>,
}

impl Node {
    fn qualified(&self) -> String {
        match &self.ns {
            Some(ns) => format!("{{{ns}}}{}", self.name),
            None => self.name.clone(),
        }
    }
}

/// Positions to lines and columns.
struct Source<'a> {
    text: &'a str,
}

impl Source<'_> {
    fn error(&self, at: usize, kind: XmlErrorKind) -> XmlError {
        let at = at.min(self.text.len());
        let at = (0..=at).rev().find(|&i| self.text.is_char_boundary(i)).unwrap_or(0);
        let before = &self.text[..at];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        XmlError { line, column, kind }
    }
}

fn namespace_of(r: ResolveResult<'_>) -> Option<String> {
    match r {
        ResolveResult::Bound(ns) => Some(ns.into_inner().to_owned()),
        _ => None,
    }
}

/// Pass 1: the element tree of `text`.
fn tree(src: &Source<'_>) -> Result<Node, XmlError> {
    let mut reader = NsReader::from_str(src.text);
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    loop {
        let at = reader.buffer_position() as usize;
        let event = match reader.read_resolved_event() {
            Ok((ns, event)) => (namespace_of(ns), event),
            Err(e) => {
                return Err(src.error(reader.error_position() as usize, XmlErrorKind::Malformed(e.to_string())));
            }
        };
        match event {
            (ns, Event::Start(e)) => {
                let node = open(src, &reader, ns, &e, at, stack.len(), root.is_some())?;
                stack.push(node);
            }
            (ns, Event::Empty(e)) => {
                let node = open(src, &reader, ns, &e, at, stack.len(), root.is_some())?;
                close(node, &mut stack, &mut root);
            }
            (_, Event::End(_)) => {
                if let Some(node) = stack.pop() {
                    close(node, &mut stack, &mut root);
                }
            }
            (_, Event::Text(t)) => {
                let content = t.xml10_content();
                add_text(src, &mut stack, &content, at)?;
            }
            (_, Event::CData(t)) => {
                let content = t.xml10_content();
                add_text(src, &mut stack, &content, at)?;
            }
            (_, Event::GeneralRef(r)) => {
                let name = r.xml10_content().into_owned();
                let c = match r.resolve_char_ref() {
                    Ok(Some(c)) if is_xml_char(c) => c,
                    Ok(Some(_)) | Err(_) => return Err(src.error(at, XmlErrorKind::CharRef(name))),
                    Ok(None) => match name.as_str() {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "apos" => '\'',
                        "quot" => '"',
                        _ => return Err(src.error(at, XmlErrorKind::Entity(name))),
                    },
                };
                add_text(src, &mut stack, c.encode_utf8(&mut [0; 4]), at)?;
            }
            (_, Event::DocType(_)) => return Err(src.error(at, XmlErrorKind::Dtd)),
            (_, Event::Decl(_) | Event::PI(_) | Event::Comment(_)) => {}
            (_, Event::Eof) => break,
        }
    }
    if let Some(open) = stack.last() {
        return Err(src.error(src.text.len(), XmlErrorKind::Malformed(format!("<{}> is not closed", open.name))));
    }
    root.ok_or_else(|| src.error(src.text.len(), XmlErrorKind::NoRoot))
}

fn open<R>(
    src: &Source<'_>,
    reader: &NsReader<R>,
    ns: Option<String>,
    e: &BytesStart<'_>,
    at: usize,
    depth: usize,
    after_root: bool,
) -> Result<Node, XmlError> {
    if depth == 0 && after_root {
        return Err(src.error(at, XmlErrorKind::AfterRoot));
    }
    if depth >= MAX_DEPTH {
        return Err(src.error(at, XmlErrorKind::TooDeep));
    }
    let name = e.local_name().into_inner().to_owned();
    for attr in e.attributes() {
        let attr = attr.map_err(|err| src.error(at, XmlErrorKind::Malformed(err.to_string())))?;
        let key = attr.key;
        let raw = key.into_inner();
        if raw == "xmlns" || raw.starts_with("xmlns:") {
            continue;
        }
        let (attr_ns, _) = reader.resolver().resolve_attribute(key);
        let in_xsi = matches!(&attr_ns, ResolveResult::Bound(n) if n.into_inner() == XSI_NAMESPACE);
        // Attributes inside a signature are the signature's business.
        let in_dsig = ns.as_deref() == Some(XMLDSIG_NAMESPACE);
        if !(in_xsi || in_dsig) {
            return Err(src.error(at, XmlErrorKind::Attribute { element: name, name: raw.to_owned() }));
        }
    }
    Ok(Node { ns, name, at, text: String::new(), text_at: None, children: Vec::new() })
}

fn close(node: Node, stack: &mut [Node], root: &mut Option<Node>) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(node),
        None => *root = Some(node),
    }
}

fn add_text(src: &Source<'_>, stack: &mut [Node], text: &str, at: usize) -> Result<(), XmlError> {
    let blank = text.chars().all(|c| matches!(c, ' ' | '\t' | '\n' | '\r'));
    match stack.last_mut() {
        Some(node) => {
            if !blank && node.text_at.is_none() {
                node.text_at = Some(at);
            }
            node.text.push_str(text);
            Ok(())
        }
        None if blank => Ok(()),
        None => Err(src.error(at, XmlErrorKind::AfterRoot)),
    }
}

/// Pass 2: the children of one element, read in the XSD's order.
struct Seq<'a> {
    src: &'a Source<'a>,
    parent: &'static str,
    end_at: usize,
    kids: &'a [Node],
    next: usize,
    /// Optional names passed since the last element taken (for "expected one of").
    skipped: Vec<&'static str>,
}

impl<'a> Seq<'a> {
    fn of(src: &'a Source<'a>, node: &'a Node, parent: &'static str) -> Result<Self, XmlError> {
        if let Some(at) = node.text_at {
            return Err(src.error(at, XmlErrorKind::Text { element: parent }));
        }
        let mut seq = Seq { src, parent, end_at: node.at, kids: &node.children, next: 0, skipped: Vec::new() };
        seq.end_at = node.children.last().map_or(node.at, |k| k.at);
        Ok(seq)
    }

    fn peek(&self, name: &str) -> Result<bool, XmlError> {
        match self.kids.get(self.next) {
            Some(k) if k.ns.as_deref() != Some(CAP_NAMESPACE) && k.ns.as_deref() != Some(XMLDSIG_NAMESPACE) => {
                Err(self.src.error(k.at, XmlErrorKind::Namespace { found: k.qualified() }))
            }
            Some(k) => Ok(k.ns.as_deref() == Some(CAP_NAMESPACE) && k.name == name),
            None => Ok(false),
        }
    }

    fn take(&mut self) -> &'a Node {
        let node = &self.kids[self.next];
        self.next += 1;
        self.skipped.clear();
        node
    }

    fn fail(&self, also: &'static str) -> XmlError {
        let mut expected = self.skipped.clone();
        expected.push(also);
        match self.kids.get(self.next) {
            Some(k) => {
                self.src.error(k.at, XmlErrorKind::Unexpected { found: k.name.clone(), parent: self.parent, expected })
            }
            None => self.src.error(self.end_at, XmlErrorKind::Missing { parent: self.parent, expected }),
        }
    }

    /// Exactly one `name`.
    fn one(&mut self, name: &'static str) -> Result<&'a Node, XmlError> {
        if self.peek(name)? {
            Ok(self.take())
        } else {
            Err(self.fail(name))
        }
    }

    /// Zero or one `name`.
    fn opt(&mut self, name: &'static str) -> Result<Option<&'a Node>, XmlError> {
        if self.peek(name)? {
            Ok(Some(self.take()))
        } else {
            self.skipped.push(name);
            Ok(None)
        }
    }

    /// Zero or more `name`.
    fn many(&mut self, name: &'static str) -> Result<Vec<&'a Node>, XmlError> {
        let mut out = Vec::new();
        while self.peek(name)? {
            out.push(self.take());
        }
        self.skipped.push(name);
        Ok(out)
    }

    /// Skips trailing XML signatures (only `alert` allows them).
    fn signatures(&mut self) {
        while self.kids.get(self.next).is_some_and(|k| k.ns.as_deref() == Some(XMLDSIG_NAMESPACE)) {
            self.next += 1;
        }
    }

    /// Nothing more may come.
    fn end(self) -> Result<(), XmlError> {
        match self.kids.get(self.next) {
            None => Ok(()),
            Some(k) if k.ns.as_deref() != Some(CAP_NAMESPACE) => {
                Err(self.src.error(k.at, XmlErrorKind::Namespace { found: k.qualified() }))
            }
            Some(k) => Err(self.src.error(
                k.at,
                XmlErrorKind::Unexpected { found: k.name.clone(), parent: self.parent, expected: self.skipped },
            )),
        }
    }
}

impl Source<'_> {
    /// The text of a text-only element.
    fn text<'n>(&self, node: &'n Node, element: &'static str) -> Result<&'n str, XmlError> {
        match node.children.first() {
            Some(k) => Err(self.error(k.at, XmlErrorKind::Child { element })),
            None => Ok(&node.text),
        }
    }

    fn value<T, E: fmt::Display>(
        &self,
        node: &Node,
        element: &'static str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<T, XmlError> {
        let text = self.text(node, element)?;
        parse(text).map_err(|e| {
            self.error(node.at, XmlErrorKind::Value { element, value: text.to_owned(), reason: e.to_string() })
        })
    }

    /// A CAP enumeration: the exact spelling (xs:string keeps whitespace).
    fn enumerated<T: FromStr>(&self, node: &Node, element: &'static str) -> Result<T, XmlError>
    where
        T::Err: fmt::Display,
    {
        self.value(node, element, |t| t.parse::<T>())
    }

    /// A time (xs:dateTime collapses surrounding whitespace).
    fn time(&self, node: &Node, element: &'static str) -> Result<CapTime, XmlError> {
        self.value(node, element, |t| t.trim().parse::<CapTime>())
    }

    fn string(&self, node: &Node, element: &'static str) -> Result<String, XmlError> {
        Ok(self.text(node, element)?.to_owned())
    }

    fn opt_string(&self, node: Option<&Node>, element: &'static str) -> Result<Option<String>, XmlError> {
        node.map(|n| self.string(n, element)).transpose()
    }

    fn pairs(&self, nodes: Vec<&Node>, element: &'static str) -> Result<Vec<NamedValue>, XmlError> {
        nodes
            .into_iter()
            .map(|n| {
                let mut s = Seq::of(self, n, element)?;
                let value_name = self.string(s.one("valueName")?, "valueName")?;
                let value = self.string(s.one("value")?, "value")?;
                s.end()?;
                Ok(NamedValue { value_name, value })
            })
            .collect()
    }
}

/// CAP's space-separated list with double-quoted items that hold spaces.
pub(crate) fn split_list(text: &str) -> Result<Vec<String>, &'static str> {
    let mut items = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"').ok_or("a double quote is not closed")?;
            items.push(quoted[..end].to_owned());
            rest = &quoted[end + 1..];
            if rest.chars().next().is_some_and(|c| !c.is_whitespace()) {
                return Err("a closing double quote is not followed by a space");
            }
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let item = &rest[..end];
            if item.contains('"') {
                return Err("a double quote inside an item");
            }
            items.push(item.to_owned());
            rest = &rest[end..];
        }
        rest = rest.trim_start();
    }
    Ok(items)
}

fn parse_references(text: &str) -> Result<Vec<Reference>, String> {
    text.split_whitespace()
        .map(|r| {
            let mut parts = r.split(',');
            match (parts.next(), parts.next(), parts.next(), parts.next()) {
                (Some(sender), Some(identifier), Some(sent), None) if !sender.is_empty() && !identifier.is_empty() => {
                    let sent = sent.parse::<CapTime>().map_err(|e| format!("reference `{r}`: {e}"))?;
                    Ok(Reference { sender: sender.to_owned(), identifier: identifier.to_owned(), sent })
                }
                _ => Err(format!("reference `{r}` is not sender,identifier,sent")),
            }
        })
        .collect()
}

impl Alert {
    /// Reads a CAP 1.2 document; see the [module](crate::read) for what is accepted.
    pub fn from_xml(text: &str) -> Result<Alert, XmlError> {
        let src = Source { text };
        let root = tree(&src)?;
        if root.ns.as_deref() != Some(CAP_NAMESPACE) || root.name != "alert" {
            return Err(src.error(root.at, XmlErrorKind::Root { found: root.qualified() }));
        }
        let mut s = Seq::of(&src, &root, "alert")?;
        let identifier = src.string(s.one("identifier")?, "identifier")?;
        let sender = src.string(s.one("sender")?, "sender")?;
        let sent = src.time(s.one("sent")?, "sent")?;
        let status: Status = src.enumerated(s.one("status")?, "status")?;
        let msg_type: MsgType = src.enumerated(s.one("msgType")?, "msgType")?;
        let source = src.opt_string(s.opt("source")?, "source")?;
        let scope: Scope = src.enumerated(s.one("scope")?, "scope")?;
        let restriction = src.opt_string(s.opt("restriction")?, "restriction")?;
        let addresses = match s.opt("addresses")? {
            Some(n) => src.value(n, "addresses", split_list)?,
            None => Vec::new(),
        };
        let codes = s.many("code")?.into_iter().map(|n| src.string(n, "code")).collect::<Result<_, _>>()?;
        let note = src.opt_string(s.opt("note")?, "note")?;
        let references = match s.opt("references")? {
            Some(n) => src.value(n, "references", parse_references)?,
            None => Vec::new(),
        };
        let incidents = match s.opt("incidents")? {
            Some(n) => src.value(n, "incidents", split_list)?,
            None => Vec::new(),
        };
        let infos = s.many("info")?.into_iter().map(|n| read_info(&src, n)).collect::<Result<_, _>>()?;
        s.signatures();
        s.end()?;
        Ok(Alert {
            identifier,
            sender,
            sent,
            status,
            msg_type,
            source,
            scope,
            restriction,
            addresses,
            codes,
            note,
            references,
            incidents,
            infos,
        })
    }
}

fn read_info(src: &Source<'_>, node: &Node) -> Result<Info, XmlError> {
    let mut s = Seq::of(src, node, "info")?;
    let language = match s.opt("language")? {
        Some(n) => Some(src.value(n, "language", |t| {
            let t = t.trim();
            if is_language(t) {
                Ok(t.to_owned())
            } else {
                Err("not a language tag such as zh-CN")
            }
        })?),
        None => None,
    };
    let mut categories = vec![src.enumerated::<Category>(s.one("category")?, "category")?];
    for n in s.many("category")? {
        categories.push(src.enumerated(n, "category")?);
    }
    let event = src.string(s.one("event")?, "event")?;
    let response_types = s
        .many("responseType")?
        .into_iter()
        .map(|n| src.enumerated::<ResponseType>(n, "responseType"))
        .collect::<Result<_, _>>()?;
    let urgency: Urgency = src.enumerated(s.one("urgency")?, "urgency")?;
    let severity: Severity = src.enumerated(s.one("severity")?, "severity")?;
    let certainty: Certainty = src.enumerated(s.one("certainty")?, "certainty")?;
    let audience = src.opt_string(s.opt("audience")?, "audience")?;
    let event_codes = src.pairs(s.many("eventCode")?, "eventCode")?;
    let effective = s.opt("effective")?.map(|n| src.time(n, "effective")).transpose()?;
    let onset = s.opt("onset")?.map(|n| src.time(n, "onset")).transpose()?;
    let expires = s.opt("expires")?.map(|n| src.time(n, "expires")).transpose()?;
    let sender_name = src.opt_string(s.opt("senderName")?, "senderName")?;
    let headline = src.opt_string(s.opt("headline")?, "headline")?;
    let description = src.opt_string(s.opt("description")?, "description")?;
    let instruction = src.opt_string(s.opt("instruction")?, "instruction")?;
    let web = s.opt("web")?.map(|n| src.value(n, "web", |t| Ok::<_, String>(t.trim().to_owned()))).transpose()?;
    let contact = src.opt_string(s.opt("contact")?, "contact")?;
    let parameters = src.pairs(s.many("parameter")?, "parameter")?;
    let resources = s.many("resource")?.into_iter().map(|n| read_resource(src, n)).collect::<Result<_, _>>()?;
    let areas = s.many("area")?.into_iter().map(|n| read_area(src, n)).collect::<Result<_, _>>()?;
    s.end()?;
    Ok(Info {
        language,
        categories,
        event,
        response_types,
        urgency,
        severity,
        certainty,
        audience,
        event_codes,
        effective,
        onset,
        expires,
        sender_name,
        headline,
        description,
        instruction,
        web,
        contact,
        parameters,
        resources,
        areas,
    })
}

fn read_resource(src: &Source<'_>, node: &Node) -> Result<Resource, XmlError> {
    let mut s = Seq::of(src, node, "resource")?;
    let resource_desc = src.string(s.one("resourceDesc")?, "resourceDesc")?;
    let mime_type = src.string(s.one("mimeType")?, "mimeType")?;
    let size = s.opt("size")?.map(|n| src.value(n, "size", |t| t.trim().parse::<u64>())).transpose()?;
    let uri = s.opt("uri")?.map(|n| src.value(n, "uri", |t| Ok::<_, String>(t.trim().to_owned()))).transpose()?;
    let deref_uri = src.opt_string(s.opt("derefUri")?, "derefUri")?;
    let digest = src.opt_string(s.opt("digest")?, "digest")?;
    s.end()?;
    Ok(Resource { resource_desc, mime_type, size, uri, deref_uri, digest })
}

fn read_area(src: &Source<'_>, node: &Node) -> Result<Area, XmlError> {
    let mut s = Seq::of(src, node, "area")?;
    let area_desc = src.string(s.one("areaDesc")?, "areaDesc")?;
    let polygons =
        s.many("polygon")?.into_iter().map(|n| src.value(n, "polygon", Polygon::from_str)).collect::<Result<_, _>>()?;
    let circles = s
        .many("circle")?
        .into_iter()
        .map(|n| src.value(n, "circle", |t| t.trim().parse::<Circle>()))
        .collect::<Result<_, _>>()?;
    let geocodes = src.pairs(s.many("geocode")?, "geocode")?;
    let number = |t: &str| decimal(t.trim()).ok_or("not a decimal number");
    let altitude = s.opt("altitude")?.map(|n| src.value(n, "altitude", number)).transpose()?;
    let ceiling = s.opt("ceiling")?.map(|n| src.value(n, "ceiling", number)).transpose()?;
    s.end()?;
    Ok(Area { area_desc, polygons, circles, geocodes, altitude, ceiling })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_with_quotes() {
        assert_eq!(split_list(" a  \"b c\" d ").unwrap(), ["a", "b c", "d"]);
        assert!(split_list("\"a b").is_err());
        assert!(split_list("a\"b").is_err());
        assert!(split_list("\"a\"b").is_err());
        assert_eq!(split_list("").unwrap(), Vec::<String>::new());
    }
}
