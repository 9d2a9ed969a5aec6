//! Platform services that every module uses (平台服务), keyed on no domain: what the case loop,
//! flood warning, IoT alarms, epidemic tasks and assistance applications all need.
//!
//! - [`subject`]: what a notification or an event is about, `(kind, id)`, the kind owned by a
//!   domain (`case`, later `flood_warning`, `alarm`…);
//! - [`notify`]: in-app notifications, the durable webhook outbox with its retry schedule, and
//!   their storage port;
//! - [`audience`]: who is told (a department's staff, the operators of a division, the leaders
//!   over it), resolved against the core user store;
//! - [`attachment`]: uploaded files (photos) and their port;
//! - [`settings`]: deployment settings (JSON text under a key) and their port.
//!
//! Event and notification kind names belong to the domain that raises them; this crate stores
//! and sends them as given. No HTTP, no SQL.

pub mod attachment;
pub mod audience;
pub mod notify;
pub mod settings;
pub mod subject;

pub use subject::Subject;
