//! The CAP 1.2 document model: [`Alert`] → [`Info`] → [`Resource`], [`Area`].
//!
//! Field names follow CAP's elements (in snake case), in the XSD's order, which is the order the
//! writer emits. Fields are public and checked together by [`Alert::validate`], so a caller can
//! build a document in steps; values with a syntax of their own ([`CapTime`], [`Polygon`],
//! [`Circle`], the enumerations) are valid by construction.
//!
//! [`Alert::validate`]: crate::Alert::validate

use std::fmt;
use std::str::FromStr;

use crate::geo::{Circle, Polygon};
use crate::time::CapTime;

/// A value that is not one of an enumeration's CAP values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{found}` is not a CAP {element} (expected one of {})", .expected.join(", "))]
pub struct UnknownValue {
    /// The CAP element.
    pub element: &'static str,
    /// The text found.
    pub found: String,
    /// The allowed values.
    pub expected: &'static [&'static str],
}

macro_rules! cap_enum {
    ($(#[$doc:meta])* $name:ident, $element:literal, { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every value, in CAP's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The value as CAP writes it.
            pub fn as_str(&self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;

            /// Exactly CAP's spelling (case-sensitive, no surrounding space).
            fn from_str(text: &str) -> Result<Self, UnknownValue> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownValue {
                        element: $element,
                        found: text.to_owned(),
                        expected: &[$($text),+],
                    }),
                }
            }
        }
    };
}

cap_enum!(
    /// `status`: how the alert is to be handled (CAP 1.2 §3.2.1).
    Status, "status", {
        /// Actionable by all targeted recipients.
        Actual = "Actual",
        /// Actionable only by designated exercise participants.
        Exercise = "Exercise",
        /// For messages that support alert network internal functions.
        System = "System",
        /// Technical testing only; all recipients disregard.
        Test = "Test",
        /// A preliminary template or draft, not actionable.
        Draft = "Draft",
    }
);

cap_enum!(
    /// `msgType`: the nature of the message.
    MsgType, "msgType", {
        /// Initial information requiring attention.
        Alert = "Alert",
        /// Updates and supersedes the messages in `references`.
        Update = "Update",
        /// Cancels the messages in `references`.
        Cancel = "Cancel",
        /// Acknowledges receipt of the messages in `references`.
        Ack = "Ack",
        /// Rejects the messages in `references`.
        Error = "Error",
    }
);

cap_enum!(
    /// `scope`: who the alert is for.
    Scope, "scope", {
        /// General dissemination to unrestricted audiences.
        Public = "Public",
        /// Users with a known operational requirement (see `restriction`).
        Restricted = "Restricted",
        /// Specified addresses (see `addresses`).
        Private = "Private",
    }
);

cap_enum!(
    /// `category`: the subject of the event.
    Category, "category", {
        /// Geophysical (landslide 滑坡 and debris flow 泥石流 included).
        Geo = "Geo",
        /// Meteorological (flood 洪水 included).
        Met = "Met",
        /// General emergency and public safety.
        Safety = "Safety",
        /// Law enforcement, military, homeland and local/private security.
        Security = "Security",
        /// Rescue and recovery.
        Rescue = "Rescue",
        /// Fire suppression and rescue.
        Fire = "Fire",
        /// Medical and public health.
        Health = "Health",
        /// Pollution and other environmental.
        Env = "Env",
        /// Public and private transportation.
        Transport = "Transport",
        /// Utility, telecommunication, other non-transport infrastructure.
        Infra = "Infra",
        /// Chemical, biological, radiological, nuclear or high-yield explosive.
        CBRNE = "CBRNE",
        /// Other events.
        Other = "Other",
    }
);

cap_enum!(
    /// `responseType`: the action recommended.
    ResponseType, "responseType", {
        /// Take shelter in place.
        Shelter = "Shelter",
        /// Relocate (立即转移 in a flash-flood warning).
        Evacuate = "Evacuate",
        /// Make preparations (准备转移).
        Prepare = "Prepare",
        /// Execute a pre-planned activity.
        Execute = "Execute",
        /// Avoid the subject event.
        Avoid = "Avoid",
        /// Attend to information sources.
        Monitor = "Monitor",
        /// Evaluate the information in this message.
        Assess = "Assess",
        /// The event no longer poses a threat (解除).
        AllClear = "AllClear",
        /// No action recommended.
        None = "None",
    }
);

cap_enum!(
    /// `urgency`: the time available to prepare.
    Urgency, "urgency", {
        /// Responsive action should be taken immediately.
        Immediate = "Immediate",
        /// Within the next hour.
        Expected = "Expected",
        /// In the near future.
        Future = "Future",
        /// No longer required.
        Past = "Past",
        /// Not known.
        Unknown = "Unknown",
    }
);

cap_enum!(
    /// `severity`: the intensity of impact.
    Severity, "severity", {
        /// Extraordinary threat to life or property.
        Extreme = "Extreme",
        /// Significant threat to life or property.
        Severe = "Severe",
        /// Possible threat to life or property.
        Moderate = "Moderate",
        /// Minimal to no known threat.
        Minor = "Minor",
        /// Not known.
        Unknown = "Unknown",
    }
);

cap_enum!(
    /// `certainty`: the confidence in the observation or prediction.
    Certainty, "certainty", {
        /// Determined to have occurred or to be ongoing.
        Observed = "Observed",
        /// Probability > ~50 %.
        Likely = "Likely",
        /// Probability ≤ ~50 % but not negligible.
        Possible = "Possible",
        /// Not expected to occur.
        Unlikely = "Unlikely",
        /// Not known.
        Unknown = "Unknown",
    }
);

/// A reference to an earlier message: `sender,identifier,sent`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The earlier message's `sender`.
    pub sender: String,
    /// The earlier message's `identifier`.
    pub identifier: String,
    /// The earlier message's `sent`.
    pub sent: CapTime,
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{},{},{}", self.sender, self.identifier, self.sent)
    }
}

/// A `valueName`/`value` pair: `eventCode`, `parameter` and `geocode`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedValue {
    /// Who defines the value (`valueName`).
    pub value_name: String,
    /// The value.
    pub value: String,
}

impl NamedValue {
    /// A pair.
    pub fn new(value_name: impl Into<String>, value: impl Into<String>) -> Self {
        NamedValue { value_name: value_name.into(), value: value.into() }
    }
}

/// The `valueName` Zhili gives a Chinese administrative division in `geocode`.
///
/// The 6-digit county code is GB/T 2260; the 9- and 12-digit township and village codes
/// extend it (GB/T 10114 and the statistical division code). GB/T 35965.1 codes divisions
/// "按照GB/T 2260" (its unit code), so every length goes under this one name, which a
/// receiver tells apart by length.
pub const GEOCODE_DIVISION: &str = "GB/T 2260";

/// CAP `alert`: the message and its routing.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// Unique id from the sender (no spaces, commas, `<` or `&`); GB/T 35965.1 form in
    /// [`WarningId`](crate::WarningId).
    pub identifier: String,
    /// The originator (no spaces, commas, `<` or `&`).
    pub sender: String,
    /// When the message was sent.
    pub sent: CapTime,
    /// How it is to be handled.
    pub status: Status,
    /// Its nature.
    pub msg_type: MsgType,
    /// The particular source, optional.
    pub source: Option<String>,
    /// Who it is for.
    pub scope: Scope,
    /// Restriction rule when `scope` is Restricted.
    pub restriction: Option<String>,
    /// Recipients when `scope` is Private (written space-separated, quoted when they hold spaces).
    pub addresses: Vec<String>,
    /// Special handling codes (`code`, repeated).
    pub codes: Vec<String>,
    /// Explanation (required by CAP practice for Error and Cancel).
    pub note: Option<String>,
    /// Earlier messages this one refers to.
    pub references: Vec<Reference>,
    /// Incident names (written space-separated, quoted when they hold spaces).
    pub incidents: Vec<String>,
    /// The information blocks (one per language).
    pub infos: Vec<Info>,
}

/// CAP `info`: the event and the action, in one language.
#[derive(Debug, Clone, PartialEq)]
pub struct Info {
    /// RFC 3066 language (`zh-CN`); CAP's default is `en-US` when absent.
    pub language: Option<String>,
    /// Categories, at least one.
    pub categories: Vec<Category>,
    /// The event type in words (山洪灾害预警).
    pub event: String,
    /// Actions recommended.
    pub response_types: Vec<ResponseType>,
    /// Time available to prepare.
    pub urgency: Urgency,
    /// Intensity of impact.
    pub severity: Severity,
    /// Confidence.
    pub certainty: Certainty,
    /// The intended audience in words.
    pub audience: Option<String>,
    /// System-specific event codes.
    pub event_codes: Vec<NamedValue>,
    /// When the information becomes effective.
    pub effective: Option<CapTime>,
    /// Expected onset of the event.
    pub onset: Option<CapTime>,
    /// When the information expires.
    pub expires: Option<CapTime>,
    /// The issuer in words (博山区防汛抗旱指挥部).
    pub sender_name: Option<String>,
    /// A brief headline.
    pub headline: Option<String>,
    /// The hazard in words.
    pub description: Option<String>,
    /// What to do.
    pub instruction: Option<String>,
    /// A full absolute URI for more information.
    pub web: Option<String>,
    /// How to follow up.
    pub contact: Option<String>,
    /// System-specific parameters.
    pub parameters: Vec<NamedValue>,
    /// Attached resources.
    pub resources: Vec<Resource>,
    /// Affected areas.
    pub areas: Vec<Area>,
}

impl Info {
    /// An info with the required elements and nothing else.
    pub fn new(
        category: Category,
        event: impl Into<String>,
        urgency: Urgency,
        severity: Severity,
        certainty: Certainty,
    ) -> Self {
        Info {
            language: None,
            categories: vec![category],
            event: event.into(),
            response_types: Vec::new(),
            urgency,
            severity,
            certainty,
            audience: None,
            event_codes: Vec::new(),
            effective: None,
            onset: None,
            expires: None,
            sender_name: None,
            headline: None,
            description: None,
            instruction: None,
            web: None,
            contact: None,
            parameters: Vec::new(),
            resources: Vec::new(),
            areas: Vec::new(),
        }
    }
}

/// CAP `resource`: a file with more information (map, audio, image).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// What it is, in words.
    pub resource_desc: String,
    /// Its MIME type.
    pub mime_type: String,
    /// Approximate size in bytes.
    pub size: Option<u64>,
    /// Where to get it (absolute or relative URI).
    pub uri: Option<String>,
    /// The content itself, base64.
    pub deref_uri: Option<String>,
    /// SHA-1 of the content, 40 hex digits.
    pub digest: Option<String>,
}

/// CAP `area`: where the information applies.
#[derive(Debug, Clone, PartialEq)]
pub struct Area {
    /// The area in words (the village's danger zone).
    pub area_desc: String,
    /// Rings.
    pub polygons: Vec<Polygon>,
    /// Circles.
    pub circles: Vec<Circle>,
    /// Codes (village code under [`GEOCODE_DIVISION`]).
    pub geocodes: Vec<NamedValue>,
    /// Altitude in feet above WGS-84 mean sea level.
    pub altitude: Option<f64>,
    /// Upper bound in feet, only with `altitude`.
    pub ceiling: Option<f64>,
}

impl Area {
    /// An area with only its description.
    pub fn new(area_desc: impl Into<String>) -> Self {
        Area {
            area_desc: area_desc.into(),
            polygons: Vec::new(),
            circles: Vec::new(),
            geocodes: Vec::new(),
            altitude: None,
            ceiling: None,
        }
    }
}

impl Alert {
    /// An alert with the required elements and nothing else.
    pub fn new(
        identifier: impl Into<String>,
        sender: impl Into<String>,
        sent: CapTime,
        status: Status,
        msg_type: MsgType,
        scope: Scope,
    ) -> Self {
        Alert {
            identifier: identifier.into(),
            sender: sender.into(),
            sent,
            status,
            msg_type,
            source: None,
            scope,
            restriction: None,
            addresses: Vec::new(),
            codes: Vec::new(),
            note: None,
            references: Vec::new(),
            incidents: Vec::new(),
            infos: Vec::new(),
        }
    }

    /// The reference other messages give to this one (`sender,identifier,sent`).
    pub fn reference(&self) -> Reference {
        Reference { sender: self.sender.clone(), identifier: self.identifier.clone(), sent: self.sent }
    }
}
