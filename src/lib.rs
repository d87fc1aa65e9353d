//! edgegate: verifies Clerk session tokens at the Cloudflare edge with an embedded public key and
//! proxies allowed requests to the origin.
//!
//! Everything that decides is plain Rust below; only `edge` (compiled for wasm32) touches the
//! Workers runtime, through the step interface of [`pipeline`] ([`Pipeline::start`],
//! [`Pipeline::resume`]) and its text form in [`wire`]. docs/architecture.md maps the modules.
//!
//! The surface most callers need is re-exported here: the edge core ([`Pipeline`], [`Request`],
//! [`Step`], [`Event`]), the settings ([`Settings`]), token verification ([`verify_token`],
//! [`Validation`], [`TokenError`], [`KeySet`], [`parse_key_set`]) and the reasons a request is
//! refused ([`RefusalReason`]). The modules stay public for the integration tests, the fuzz
//! targets, the benchmarks and the CLI, which test each concept on its own.
#![deny(missing_docs)]
// No unsafe code anywhere but the wasm allocator (edge/allocator.rs: a `GlobalAlloc` is unsafe
// by definition); native builds, which have no `edge`, forbid it outright.
#![cfg_attr(not(target_arch = "wasm32"), forbid(unsafe_code))]
#![cfg_attr(target_arch = "wasm32", deny(unsafe_code))]

pub mod auth;
pub mod authenticate;
pub mod cache;
pub mod clerk;
pub mod config;
pub mod crypto;
pub mod deploy_check;
pub mod forwarded;
pub mod hex;
pub mod http;
pub mod json;
pub mod jwks;
pub mod keys;
pub mod log;
pub mod machine;
#[cfg(not(target_arch = "wasm32"))]
pub mod mint;
pub mod pipeline;
pub mod proxy;
pub mod random;
pub mod refusal;
pub mod response;
pub mod routes;
pub mod token;
pub mod token_source;
pub mod web_url;
pub mod wire;

#[cfg(target_arch = "wasm32")]
mod edge;

pub use config::Settings;
pub use keys::{parse_key_set, KeySet};
pub use machine::{Event, Request, Step};
pub use pipeline::Pipeline;
pub use refusal::RefusalReason;
pub use token::{verify_token, TokenError, Validation};
