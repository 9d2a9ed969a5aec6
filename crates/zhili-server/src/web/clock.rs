//! The deployment's local time (本地时间), as a service a module provides (today the case
//! loop, from its working-time calendar's UTC offset) and any page uses to show instants.

use async_trait::async_trait;
use chrono::FixedOffset;

/// Where the deployment's clocks stand against UTC.
#[async_trait]
pub trait LocalTime: Send + Sync {
    /// The current UTC offset of the deployment (UTC when it cannot be read).
    async fn offset(&self) -> FixedOffset;
}

/// The deployment's offset: the provided [`LocalTime`], else UTC.
pub async fn local_offset(ports: &zhili_core::ports::Ports) -> FixedOffset {
    match ports.get::<dyn LocalTime>() {
        Some(t) => t.offset().await,
        None => FixedOffset::east_opt(0).expect("zero is in range"),
    }
}
