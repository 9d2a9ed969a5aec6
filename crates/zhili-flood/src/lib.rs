//! Flash-flood monitoring and early warning (山洪灾害监测预警), the Boshan case: rain and
//! water-level stations over small watersheds warn the villages at risk in time.
//!
//! This crate holds the rules and knows no HTTP, SQL, sockets or protocol bytes (the SL 651
//! codec is `zhili-sl651`, CAP documents `zhili-cap`):
//! - [`vocab`]: the shared terms — station codes, warning grades and schemes, soil states,
//!   accumulation windows, observed elements;
//! - [`rain`]: per-station rainfall accumulations over sliding windows from 5-minute
//!   increments, coarser increments and counters, under late, repeated and corrected data;
//! - [`soil`]: the antecedent soil state from an antecedent-precipitation index or soil moisture;
//! - [`level`]: a water-level station's latest level and rate of rise;
//! - [`health`]: station health — online, late or offline, battery, alarm bits, suspicious values;
//! - [`warning`]: the warning lifecycle of one village as a pure state machine — internal
//!   warning, acknowledgements, escalation, channel fallback, public warning, upgrade, lift —
//!   with the effects the server carries out, the review trail and the message texts;

pub mod health;
pub mod level;
pub mod rain;
pub mod soil;
pub mod vocab;
pub mod warning;
