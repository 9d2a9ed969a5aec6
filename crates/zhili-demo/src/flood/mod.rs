//! The demo's flash-flood data (山洪演示): the Boshan station network over the demo district,
//! a synthetic storm over it, and a station simulator that reports the storm in SL 651 over
//! TCP, so that the flood module is alive from the first start and can be shown a storm.
//!
//! - [`network`]: 8 small watersheds, 449 stations (25 automatic rain, 23 automatic level, 144
//!   simple rain, 219 simple level, 27 video, 11 shared), the 214 villages at risk with danger
//!   zones, persons, facilities, a shelter and a route each, 23 control sections and the
//!   rainfall indicators of either scheme — built as `zhili_flood::model` records, validated,
//!   and written through [`zhili_flood::store::FloodModelStore`] ([`network::seed`]);
//! - [`storm`]: a moving Gaussian rain cell giving each rain station its 5-minute rain and each
//!   level station its hydrograph, deterministic from a seed, as an iterator and as CSV;
//! - [`simulator`]: one TCP connection per automatic station speaking SL 651 (keep-alive 2F,
//!   hourly 34H, add-report 33H, timed 32H, M2 confirms with up to two resends), at a chosen
//!   speed.
//!
//! Same district, seed and start: same network, same storm, same frames.

pub mod network;
pub mod simulator;
pub mod storm;

#[cfg(test)]
mod tests;
