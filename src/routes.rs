//! Which paths need what: path canonicalisation, Clerk `createRouteMatcher`-style patterns,
//! `PUBLIC_ROUTES` and `ROUTE_RULES` parsing, classification of a canonical path, and the
//! role / permission / organisation check against a verified [`Auth`]. Pure.
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
//! # Patterns
//! `/literal`, `:name` (one or more characters other than `/`, may sit inside a segment) and a
//! trailing `(.*)` (anything, including nothing and more segments). As in Clerk (path-to-regexp,
//! non-strict mode) one trailing `/` on the path is tolerated, and `(.*)` is not a segment
//! boundary: `/admin(.*)` matches `/admin`, `/admin/x` and also `/administrator`; write
//! `/admin`, `/admin/(.*)` to cover only the subtree. Other path-to-regexp syntax (`*`, `+`, `?`,
//! `{}`, regex groups) is a configuration error.
//!
//! # Settings
//! `PUBLIC_ROUTES`: comma- or newline-separated patterns; a path is public only when a pattern
//! matches it case-sensitively. `ROUTE_RULES`: rules separated by `;` or newlines, each
//! `<pattern>=<requirement>[,<requirement>...]`, requirements being `org` (an active
//! organisation), `role:<role>[|<role>...]` (any of), `permission:<perm>[|<perm>...]` (any of);
//! a requirement list holds when all its requirements hold. Example:
//! `"/admin(.*)=role:org:admin; /billing(.*)=org,permission:org:billing:manage; /team(.*)=org"`.
//! Rule patterns match case-insensitively and EVERY matching rule applies (order does not
//! matter, a broad rule cannot shadow a stricter one). A path matched by any rule is protected
//! even if a public pattern also matches it (fail closed); only paths added with
//! [`RouteTable::add_always_public`] (the sign-in page) stay public regardless. As in Clerk's
//! `has()`, the configured role or permission gets exactly one `org:` prefix (`admin` means
//! `org:admin`) and is compared case-sensitively with the session's.

use crate::auth::Auth;
use std::fmt;

/// Longest raw path accepted.
pub const MAX_PATH_LEN: usize = 16 * 1024;

/// Why a request path is refused (400, or 414 for `path-too-long`). Stable reason codes via
/// [`PathError::code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathError {
    /// `path-not-absolute`: the path does not start with `/`.
    NotAbsolute,
    /// `path-too-long`: over 16 KiB, raw or canonical.
    TooLong,
    /// `path-control-character`: a raw or percent-encoded control character.
    ControlCharacter,
    /// `path-backslash`: a raw backslash.
    Backslash,
    /// `path-encoded-slash`: `%2F`.
    EncodedSlash,
    /// `path-encoded-backslash`: `%5C`.
    EncodedBackslash,
    /// `path-parameter`: a raw `;` (path parameters).
    PathParameter,
    /// `path-bad-percent-encoding`: a `%` not followed by two hex digits.
    BadPercentEncoding,
    /// `path-invalid-utf8`: percent-encoded bytes that are not UTF-8.
    InvalidUtf8,
    /// `path-escapes-root`: a `..` that would climb above the root.
    EscapesRoot,
    /// `path-double-encoded`: a segment that, decoded again, hides a refused byte or a dot segment
    /// (`%252e`, `%252f`).
    DoubleEncoded,
}

impl PathError {
    /// The stable reason code.
    pub fn code(&self) -> &'static str {
        match self {
            PathError::NotAbsolute => "path-not-absolute",
            PathError::TooLong => "path-too-long",
            PathError::ControlCharacter => "path-control-character",
            PathError::Backslash => "path-backslash",
            PathError::EncodedSlash => "path-encoded-slash",
            PathError::EncodedBackslash => "path-encoded-backslash",
            PathError::PathParameter => "path-parameter",
            PathError::BadPercentEncoding => "path-bad-percent-encoding",
            PathError::InvalidUtf8 => "path-invalid-utf8",
            PathError::EscapesRoot => "path-escapes-root",
            PathError::DoubleEncoded => "path-double-encoded",
        }
    }
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// RFC 3986 `pchar` minus `%` (handled apart) and `;` (refused).
fn is_plain_pchar(b: u8) -> bool {
    is_unreserved(b)
        || matches!(
            b,
            b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b'=' | b':' | b'@'
        )
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn push_escaped(out: &mut String, b: u8) {
    let hex = |n: u8| {
        char::from_digit(u32::from(n), 16)
            .unwrap_or('0')
            .to_ascii_uppercase()
    };
    out.push('%');
    out.push(hex(b >> 4));
    out.push(hex(b & 0x0F));
}

/// Canonicalises one raw segment (no `/` inside). Returns the canonical text and the fully
/// decoded bytes (for the UTF-8 check).
fn canonical_segment(seg: &str, decoded: &mut Vec<u8>) -> Result<String, PathError> {
    let bytes = seg.as_bytes();
    let mut out = String::with_capacity(seg.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let hi = bytes.get(i + 1).copied().and_then(hex_val);
                let lo = bytes.get(i + 2).copied().and_then(hex_val);
                let (Some(hi), Some(lo)) = (hi, lo) else {
                    return Err(PathError::BadPercentEncoding);
                };
                let v = (hi << 4) | lo;
                match v {
                    b'/' => return Err(PathError::EncodedSlash),
                    b'\\' => return Err(PathError::EncodedBackslash),
                    0x00..=0x1F | 0x7F => return Err(PathError::ControlCharacter),
                    _ => {}
                }
                decoded.push(v);
                if is_unreserved(v) {
                    out.push(char::from(v));
                } else {
                    push_escaped(&mut out, v);
                }
                i += 3;
            }
            b'\\' => return Err(PathError::Backslash),
            b';' => return Err(PathError::PathParameter),
            0x00..=0x1F | 0x7F => return Err(PathError::ControlCharacter),
            _ if is_plain_pchar(b) => {
                decoded.push(b);
                out.push(char::from(b));
                i += 1;
            }
            _ => {
                // Other ASCII and every byte of a non-ASCII character: percent-encode.
                decoded.push(b);
                push_escaped(&mut out, b);
                i += 1;
            }
        }
    }
    Ok(out)
}

/// True when a canonical segment is double-encoded into something edgegate would refuse or
/// resolve: an encoded `%` followed (through any further layers of `25`) by the hex of a dot, a
/// slash or a backslash (`%252e`, `%252F`, `%25255c`, any case), or a segment that, decoded two
/// to four times (as a server that decodes more than once would), holds a `/`, `\`, `;`, a
/// control character or bytes that are not UTF-8, or is `.` or `..` (`%2525%2532%2565`,
/// `%25c0%25ae`, `%253b`, `%2500`).
fn is_double_encoded(canonical_segment: &str) -> bool {
    let escaped_separator = canonical_segment.match_indices("%25").any(|(at, _)| {
        let mut rest = canonical_segment.get(at + 3..).unwrap_or("");
        while rest.starts_with("25") {
            rest = rest.get(2..).unwrap_or("");
        }
        rest.get(..2).is_some_and(|hex| {
            ["2e", "2f", "5c"]
                .iter()
                .any(|bad| bad.eq_ignore_ascii_case(hex))
        })
    });
    escaped_separator || hides_something_when_decoded_again(canonical_segment)
}

fn hides_something_when_decoded_again(canonical_segment: &str) -> bool {
    // Layer 1 is what every origin sees (the canonical rules cover it); layers 2 to 4 are what a
    // server that decodes again would see.
    let mut layer: Vec<u8> =
        percent_encoding::percent_decode(canonical_segment.as_bytes()).collect();
    for _ in 0..3 {
        if !layer.contains(&b'%') {
            return false;
        }
        let next: Vec<u8> = percent_encoding::percent_decode(&layer).collect();
        if next == layer {
            return false;
        }
        let bad_byte = next
            .iter()
            .any(|b| matches!(b, b'/' | b'\\' | b';') || b.is_ascii_control());
        if bad_byte || next == b"." || next == b".." || std::str::from_utf8(&next).is_err() {
            return true;
        }
        layer = next;
    }
    false
}

/// The canonical form of a raw request path (without query), or why it is refused. See the
/// module documentation for the rules.
pub fn canonical_path(raw_path: &str) -> Result<String, PathError> {
    if raw_path.len() > MAX_PATH_LEN {
        return Err(PathError::TooLong);
    }
    if raw_path.chars().any(char::is_control) {
        return Err(PathError::ControlCharacter);
    }
    let Some(rest) = raw_path.strip_prefix('/') else {
        return Err(PathError::NotAbsolute);
    };
    let mut stack: Vec<String> = Vec::new();
    let mut trailing_slash = false;
    let mut decoded: Vec<u8> = Vec::with_capacity(raw_path.len());
    let mut segments = rest.split('/').peekable();
    while let Some(seg) = segments.next() {
        let last = segments.peek().is_none();
        let canon = canonical_segment(seg, &mut decoded)?;
        if is_double_encoded(&canon) {
            return Err(PathError::DoubleEncoded);
        }
        decoded.push(b'/');
        match canon.as_str() {
            "" | "." => trailing_slash = last,
            ".." => {
                if stack.pop().is_none() {
                    return Err(PathError::EscapesRoot);
                }
                trailing_slash = last;
            }
            _ => {
                stack.push(canon);
                trailing_slash = false;
            }
        }
    }
    if std::str::from_utf8(&decoded).is_err() {
        return Err(PathError::InvalidUtf8);
    }
    let mut out = String::with_capacity(raw_path.len() + 1);
    for seg in &stack {
        out.push('/');
        out.push_str(seg);
    }
    if out.is_empty() || trailing_slash {
        out.push('/');
    }
    // The limit holds for the canonical form too (escapes expand a path up to threefold), so a
    // canonical path always canonicalises to itself.
    if out.len() > MAX_PATH_LEN {
        return Err(PathError::TooLong);
    }
    Ok(out)
}

/// Why a pattern or a rule is not valid configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatternError {
    /// `pattern-empty`: an empty pattern.
    Empty,
    /// `pattern-not-absolute`: the pattern does not start with `/`.
    NotAbsolute,
    /// `pattern-invalid-character`: a character not allowed in a pattern's literal text.
    InvalidCharacter,
    /// `pattern-unsupported-syntax`: path-to-regexp syntax edgegate does not take (`*`, `+`, `?`,
    /// groups, ...).
    UnsupportedSyntax,
    /// `pattern-wildcard-not-last`: `(.*)` anywhere but at the end.
    WildcardNotLast,
    /// `pattern-empty-param-name`: a `:` without a parameter name.
    EmptyParamName,
    /// `pattern-adjacent-params`: two parameters with no literal text between them.
    AdjacentParams,
    /// `pattern-not-canonical`: literal text not in canonical form, so it could never match.
    NotCanonical,
    /// `rule-missing-requirements`: a rule without `=` or without requirements.
    MissingRequirements,
    /// `rule-unknown-requirement`: a requirement other than `org` (or `organization`), `role:` or
    /// `permission:`.
    UnknownRequirement,
    /// `rule-empty-requirement-value`: an empty role or permission, or one with whitespace or
    /// control characters.
    EmptyRequirementValue,
}

impl PatternError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            PatternError::Empty => "pattern-empty",
            PatternError::NotAbsolute => "pattern-not-absolute",
            PatternError::InvalidCharacter => "pattern-invalid-character",
            PatternError::UnsupportedSyntax => "pattern-unsupported-syntax",
            PatternError::WildcardNotLast => "pattern-wildcard-not-last",
            PatternError::EmptyParamName => "pattern-empty-param-name",
            PatternError::AdjacentParams => "pattern-adjacent-params",
            PatternError::NotCanonical => "pattern-not-canonical",
            PatternError::MissingRequirements => "rule-missing-requirements",
            PatternError::UnknownRequirement => "rule-unknown-requirement",
            PatternError::EmptyRequirementValue => "rule-empty-requirement-value",
        }
    }
}

/// A configuration error naming the setting and the (1-based) entry, never the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteConfigError {
    /// `PUBLIC_ROUTES` or `ROUTE_RULES`.
    pub setting: &'static str,
    /// The entry's position, from 1.
    pub entry: usize,
    /// What is wrong with the entry.
    pub error: PatternError,
}

impl RouteConfigError {
    /// The error's code.
    pub fn code(&self) -> &'static str {
        self.error.code()
    }
}

impl fmt::Display for RouteConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: entry {}: {}",
            self.setting,
            self.entry,
            self.error.code()
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Lit(String),
    Param,
    Wild,
}

/// A compiled route pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    source: String,
    toks: Vec<Tok>,
}

fn is_literal_char(b: u8) -> bool {
    is_unreserved(b) || matches!(b, b'!' | b'$' | b'&' | b'\'' | b'@' | b'/' | b'%')
}

impl Pattern {
    /// Parses one pattern (see the module documentation for the syntax).
    pub fn parse(s: &str) -> Result<Pattern, PatternError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(PatternError::Empty);
        }
        if !s.starts_with('/') {
            return Err(PatternError::NotAbsolute);
        }
        let mut toks: Vec<Tok> = Vec::new();
        let mut lit = String::new();
        let mut rest = s;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix("(.*)") {
                if !after.is_empty() {
                    return Err(PatternError::WildcardNotLast);
                }
                if !lit.is_empty() {
                    toks.push(Tok::Lit(std::mem::take(&mut lit)));
                }
                toks.push(Tok::Wild);
                rest = after;
                continue;
            }
            let Some(&b) = rest.as_bytes().first() else {
                break;
            };
            if b == b':' {
                let after = rest.get(1..).unwrap_or("");
                let name_len = after
                    .bytes()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
                    .count();
                if name_len == 0 {
                    return Err(PatternError::EmptyParamName);
                }
                if !lit.is_empty() {
                    toks.push(Tok::Lit(std::mem::take(&mut lit)));
                }
                if matches!(toks.last(), Some(Tok::Param)) {
                    return Err(PatternError::AdjacentParams);
                }
                toks.push(Tok::Param);
                rest = after.get(name_len..).unwrap_or("");
                continue;
            }
            if matches!(
                b,
                b'(' | b')' | b'*' | b'+' | b'?' | b'{' | b'}' | b'[' | b']' | b'^' | b'|' | b'\\'
            ) {
                return Err(PatternError::UnsupportedSyntax);
            }
            if !b.is_ascii() || !is_literal_char(b) {
                return Err(PatternError::InvalidCharacter);
            }
            lit.push(char::from(b));
            rest = rest.get(1..).unwrap_or("");
        }
        if !lit.is_empty() {
            toks.push(Tok::Lit(lit));
        }
        if !source_is_canonical(s) {
            return Err(PatternError::NotCanonical);
        }
        Ok(Pattern {
            source: s.to_string(),
            toks,
        })
    }

    /// A pattern matching exactly one canonical path (no parameters, no wildcard).
    pub fn exact(canonical: &str) -> Pattern {
        Pattern {
            source: canonical.to_string(),
            toks: vec![Tok::Lit(canonical.to_string())],
        }
    }

    /// The pattern's text.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Case-sensitive match of a canonical path.
    pub fn matches(&self, path: &str) -> bool {
        self.match_with(path.as_bytes(), false)
    }

    /// ASCII case-insensitive match of a canonical path.
    pub fn matches_ignore_case(&self, path: &str) -> bool {
        self.match_with(path.as_bytes(), true)
    }

    fn match_with(&self, path: &[u8], fold: bool) -> bool {
        let n = path.len();
        // reach[i]: the tokens so far can consume exactly path[..i].
        let mut reach = vec![false; n + 1];
        if let Some(first) = reach.first_mut() {
            *first = true;
        }
        for tok in &self.toks {
            let mut next = vec![false; n + 1];
            match tok {
                Tok::Lit(l) => {
                    let lb = l.as_bytes();
                    for (i, _) in reach.iter().enumerate().filter(|(_, r)| **r) {
                        if let Some(slice) = path.get(i..i + lb.len()) {
                            let eq = if fold {
                                slice.eq_ignore_ascii_case(lb)
                            } else {
                                slice == lb
                            };
                            if eq {
                                if let Some(slot) = next.get_mut(i + lb.len()) {
                                    *slot = true;
                                }
                            }
                        }
                    }
                }
                Tok::Param => {
                    let mut active = false;
                    for (i, &c) in path.iter().enumerate() {
                        if reach.get(i).copied().unwrap_or(false) {
                            active = true;
                        }
                        if c == b'/' {
                            active = false;
                        } else if active {
                            if let Some(slot) = next.get_mut(i + 1) {
                                *slot = true;
                            }
                        }
                    }
                }
                Tok::Wild => {
                    if let Some(start) = reach.iter().position(|r| *r) {
                        for slot in next.iter_mut().skip(start) {
                            *slot = true;
                        }
                    }
                }
            }
            reach = next;
        }
        let at_end = reach.get(n).copied().unwrap_or(false);
        let before_trailing_slash =
            n > 0 && path.get(n - 1) == Some(&b'/') && reach.get(n - 1).copied().unwrap_or(false);
        at_end || before_trailing_slash
    }
}

/// Literal text must be in canonical form, or the pattern could never match: no `//`, no `.`
/// or `..` segment, `%` escapes with uppercase hex for bytes that stay encoded.
fn source_is_canonical(s: &str) -> bool {
    if s.contains("//") || s.split('/').any(|seg| seg == "." || seg == "..") {
        return false;
    }
    let b = s.as_bytes();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            let (Some(&h), Some(&l)) = (b.get(i + 1), b.get(i + 2)) else {
                return false;
            };
            let (Some(hv), Some(lv)) = (hex_val(h), hex_val(l)) else {
                return false;
            };
            let v = (hv << 4) | lv;
            if h.is_ascii_lowercase()
                || l.is_ascii_lowercase()
                || is_unreserved(v)
                || matches!(v, b'/' | b'\\' | 0x00..=0x1F | 0x7F)
            {
                return false;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    true
}

/// One requirement of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    /// An active organisation.
    Organization,
    /// The active organisation role is one of these.
    Role(Vec<String>),
    /// The active organisation grants one of these permissions.
    Permission(Vec<String>),
}

/// A `ROUTE_RULES` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The paths the rule applies to (matched case-insensitively).
    pub pattern: Pattern,
    /// What a session needs there; every requirement must hold.
    pub requirements: Vec<Requirement>,
}

/// Why a signed-in session may not use a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forbidden {
    /// `missing-organization`: no active organisation.
    MissingOrganization,
    /// `missing-role`: the organisation role is none of the rule's.
    MissingRole,
    /// `missing-permission`: the organisation grants none of the rule's permissions.
    MissingPermission,
}

impl Forbidden {
    /// The stable reason code.
    pub fn code(&self) -> &'static str {
        match self {
            Forbidden::MissingOrganization => "missing-organization",
            Forbidden::MissingRole => "missing-role",
            Forbidden::MissingPermission => "missing-permission",
        }
    }
}

impl fmt::Display for Forbidden {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Clerk's `has()` normalisation of an asked role or permission: leading `org:` prefixes are
/// collapsed to exactly one (`admin` and `org:org:admin` both mean `org:admin`).
fn prefix_with_org(value: &str) -> String {
    let mut v = value;
    while let Some(rest) = v.strip_prefix("org:") {
        v = rest;
    }
    format!("org:{v}")
}

fn org_equal(required: &str, actual: &str) -> bool {
    actual == prefix_with_org(required)
}

/// Checks one rule: an active organisation first (any requirement needs one), then roles, then
/// permissions.
pub fn authorize(rule: &Rule, auth: &Auth) -> Result<(), Forbidden> {
    let has_org = auth.org_id.as_deref().is_some_and(|o| !o.is_empty());
    if !rule.requirements.is_empty() && !has_org {
        return Err(Forbidden::MissingOrganization);
    }
    for req in &rule.requirements {
        if let Requirement::Role(roles) = req {
            let role = auth.org_role.as_deref().unwrap_or("");
            if role.is_empty() || !roles.iter().any(|r| org_equal(r, role)) {
                return Err(Forbidden::MissingRole);
            }
        }
    }
    for req in &rule.requirements {
        if let Requirement::Permission(perms) = req {
            let granted = perms
                .iter()
                .any(|p| auth.org_permissions.iter().any(|g| org_equal(p, g)));
            if !granted {
                return Err(Forbidden::MissingPermission);
            }
        }
    }
    Ok(())
}

/// Checks every rule in order; the first failure is the reason.
pub fn authorize_all(rules: &[&Rule], auth: &Auth) -> Result<(), Forbidden> {
    rules.iter().try_for_each(|r| authorize(r, auth))
}

fn entries(raw: &str, seps: &[char]) -> Vec<(usize, String)> {
    raw.split(|c| seps.contains(&c))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .enumerate()
        .map(|(i, s)| (i + 1, s.to_string()))
        .collect()
}

/// Parses `PUBLIC_ROUTES` (comma- or newline-separated patterns).
pub fn parse_public_routes(raw: &str) -> Result<Vec<Pattern>, RouteConfigError> {
    entries(raw, &[',', '\n'])
        .into_iter()
        .map(|(entry, s)| {
            Pattern::parse(&s).map_err(|error| RouteConfigError {
                setting: "PUBLIC_ROUTES",
                entry,
                error,
            })
        })
        .collect()
}

fn parse_values(v: &str) -> Result<Vec<String>, PatternError> {
    let vals: Vec<String> = v.split('|').map(|s| s.trim().to_string()).collect();
    if vals
        .iter()
        .any(|s| s.is_empty() || s.chars().any(|c| c.is_control() || c.is_whitespace()))
    {
        return Err(PatternError::EmptyRequirementValue);
    }
    Ok(vals)
}

fn parse_requirement(s: &str) -> Result<Requirement, PatternError> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("org") || s.eq_ignore_ascii_case("organization") {
        return Ok(Requirement::Organization);
    }
    if let Some(v) = s.strip_prefix("role:") {
        return parse_values(v).map(Requirement::Role);
    }
    if let Some(v) = s.strip_prefix("permission:") {
        return parse_values(v).map(Requirement::Permission);
    }
    Err(PatternError::UnknownRequirement)
}

/// Parses `ROUTE_RULES` (see the module documentation for the format).
pub fn parse_route_rules(raw: &str) -> Result<Vec<Rule>, RouteConfigError> {
    entries(raw, &[';', '\n'])
        .into_iter()
        .map(|(entry, s)| {
            let err = |error| RouteConfigError {
                setting: "ROUTE_RULES",
                entry,
                error,
            };
            let (pat, reqs) = s
                .split_once('=')
                .ok_or(err(PatternError::MissingRequirements))?;
            let pattern = Pattern::parse(pat).map_err(err)?;
            let requirements = reqs
                .split(',')
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(parse_requirement)
                .collect::<Result<Vec<_>, _>>()
                .map_err(err)?;
            if requirements.is_empty() {
                return Err(err(PatternError::MissingRequirements));
            }
            Ok(Rule {
                pattern,
                requirements,
            })
        })
        .collect()
}

/// What a canonical path needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access<'a> {
    /// No session needed (identity is still forwarded when a valid one comes along).
    Public,
    /// A signed-in session that satisfies every listed rule.
    Protected {
        /// The rules that match the path (none: any signed-in session will do).
        rules: Vec<&'a Rule>,
    },
}

/// The parsed routing settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteTable {
    /// `PUBLIC_ROUTES`.
    pub public: Vec<Pattern>,
    /// `ROUTE_RULES`.
    pub rules: Vec<Rule>,
    always_public: Vec<Pattern>,
}

impl RouteTable {
    /// A table of these patterns and rules, with no always-public path.
    pub fn new(public: Vec<Pattern>, rules: Vec<Rule>) -> RouteTable {
        RouteTable {
            public,
            rules,
            always_public: Vec::new(),
        }
    }

    /// Parses `PUBLIC_ROUTES` and `ROUTE_RULES`.
    pub fn from_settings(
        public_routes: &str,
        route_rules: &str,
    ) -> Result<RouteTable, RouteConfigError> {
        Ok(RouteTable::new(
            parse_public_routes(public_routes)?,
            parse_route_rules(route_rules)?,
        ))
    }

    /// Makes one path public whatever the rules say (the sign-in page on this host). The path is
    /// canonicalised first; an unusable path is refused.
    pub fn add_always_public(&mut self, path: &str) -> Result<(), PathError> {
        let canonical = canonical_path(path)?;
        self.always_public.push(Pattern::exact(&canonical));
        Ok(())
    }

    /// Classifies a canonical path.
    pub fn classify(&self, canonical: &str) -> Access<'_> {
        if self.always_public.iter().any(|p| p.matches(canonical)) {
            return Access::Public;
        }
        let rules: Vec<&Rule> = self
            .rules
            .iter()
            .filter(|r| r.pattern.matches_ignore_case(canonical))
            .collect();
        if rules.is_empty() && self.public.iter().any(|p| p.matches(canonical)) {
            return Access::Public;
        }
        Access::Protected { rules }
    }
}
