//! OASIS CAP 1.2 (Common Alerting Protocol, 通用预警协议) documents and their Atom feed, in
//! the GB/T 35965.1-2018 profile (应急信息交互协议 第1部分:预警信息).
//!
//! Every flash-flood warning, upgrade and lift is also published as a CAP document so that
//! other agencies and aggregators can take it. This crate is the format only — a typed model,
//! its rules, an XML writer and reader, the identifier and the feed — with no I/O, no async
//! and no other Zhili crate, like `zhili-sl651`.
//!
//! - [`Alert`], [`Info`], [`Resource`], [`Area`] and CAP's enumerations ([`Status`],
//!   [`MsgType`], [`Scope`], [`Category`], [`ResponseType`], [`Urgency`], [`Severity`],
//!   [`Certainty`]); [`CapTime`] (whole seconds, explicit offset, never `Z`); [`Polygon`]
//!   (closed rings, [`Polygon::simplified`] to at most N vertices) and [`Circle`].
//! - [`Alert::validate`]: CAP's rules with element paths ([`Invalid`], [`Violation`]);
//!   [`Alert::validate_gb35965`] adds the Chinese profile's identifier and Beijing time.
//! - [`Alert::to_xml`] (namespace [`CAP_NAMESPACE`], the XSD's element order) and
//!   [`Alert::from_xml`] (rejects unknown or misplaced content with line and column,
//!   [`XmlError`]).
//! - [`WarningId`]: the 31-character identifier `ZZZZZZDDDUUUXX_YYYYMMDDhhmmss_N`.
//! - [`Feed`], [`Entry`]: the Atom 1.0 feed linking each alert as `application/cap+xml`.
//!
//! The integration tests validate the documents this crate writes against the OASIS CAP 1.2
//! XSD (vendored in `tests/schema/`) with python3 lxml.

mod atom;
mod geo;
mod identifier;
mod model;
pub mod read;
mod time;
mod validate;
mod write;

pub use atom::{Entry, Feed, ATOM_MIME_TYPE, ATOM_NAMESPACE};
pub use geo::{Circle, GeoError, Point, Polygon};
pub use identifier::{IdPart, IdentifierError, WarningId, WarningIdBuilder, IDENTIFIER_LEN};
pub use model::{
    Alert, Area, Category, Certainty, Info, MsgType, NamedValue, Reference, Resource, ResponseType, Scope, Severity,
    Status, UnknownValue, Urgency, GEOCODE_DIVISION,
};
pub use read::{XmlError, XmlErrorKind, MAX_DEPTH, XMLDSIG_NAMESPACE};
pub use time::{beijing, CapTime, TimeError};
pub use validate::{Invalid, Rule, Violation};
pub use write::{CAP_MIME_TYPE, CAP_NAMESPACE};
