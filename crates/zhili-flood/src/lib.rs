//! Flash-flood monitoring and early warning (山洪灾害监测预警), the Boshan case: rain and
//! water-level stations over small watersheds warn the villages at risk in time.
//!
//! This crate holds the rules and knows no HTTP, SQL, sockets or protocol bytes (the SL 651
//! codec is `zhili-sl651`, CAP documents `zhili-cap`):
//! - [`vocab`]: the shared terms — station codes, warning grades and schemes, soil states,
//!   accumulation windows, observed elements;
//! - [`model`]: small watersheds, stations, villages at risk (responsible persons, warning
//!   facilities, evacuation routes, shelters), control sections, the quarantine of unknown
//!   stations, each with its validation;
//! - [`indicator`]: rainfall indicators per village (window × soil state × grade, either
//!   scheme) and level indicators per section, their pure evaluation, and the spreadsheet
//!   import/export of rainfall indicators (`indicator::import`);
//! - [`store`]: the storage ports — the network model and indicators, the quarantine, and
//!   observations with their raw frames (one durable `ingest`);
//! - [`rain`]: per-station rainfall accumulations over sliding windows from 5-minute
//!   increments, coarser increments and counters, under late, repeated and corrected data;
//! - [`soil`]: the antecedent soil state from an antecedent-precipitation index or soil moisture;
//! - [`level`]: a water-level station's latest level and rate of rise;
//! - [`health`]: station health — online, late or offline, battery, alarm bits, suspicious values;
//! - [`warning`]: the warning lifecycle of one village as a pure state machine — internal
//!   warning, acknowledgements, escalation, channel fallback, public warning, upgrade, lift —
//!   with the effects the server carries out, the review trail and the message texts;

pub mod evaluation;
pub mod health;
pub mod indicator;
pub mod level;
pub mod model;
pub mod rain;
pub mod soil;
pub mod store;
pub mod vocab;
pub mod warning;
