//! What every domain's pages and handlers share (网页公共件), and that uses no domain:
//! the error shape (said in the caller's language by `localize`), compression (`compress`), extractors, who is calling, i18n, the page frame and embedded assets,
//! the deployment's local time, and the process's metrics.

pub mod asset;
pub mod caller;
pub mod clock;
pub mod compress;
pub mod error;
pub mod extract;
pub mod i18n;
pub mod localize;
pub mod metrics;
pub mod module;
pub mod page;
