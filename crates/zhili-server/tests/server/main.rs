//! The server's integration tests, one binary: the router over a fresh SQLite store in a
//! temporary folder, without a socket (but for the webhook receivers). [`world`] builds each
//! test's world and holds the request helpers; each other module is one domain.

mod assets;
mod case_map;
mod compression;
mod core_api;
mod errors;
mod export;
mod flood_bench;
mod flood_indicators;
mod flood_ingest;
mod flood_story;
mod home;
mod intake;
mod notify;
mod open311;
mod photos;
mod public_pages;
mod settings_pages;
mod world;
