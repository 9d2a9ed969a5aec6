//! Uploaded files (附件): photos of a case, of a warning's site, of a door-to-door visit.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use zhili_core::audit::Actor;
use zhili_core::store::StoreResult;

/// Metadata of an uploaded file (附件), e.g. a photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    /// Random id (also the URL key).
    pub id: String,
    /// Media type, e.g. `image/jpeg` (checked against the bytes).
    pub content_type: String,
    /// Size in bytes.
    pub size: i64,
    /// SHA-256 of the bytes, hex.
    pub sha256: String,
    /// Uploading user, if any.
    pub uploaded_by: Option<i64>,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// Attachment storage. Every write appends its audit row in the same transaction.
#[async_trait]
pub trait AttachmentStore: Send + Sync {
    /// Store an uploaded file (`attachment.put`); an id stored already is a conflict on `id`, an
    /// unknown uploader a missing reference `uploaded_by`.
    async fn put_attachment(&self, actor: &Actor, meta: &Attachment, bytes: &[u8]) -> StoreResult<()>;

    /// An uploaded file with its bytes.
    async fn attachment(&self, id: &str) -> StoreResult<(Attachment, Vec<u8>)>;
}
