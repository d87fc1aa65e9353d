//! Settings → one validated [`Settings`], once per isolate, with everything derived from them
//! (route table, origin, proxy settings, publishable key, Frontend API). Every problem is found
//! in one pass. Every setting is read through a lookup
//! function (the edge passes wrangler's vars and secrets; tests pass a map), so nothing here
//! reads an environment. A [`ConfigError`] names the setting and the problem, never the value.
//!
//! The files, each using only those above it: `setting_names` (the names and Clerk's aliases),
//! `settings` (the struct, its groups and what a request asks of it), `reader` (one setting
//! read and checked), `read_keys`, `read_clerk`, `read_proxy`, `read_routes` (one reader per
//! group of settings), `from_settings` (the groups assembled), and beside them
//! `unknown_settings` (warnings for names that are no setting).

mod from_settings;
mod read_clerk;
mod read_keys;
mod read_proxy;
mod read_routes;
mod reader;
mod setting_names;
mod settings;
mod unknown_settings;

pub use reader::{parse_bool, ConfigError, Lookup};
pub use setting_names::{ALIASES, SETTING_NAMES};
pub use settings::{
    ClerkSettings, HostSettings, OriginSettings, PreflightMode, Reporting, Settings, TokenSettings,
    DEFAULT_UPSTREAM_TIMEOUT_MS, MAX_OUTAGE_GRACE_SECONDS,
};
pub use unknown_settings::unknown_setting_warnings;
