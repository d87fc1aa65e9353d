//! Clerk's browser protocol, networkless: the pure logic of Clerk's handshake (the token format,
//! never a nonce), the cookie rules of Clerk's `authenticateRequest`, the login-CSRF state of a
//! handshake, and the outage-grace decision. One module a concept:
//!
//! | module | owns |
//! |---|---|
//! | [`names`] | cookie, parameter and limit names |
//! | [`publishable_key`] | [`PublishableKey`]: instance, Frontend API, cookie suffix |
//! | [`account_portal`] | the Account Portal's sign-in URL, from the Frontend API host |
//! | [`cookies`] | the suffixed-or-unsuffixed choice, [`ClerkCookies::read`] |
//! | [`query`] | the handshake's query parameters and the URL rewrite |
//! | [`reason`] | [`Reason`] and its codes |
//! | [`decision`] | [`browser_decision`]: Clerk's cookie rules |
//! | [`redirect`] | [`handshake_redirect`] |
//! | [`handshake`] | [`begin_handshake`], [`finish_handshake`] |
//! | [`grace`] | [`grace_applies`], [`OutageProbe`] |
//! | [`org_sync`] | [`OrgSync`]: the organisation a URL names, [`org_sync_decision`] |
//! | [`satellite`] | [`SatelliteSettings`]: satellite domains' sync, [`satellite_sync`] |
//!
//! Nothing here touches `worker`, reads a clock (every function takes `now_ms`, Unix ms) or draws
//! randomness (the state value comes in as bytes). No input can make it panic.

pub mod account_portal;
pub mod auth_reason;
pub mod cookie_rules;
pub mod cookies;
pub mod grace;
pub mod handshake_resolution;
pub mod names;
pub mod org_sync;
pub mod publishable_key;
pub mod query;
pub mod redirect;
pub mod satellite;

pub use account_portal::*;
pub use auth_reason::*;
pub use cookie_rules::*;
pub use cookies::*;
pub use grace::*;
pub use handshake_resolution::*;
pub use names::*;
pub use org_sync::*;
pub use publishable_key::*;
pub use query::*;
pub use redirect::*;
pub use satellite::*;
