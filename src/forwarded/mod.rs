//! The public URL a client used: RFC 7239 `Forwarded`, `X-Forwarded-Host`/`X-Forwarded-Proto`
//! and `Host`, each value validated, honoured only with `TRUST_FORWARDED=true`; plus the
//! redirect-host allow-list (`ALLOWED_HOSTS`). Pure: invalid values are skipped and reported as
//! data (`Issue`), never a panic or an error response.
//!
//! Validation rules (documented in docs/requests.md):
//! - host: an ASCII DNS name (labels of `a-z0-9-`, 1-63 characters, no leading/trailing `-`,
//!   253 characters at most, no trailing dot), a dotted-decimal IPv4 address (four parts 0-255,
//!   no leading zeros), or a bracketed IPv6 address without a zone; names are lowercased.
//!   Unicode hosts are refused, not punycoded: a proxy in front must send the `xn--` form.
//! - port: 1-65535, decimal digits only; a scheme's default port is dropped.
//! - scheme: `http` or `https` (any case).
//! - no control characters anywhere; a header value over 8 KiB is ignored whole.
//! - Only what the trusted proxy added is read: the last `Forwarded` element and the last
//!   comma-separated item of `X-Forwarded-Host`/`-Proto` (of the last header line). A proxy
//!   that appends to a client's value leaves the client's items in front, never last; one that
//!   overwrites leaves a single item. edgegate trusts exactly one hop.
//! - When both `Forwarded` and `X-Forwarded-Host` (or `-Proto`) are sent, both must give the
//!   same host (scheme): different values, or one of them malformed or without the value, mean
//!   one came from the client (`forwarded-conflict`), and neither is used.
//! - The scheme never goes down: a request that reached the edge over https stays https,
//!   whatever a forwarded `proto` says.
//!
//! Precedence with trust on: host from `Forwarded` host= or `X-Forwarded-Host`, then `Host`,
//! then the request URL; scheme from `Forwarded` proto= or `X-Forwarded-Proto`, then the request
//! URL. With trust off the public URL is the request's own URL.
//!
//! The files: `issue.rs` (why a value was ignored), `limits.rs` (the checks every value passes
//! first), `scheme.rs`, `host.rs` and `ipv4.rs` (the values), `elements.rs` (the `Forwarded`
//! syntax), `public_url.rs` (the URL), `agreement.rs` (the two header families must agree),
//! `derivation.rs` (the public URL from the headers), `allowed_hosts.rs` (redirects).

mod agreement;
mod allowed_hosts;
mod derivation;
mod elements;
mod host;
mod ipv4;
mod issue;
mod limits;
mod public_url;
mod scheme;

pub use allowed_hosts::{
    default_allowed_hosts, redirect_allowed, redirect_target, redirect_url_allowed,
};
pub use derivation::{public_url, Derived};
pub use elements::{forwarded_elements, ForwardedElement};
pub use host::{parse_host, Host, HostKind};
pub use issue::{ForwardedError, Issue};
pub use limits::MAX_FORWARDED_VALUE;
pub use public_url::{push_port, PublicUrl};
pub use scheme::Scheme;
