//! Names: the cookie, parameter and header names of Clerk's browser protocol and edgegate's limits
//! on it.

pub use crate::token_source::{cookie, CLIENT_UAT_COOKIE, SESSION_COOKIE};
/// Clerk's development-browser token (cookie, suffixed or not, and query parameter).
pub const DEV_BROWSER: &str = "__clerk_db_jwt";
/// The Backend API version Clerk's SDK sends with a handshake (`SUPPORTED_BAPI_VERSION` of
/// `@clerk/backend`), as `__clerk_api_version`.
pub const CLERK_API_VERSION: &str = "2026-05-12";
/// Clerk's legacy development-session parameter, removed from URLs with `__clerk_db_jwt`.
pub const LEGACY_DEV_BROWSER: &str = "__dev_session";
/// The handshake token (query parameter or unsuffixed cookie).
pub const HANDSHAKE: &str = "__clerk_handshake";
/// Clerk's handshake debugging parameter, removed with the handshake.
pub const HANDSHAKE_HELP: &str = "__clerk_help";
/// The redirect-loop counter cookie.
pub const REDIRECT_COUNT_COOKIE: &str = "__clerk_redirect_count";
/// edgegate's login-CSRF state: the same name for the cookie and the query parameter.
pub const STATE_NAME: &str = "__edgegate_hs_state";
/// Lifetime of the state cookie.
pub const STATE_MAX_AGE_S: i64 = 300;
/// Lifetime of the redirect counter, as Clerk's.
pub const REDIRECT_COUNT_MAX_AGE_S: i64 = 3;
/// Handshake redirects allowed in a row before giving up (signed out, `redirect-loop`).
pub const MAX_HANDSHAKE_REDIRECTS: u32 = 3;
/// Oldest accepted handshake token `iat`, relative to now.
pub const HANDSHAKE_MAX_AGE_MS: i64 = 300_000;
/// At most this many Set-Cookie directives are taken from one handshake token.
pub const MAX_HANDSHAKE_COOKIES: usize = 32;
/// Longest accepted Set-Cookie directive from a handshake token.
pub const MAX_SET_COOKIE_BYTES: usize = 4096;
/// Suggested size limit for a handshake token: it carries whole session tokens (suffixed and
/// unsuffixed) inside its own payload, so it is larger than one session token. A query string
/// or cookie that long is still within what browsers and Cloudflare accept.
pub const HANDSHAKE_MAX_TOKEN_BYTES: usize = 16_384;
/// Largest token peeked at (unverified) for the suffix rules.
pub(crate) const MAX_PEEK_BYTES: usize = 8192;

/// How long one outage check is remembered per isolate.
pub const PROBE_CACHE_MS: i64 = 30_000;
/// Timeout of the outage check; the edge gives the fetch up after this.
pub const PROBE_TIMEOUT_MS: u64 = 1500;
/// Path of the outage check on the Frontend API.
pub const PROBE_PATH: &str = "/v1/environment";
