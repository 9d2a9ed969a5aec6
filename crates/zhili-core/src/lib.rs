//! Zhili's shared domain vocabulary (共用领域词汇).
//!
//! Everything here is plain Rust: codes that validate on construction, the core model of
//! divisions, departments and users, the one access policy, the audit hash chain, the
//! registry of stable error codes, and the storage ports that backend crates implement.
//! Nothing in this crate knows HTTP or SQL.

pub mod audit;
pub mod codes;
pub mod error;
pub mod mask;
pub mod model;
pub mod password;
pub mod policy;
pub mod ports;
pub mod store;

pub use codes::{CodeError, DivisionCode, DivisionLevel};
pub use error::ErrorCode;
pub use model::*;
pub use policy::{authorize, Action, Principal, Role};
