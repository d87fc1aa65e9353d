//! edgegate: verifies Clerk session tokens at the Cloudflare edge with an embedded public key and
//! proxies allowed requests to the origin.
//!
//! Everything that decides is plain Rust below; only `edge` (compiled for wasm32) touches `worker`.

pub mod auth;
pub mod forwarded;
pub mod http;
pub mod proxy;
pub mod response;
pub mod routes;
pub mod session;
