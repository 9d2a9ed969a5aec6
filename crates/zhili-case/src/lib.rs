//! Cases (事件/案件): anything found by a grid worker, a citizen, an operator or a sensor becomes
//! a case that moves through the national closed loop (GB/T 30428, CJ/T 315):
//! 采集 → 立案 → 派遣 → 处置 → 反馈 → 核查 → 结案 → 评价.
//!
//! This crate holds the rules and knows no HTTP or SQL:
//! - [`calendar`]: working time (工作时/工作日) with weekends, public holidays and make-up days;
//! - [`catalogue`]: case classes (案件分类) with departments, time limits and conditions, and
//!   their spreadsheet import/export;
//! - [`intake`]: the port other modules open cases through;
//! - [`metrics`]: the evaluation figures (结案率, 按期结案率, …) as additive tallies;
//! - [`model`]: the stored case, its clock and timeline, and how a transition advances them;
//! - [`notify`]: notifications, overdue escalation levels and webhook events;
//! - [`store`]: the storage ports;
//! - [`workflow`]: the state machine of the loop, its roles, required fields and counters.

pub mod calendar;
pub mod catalogue;
pub mod intake;
pub mod metrics;
pub mod model;
pub mod notify;
pub mod store;
pub mod workflow;
