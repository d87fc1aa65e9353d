//! Which paths need what: path canonicalisation ([`path`]), Clerk `createRouteMatcher`-style
//! patterns ([`pattern`]), `PUBLIC_ROUTES` / `PROTECTED_ROUTES` / `ROUTE_RULES` parsing
//! ([`rule`]), classification of a canonical path ([`table`]), and the check of a verified
//! [`crate::auth::Auth`] against a rule's requirements ([`requirement`]). Pure.
//!
//! # Canonical paths (one form for matching and forwarding)
//! [`canonical_path`] either returns the one path that is both matched and forwarded to the
//! origin, or refuses the request (400, with a [`PathError`] code):
//! - refused: a path not starting with `/`; raw or encoded (`%00`-`%1F`, `%7F`) control
//!   characters; a raw backslash; `%2F`/`%5C` (encoded slash and backslash); a raw `;` (path
//!   parameters, which servlet containers strip before routing); a `%` not followed by two hex
//!   digits; percent-encoded bytes that are not UTF-8 (overlong `%C0%AF` and the like); `..`
//!   that would climb above the root; a double-encoded dot, slash or backslash (`%252e`,
//!   `%252f`, `%255c`, any case, also through more layers); more than 16 KiB, raw or
//!   canonical (a request gets 414 for that one).
//! - normalised: percent-encoded unreserved characters (`A-Z a-z 0-9 - . _ ~`, so `%2E` too) are
//!   decoded; other escapes get uppercase hex; characters outside RFC 3986 `pchar` (space, `"`,
//!   `<`, `>`, `[`, `]`, `^`, `` ` ``, `{`, `|`, `}`, `#`, `?`, non-ASCII) are percent-encoded;
//!   `//` collapses; `.` segments vanish and `..` removes the previous segment; a trailing `/`
//!   (also from a final `.`/`..`) is kept. Case is kept. The function is idempotent.
//!
//! # Patterns ([`Pattern`])
//! path-to-regexp v6 syntax as Clerk's `createRouteMatcher` takes it: `/literal`, `:name` (one
//! segment's text), `:name?` (optional segment), `:name*` (zero or more segments), `:name+` (one
//! or more segments) and a trailing `(.*)` (anything, including nothing: `/admin(.*)` also
//! matches `/administrator`; `/admin/:path*` covers `/admin` and its subtree only). One trailing
//! `/` on the path is tolerated. Other syntax (`*` after literal text, `{}`, regex groups) is a
//! configuration error.
//!
//! # Settings
//! `PUBLIC_ROUTES`: comma- or newline-separated patterns; a path is public only when a pattern
//! matches it case-sensitively. `PROTECTED_ROUTES` (not together with `PUBLIC_ROUTES`): the
//! reverse, only paths matching one of its patterns (case-insensitively) need a session.
//! `ROUTE_RULES`: rules separated by `;` or newlines, each
//! `<pattern>=<requirement>[,<requirement>...]`, a list holding when all its requirements hold
//! (several `token:` together are one any-of set, since a token has one type):
//! `org` (an active organisation), `role:<role>[|<role>...]` and `permission:<perm>[|...]` (any
//! of; as in Clerk's `has()` a value gets exactly one `org:` prefix and is compared
//! case-sensitively), `feature:[org:|user:]<key>[|...]` and `plan:[org:|user:]<key>[|...]`
//! (the `fea` / `pla` claims, see [`entitlement`]), `reverification:<preset>` or
//! `reverification:<minutes>m:<level>` (the `fva` claim, see [`reverification`]),
//! `token:<type>[|<type>...]` (the token types the route takes: `session`, `m2m`, `oauth`;
//! without one, session tokens only) and `scope:<scope>[|...]` (a machine token's scopes).
//! Example:
//! `"/admin(.*)=role:org:admin; /billing(.*)=org,permission:org:billing:manage"`.
//! Rule patterns match case-insensitively and EVERY matching rule applies (order does not
//! matter, a broad rule cannot shadow a stricter one). A path matched by any rule is protected
//! whatever `PUBLIC_ROUTES` or `PROTECTED_ROUTES` say (fail closed), and so is the sign-in page
//! ([`RouteTable::add_always_public`]) when a rule names it: an explicit rule outranks its
//! implicit exemption, a catch-all (`/(.*)`) does not ([`outranks_exemption`]).

pub mod entitlement;
pub mod path;
pub mod pattern;
pub mod requirement;
pub mod reverification;
mod route_error;
pub mod route_table;
pub mod rule;

pub use entitlement::{Entitlement, Scope};
pub use path::{canonical_path, PathError, MAX_PATH_LEN};
pub use pattern::Pattern;
pub use requirement::{Forbidden, Requirement};
pub use reverification::{Level, Reverification};
pub use route_error::{PatternError, RouteConfigError, KNOWN_REQUIREMENTS};
pub use route_table::{outranks_exemption, Access, RouteTable};
pub use rule::{
    accepted_tokens, authorize, authorize_all, parse_protected_routes, parse_public_routes,
    parse_route_rules, Rule,
};
