//! Deployment settings (部署设置): JSON text under a key owned by a module, e.g.
//! `case.catalogue`, `case.calendar`.

use async_trait::async_trait;
use zhili_core::audit::Actor;
use zhili_core::store::StoreResult;

/// Settings storage.
#[async_trait]
pub trait SettingStore: Send + Sync {
    /// A setting (JSON text), if stored.
    async fn setting(&self, key: &str) -> StoreResult<Option<String>>;

    /// Replace a setting, with an audit row (`setting.put`).
    async fn put_setting(&self, actor: &Actor, key: &str, value: &str) -> StoreResult<()>;
}
