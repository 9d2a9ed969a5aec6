//! The one registry of stable error codes (错误码) and the HTTP status each maps to.
//!
//! Codes are part of the public API: clients and the UI match on them, so a code is never
//! renamed or reused. The status is a plain number so that this crate stays free of HTTP.

macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident = ($code:literal, $status:literal, $zh:literal, $en:literal),)*) => {
        /// A stable, documented error code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($(#[$doc])* $variant,)*
        }

        impl ErrorCode {
            /// Every code, for documentation and tests.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The stable string clients match on.
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code,)* }
            }

            /// The HTTP status this code is answered with.
            pub fn http_status(self) -> u16 {
                match self { $(ErrorCode::$variant => $status,)* }
            }

            /// A generic message in Chinese (zh-CN).
            pub fn message_zh(self) -> &'static str {
                match self { $(ErrorCode::$variant => $zh,)* }
            }

            /// A generic message in English.
            pub fn message_en(self) -> &'static str {
                match self { $(ErrorCode::$variant => $en,)* }
            }
        }
    };
}

error_codes! {
    /// The body is not valid JSON or a field has the wrong type.
    MalformedBody = ("malformed_body", 400, "请求体格式错误", "The request body is malformed"),
    /// A field has a value outside its rules (a bad code, an empty name…).
    InvalidField = ("invalid_field", 422, "字段取值无效", "A field has an invalid value"),
    /// A query parameter is malformed or out of range.
    InvalidQuery = ("invalid_query", 400, "查询参数无效", "A query parameter is invalid"),
    /// The request needs a login.
    Unauthenticated = ("unauthenticated", 401, "请先登录", "Authentication required"),
    /// Username or password wrong; never says which.
    BadCredentials = ("bad_credentials", 401, "用户名或密码错误", "Wrong username or password"),
    /// The role or jurisdiction does not allow this.
    Forbidden = ("forbidden", 403, "无权执行此操作", "You are not allowed to do this"),
    /// The browser form lacks a valid CSRF token.
    CsrfFailed = ("csrf_failed", 403, "表单已过期，请刷新后重试", "The form has expired; reload and try again"),
    /// No such resource (or not visible to this user).
    NotFound = ("not_found", 404, "资源不存在", "Not found"),
    /// No such route.
    RouteNotFound = ("route_not_found", 404, "接口不存在", "No such route"),
    /// The method is not allowed on this route.
    MethodNotAllowed = ("method_not_allowed", 405, "请求方法不被允许", "Method not allowed"),
    /// A unique value already exists.
    Conflict = ("conflict", 409, "数据已存在或已被修改", "The value already exists or was changed"),
    /// The record was changed by someone else since it was read.
    StaleVersion = ("stale_version", 409, "记录已被他人修改，请刷新后重试", "The record was changed by someone else; reload and retry"),
    /// The body is larger than the configured limit.
    PayloadTooLarge = ("payload_too_large", 413, "请求体过大", "The request body is too large"),
    /// The content type is not accepted.
    UnsupportedMediaType = ("unsupported_media_type", 415, "不支持的内容类型", "Unsupported content type"),
    /// Too many attempts in a short time.
    TooManyRequests = ("too_many_requests", 429, "尝试次数过多，请稍后再试", "Too many attempts; try again later"),
    /// The request took too long.
    Timeout = ("timeout", 503, "请求超时", "The request timed out"),
    /// The database is unreachable or busy.
    StorageUnavailable = ("storage_unavailable", 503, "数据库暂不可用", "The database is unavailable"),
    /// An unexpected fault; details are in the server log.
    Internal = ("internal", 500, "服务器内部错误", "Internal server error"),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_statuses_are_errors() {
        let mut seen = std::collections::HashSet::new();
        for c in ErrorCode::ALL {
            assert!(seen.insert(c.as_str()), "duplicate {}", c.as_str());
            assert!((400..600).contains(&c.http_status()));
            assert!(!c.message_zh().is_empty() && !c.message_en().is_empty());
        }
    }
}
