//! edgegate: verifies Clerk session tokens at the Cloudflare edge with an embedded public key and
//! proxies allowed requests to the origin.
//!
//! Everything that decides is plain Rust below; only `edge` (compiled for wasm32) touches `worker`.

pub mod auth;

#[cfg(target_arch = "wasm32")]
mod edge;
