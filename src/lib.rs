//! edgegate: verifies Clerk session tokens at the Cloudflare edge with an embedded public key and
//! proxies allowed requests to the origin.
//!
//! Everything that decides is plain Rust below; only `edge` (compiled for wasm32) touches the
//! Workers runtime, through the step interface of `pipeline` (`start`, `resume`) and its text form in `wire`.

pub mod app;
pub mod auth;
pub mod authenticate;
pub mod cache;
pub mod clerk;
pub mod config;
pub mod crypto;
pub mod forwarded;
pub mod hex;
pub mod http;
pub mod json;
pub mod keys;
#[cfg(not(target_arch = "wasm32"))]
pub mod mint;
pub mod pipeline;
pub mod proxy;
pub mod reason;
pub mod response;
pub mod routes;
pub mod session;
pub mod token;
pub mod wire;

#[cfg(target_arch = "wasm32")]
mod edge;
