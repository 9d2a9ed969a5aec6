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
pub mod indicator;
pub mod model;
pub mod store;
pub mod vocab;
