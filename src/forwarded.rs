//! The public URL a client used: RFC 7239 `Forwarded`, `X-Forwarded-Host`/`X-Forwarded-Proto`
//! and `Host`, each value validated, honoured only with `TRUST_FORWARDED=true`; plus the
//! redirect-host allow-list (`ALLOWED_HOSTS`). Pure: invalid values are skipped and reported as
//! data (`Issue`), never a panic or an error response.
//!
//! Validation rules (documented in the README's settings table):
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

use crate::http::HeaderList;
use crate::web_url::WebUrl;
use std::fmt;
use std::net::Ipv6Addr;

/// Header values longer than this are ignored whole.
pub const MAX_FORWARDED_VALUE: usize = 8192;
const MAX_HOST_LEN: usize = 253;

/// Why a forwarded value was ignored. Stable reason codes via [`ForwardedError::code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardedError {
    /// `forwarded-empty`: an empty value, host or `Forwarded` element.
    Empty,
    /// `forwarded-too-long`: a header value over 8 KiB, or a host name over 253 characters.
    TooLong,
    /// `forwarded-control-character`: a control character in the value.
    ControlCharacter,
    /// `forwarded-non-ascii-host`: a host that is not ASCII (refused, not punycoded).
    NonAsciiHost,
    /// `forwarded-invalid-host`: not a valid DNS name, or a malformed `host:port`.
    InvalidHost,
    /// `forwarded-invalid-ipv4`: numeric labels that are not a dotted-quad IPv4 address.
    InvalidIpv4,
    /// `forwarded-ipv6-unterminated`: a `[` without its closing `]`.
    Ipv6Unterminated,
    /// `forwarded-invalid-ipv6`: a bracketed host that is not an IPv6 address, or has a zone.
    InvalidIpv6,
    /// `forwarded-invalid-port`: a port that is empty or not all decimal digits.
    InvalidPort,
    /// `forwarded-port-out-of-range`: a port outside 1-65535.
    PortOutOfRange,
    /// `forwarded-invalid-scheme`: a scheme other than `http` or `https`.
    InvalidScheme,
    /// `forwarded-syntax`: a `Forwarded` element that is not `name=value` pairs separated by `;`.
    ForwardedSyntax,
    /// `forwarded-unterminated-quote`: a quoted `Forwarded` value without its closing quote.
    UnterminatedQuote,
    /// `forwarded-duplicate-parameter`: a parameter named twice in a `Forwarded` element.
    DuplicateParameter,
    /// `forwarded-conflict`: `Forwarded` and `X-Forwarded-*` name different hosts or schemes.
    Conflict,
}

impl ForwardedError {
    /// The stable reason code.
    pub fn code(&self) -> &'static str {
        match self {
            ForwardedError::Empty => "forwarded-empty",
            ForwardedError::TooLong => "forwarded-too-long",
            ForwardedError::ControlCharacter => "forwarded-control-character",
            ForwardedError::NonAsciiHost => "forwarded-non-ascii-host",
            ForwardedError::InvalidHost => "forwarded-invalid-host",
            ForwardedError::InvalidIpv4 => "forwarded-invalid-ipv4",
            ForwardedError::Ipv6Unterminated => "forwarded-ipv6-unterminated",
            ForwardedError::InvalidIpv6 => "forwarded-invalid-ipv6",
            ForwardedError::InvalidPort => "forwarded-invalid-port",
            ForwardedError::PortOutOfRange => "forwarded-port-out-of-range",
            ForwardedError::InvalidScheme => "forwarded-invalid-scheme",
            ForwardedError::ForwardedSyntax => "forwarded-syntax",
            ForwardedError::UnterminatedQuote => "forwarded-unterminated-quote",
            ForwardedError::Conflict => "forwarded-conflict",
            ForwardedError::DuplicateParameter => "forwarded-duplicate-parameter",
        }
    }
}

impl fmt::Display for ForwardedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One ignored value: which header (`forwarded`, `x-forwarded-host`, `x-forwarded-proto`,
/// `host`) and why. Carries no value, so it is safe to log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Issue {
    /// The header the value came from.
    pub source: &'static str,
    /// Why the value was ignored.
    pub error: ForwardedError,
}

/// A URL scheme the gateway accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `http`.
    Http,
    /// `https`.
    Https,
}

impl Scheme {
    /// Parses `http` or `https`, in any case.
    pub fn parse(s: &str) -> Result<Scheme, ForwardedError> {
        if has_control(s) {
            Err(ForwardedError::ControlCharacter)
        } else if s.eq_ignore_ascii_case("https") {
            Ok(Scheme::Https)
        } else if s.eq_ignore_ascii_case("http") {
            Ok(Scheme::Http)
        } else {
            Err(ForwardedError::InvalidScheme)
        }
    }

    /// The scheme in lower case.
    pub fn as_str(&self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    /// 80 for http, 443 for https.
    pub fn default_port(&self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// What a [`Host`]'s name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostKind {
    /// A DNS name.
    Name,
    /// A dotted-quad IPv4 address.
    Ipv4,
    /// A bracketed IPv6 address.
    Ipv6,
}

/// A validated `host[:port]`. `name` is lowercased; IPv6 keeps its brackets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// The host: a lowercased name, an IPv4 address or a bracketed IPv6 address.
    pub name: String,
    /// The port, when one was given.
    pub port: Option<u16>,
    /// Which kind of host `name` is.
    pub kind: HostKind,
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            Some(p) => write!(f, "{}:{}", self.name, p),
            None => f.write_str(&self.name),
        }
    }
}

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// Validates `host[:port]` (the `Host` header syntax).
pub fn parse_host(s: &str) -> Result<Host, ForwardedError> {
    if s.is_empty() {
        return Err(ForwardedError::Empty);
    }
    if s.len() > MAX_HOST_LEN + 2 + 6 + 40 {
        return Err(ForwardedError::TooLong);
    }
    if has_control(s) {
        return Err(ForwardedError::ControlCharacter);
    }
    if !s.is_ascii() {
        return Err(ForwardedError::NonAsciiHost);
    }
    if let Some(rest) = s.strip_prefix('[') {
        let Some(close) = rest.find(']') else {
            return Err(ForwardedError::Ipv6Unterminated);
        };
        let inner = rest.get(..close).ok_or(ForwardedError::InvalidIpv6)?;
        let after = rest.get(close + 1..).ok_or(ForwardedError::InvalidHost)?;
        if inner.contains('%') {
            return Err(ForwardedError::InvalidIpv6);
        }
        let addr: Ipv6Addr = inner.parse().map_err(|_| ForwardedError::InvalidIpv6)?;
        let port = match after {
            "" => None,
            _ => match after.strip_prefix(':') {
                Some(p) => Some(parse_port(p)?),
                None => return Err(ForwardedError::InvalidHost),
            },
        };
        return Ok(Host {
            name: format!("[{addr}]"),
            port,
            kind: HostKind::Ipv6,
        });
    }
    let (name, port) = match s.split_once(':') {
        Some((n, p)) => {
            if p.contains(':') {
                return Err(ForwardedError::InvalidHost);
            }
            (n, Some(parse_port(p)?))
        }
        None => (s, None),
    };
    let (name, kind) = parse_name(name)?;
    Ok(Host { name, port, kind })
}

fn parse_port(p: &str) -> Result<u16, ForwardedError> {
    if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ForwardedError::InvalidPort);
    }
    if p.len() > 5 {
        return Err(ForwardedError::PortOutOfRange);
    }
    match p.parse::<u32>() {
        Ok(n) if (1..=65535).contains(&n) => {
            u16::try_from(n).map_err(|_| ForwardedError::PortOutOfRange)
        }
        Ok(_) => Err(ForwardedError::PortOutOfRange),
        Err(_) => Err(ForwardedError::InvalidPort),
    }
}

fn parse_name(name: &str) -> Result<(String, HostKind), ForwardedError> {
    if name.is_empty() {
        return Err(ForwardedError::Empty);
    }
    if name.len() > MAX_HOST_LEN {
        return Err(ForwardedError::TooLong);
    }
    // Labels are walked with `split` rather than collected: this runs for the host of every
    // request.
    let lower = name.to_ascii_lowercase();
    if all_numeric_labels(&lower) {
        return parse_ipv4(&lower).map(|()| (lower, HostKind::Ipv4));
    }
    for label in lower.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return Err(ForwardedError::InvalidHost);
        }
    }
    // A numeric last label would be read as an IPv4 address by URL parsers.
    if lower
        .rsplit('.')
        .next()
        .is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(ForwardedError::InvalidHost);
    }
    Ok((lower, HostKind::Name))
}

fn all_numeric_labels(host: &str) -> bool {
    // Bytes, not `split`: this runs for the host of every request.
    let bytes = host.as_bytes();
    !bytes.is_empty()
        && bytes.first() != Some(&b'.')
        && bytes.last() != Some(&b'.')
        && !host.contains("..")
        && bytes.iter().all(|b| b.is_ascii_digit() || *b == b'.')
}

/// `host` as a dotted-quad IPv4 address: four decimal labels, each at most 255 with no leading
/// zero. Byte by byte, in one pass (this runs for the host of every request).
fn parse_ipv4(host: &str) -> Result<(), ForwardedError> {
    let invalid = Err(ForwardedError::InvalidIpv4);
    let (mut labels, mut value, mut digits, mut leading_zero) = (0u8, 0u16, 0u8, false);
    // A final '.' closes the last label.
    for &b in host.as_bytes().iter().chain(b".") {
        if b == b'.' {
            if digits == 0 || value > 255 || (digits > 1 && leading_zero) {
                return invalid;
            }
            labels += 1;
            if labels > 4 {
                return invalid;
            }
            (value, digits) = (0, 0);
        } else if b.is_ascii_digit() {
            if digits == 0 {
                leading_zero = b == b'0';
            }
            digits += 1;
            if digits > 3 {
                return invalid;
            }
            value = value * 10 + u16::from(b - b'0');
        } else {
            return invalid;
        }
    }
    if labels == 4 {
        Ok(())
    } else {
        invalid
    }
}

/// The request URL split without a full parse, when it is already in the form a WHATWG parser
/// serializes to and on which that parser is the identity: `http(s)://host[:port]/path[?query]`
/// in lower case, a plain DNS name (no `xn--` label, no numeric last label, no trailing dot) or a dotted-quad
/// IPv4, a non-default port, and a path and query of characters the parser leaves alone, with no
/// dot segment. The runtime hands the worker URLs it has serialized itself, so this is nearly
/// every request; anything else (`None`) goes through the general reader (`WebUrl`). A property
/// test checks that both agree wherever this answers.
fn split_serialized_url(url: &str) -> Option<(Scheme, &str, &str)> {
    let (scheme, rest) = if let Some(rest) = url.strip_prefix("https://") {
        (Scheme::Https, rest)
    } else {
        (Scheme::Http, url.strip_prefix("http://")?)
    };
    let slash = rest.find('/')?;
    let authority = rest.get(..slash)?;
    let tail = rest.get(slash..)?;
    let path_and_query = tail.split('#').next().unwrap_or(tail);
    let (host, port) = match authority.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && !host.contains("xn--")
        && !host.ends_with('.');
    if !host_ok {
        return None;
    }
    let last_label = host.rsplit('.').next().unwrap_or(host);
    if last_label
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_digit())
        && !is_dotted_quad(host)
    {
        return None;
    }
    if let Some(p) = port {
        // A leading zero is valid but not what the parser serializes.
        if p.starts_with('0') || parse_port(p).ok()? == scheme.default_port() {
            return None;
        }
    }
    let (path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path_and_query, None),
    };
    let printable = |b: u8| (0x21..=0x7e).contains(&b);
    let path_ok = path
        .bytes()
        .all(|b| printable(b) && !matches!(b, b'"' | b'<' | b'>' | b'`' | b'{' | b'}' | b'\\'))
        && !path.contains("/.")
        && !path.to_ascii_lowercase().contains("%2e");
    let query_ok = query.is_none_or(|q| {
        q.bytes()
            .all(|b| printable(b) && !matches!(b, b'"' | b'<' | b'>' | b'\''))
    });
    (path_ok && query_ok).then_some((scheme, authority, path_and_query))
}

/// Four decimal labels that [`parse_ipv4`] accepts (no leading zeros, each at most 255).
fn is_dotted_quad(host: &str) -> bool {
    // parse_ipv4 itself refuses any byte but digits and dots, and empty labels.
    parse_ipv4(host).is_ok()
}

/// Appends `:port` when there is one.
pub fn push_port(out: &mut String, port: Option<u16>) {
    if let Some(port) = port {
        out.push(':');
        out.push_str(itoa::Buffer::new().format(port));
    }
}

#[cfg(test)]
mod serialized_url_tests {
    use super::PublicUrl;
    use proptest::prelude::*;

    fn same(url: &str) {
        let fast = PublicUrl::from_request_url(url);
        let full = PublicUrl::from_parsed_url(url);
        assert_eq!(fast, full, "{url:?}");
    }

    #[test]
    fn fast_split_agrees_with_the_parser_on_tricky_urls() {
        for url in [
            "https://app.example.com/api/data?x=1",
            "http://127.0.0.1:8787/api/data",
            "http://127.0.0.1:80/",
            "https://app.example.com:443/a",
            "https://APP.example.com/a",
            "https://xn--nxasmq6b.example/a",
            "https://xn--invalid-.example/a",
            "http://127.1/a",
            "http://0x7f.0.0.1/a",
            "http://1.2.3.04/a",
            "https://a.example.com/a/../b",
            "https://a.example.com/a/%2e%2e/b",
            "https://a.example.com/a/./b",
            "https://a.example.com/.well-known/x",
            "https://a.example.com/a b",
            "https://a.example.com/a\\b",
            "https://a.example.com/{x}",
            "https://a.example.com/x?q='1'",
            "https://a.example.com/x?q=\"1\"",
            "https://a.example.com/x#frag",
            "https://a.example.com/x?y#frag",
            "https://a.example.com",
            "https://user@a.example.com/x",
            "https://a.example.com:0/x",
            "https://a.example.com:65536/x",
            "https://a.example.com:08080/x",
            "https://[::1]:8443/x",
            "https://-a.example.com/x",
            "https://a..example.com/x",
            "https://a.example.com./x",
            "https://a.example.123/x",
            "https://a.example.com/%zz",
            "https://a.example.com//x",
            "https://a.example.com/ümlaut",
            "ftp://a.example.com/x",
        ] {
            same(url);
        }
    }

    proptest! {
        #[test]
        fn fast_split_agrees_with_the_parser(
            scheme in prop::sample::select(vec!["http://", "https://", "HTTP://"]),
            host in "[a-z0-9.\\-]{0,12}|[0-9]{1,3}(\\.[0-9]{1,4}){0,4}|x[n]?--[a-z]{0,4}\\.[a-z]{1,3}",
            port in prop::option::of("[0-9]{0,6}"),
            path in "(/[a-zA-Z0-9.%'\"<>`{}|^~!$&()*+,;=:@ \\\\-]{0,6}){0,4}",
            query in prop::option::of("[a-zA-Z0-9.%'\"<>`{}|^~!$&()*+,;=:@?/ -]{0,10}"),
            fragment in prop::option::of("[a-z#]{0,4}"),
        ) {
            let mut url = format!("{scheme}{host}");
            if let Some(p) = port { url.push(':'); url.push_str(&p); }
            url.push_str(if path.is_empty() { "/" } else { &path });
            if let Some(q) = query { url.push('?'); url.push_str(&q); }
            if let Some(f) = fragment { url.push('#'); url.push_str(&f); }
            let fast = PublicUrl::from_request_url(&url);
            let full = PublicUrl::from_parsed_url(&url);
            prop_assert_eq!(fast, full, "{:?}", url);
        }
    }
}

/// The URL the client used (or, with trust off, the request's own URL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    /// http or https.
    pub scheme: Scheme,
    /// Lowercased host name, IPv4, or bracketed IPv6.
    pub host: String,
    /// `None` means the scheme's default port.
    pub port: Option<u16>,
    /// Starts with `/`; includes `?query` when there is one.
    pub path_and_query: String,
}

impl PublicUrl {
    /// A public URL from its parts; a port that is the scheme's default is dropped.
    pub fn new(scheme: Scheme, host: &Host, path_and_query: &str) -> PublicUrl {
        let port = host.port.filter(|p| *p != scheme.default_port());
        PublicUrl {
            scheme,
            host: host.name.clone(),
            port,
            path_and_query: path_and_query.to_string(),
        }
    }

    /// Builds the public URL from the request's own absolute URL (http or https only).
    pub fn from_request_url(url: &str) -> Option<PublicUrl> {
        match split_serialized_url(url) {
            Some((scheme, authority, path_and_query)) => {
                let host = parse_host(authority).ok()?;
                Some(PublicUrl::new(scheme, &host, path_and_query))
            }
            None => Self::from_parsed_url(url),
        }
    }

    /// [`PublicUrl::from_request_url`] through the general URL reader ([`WebUrl`]).
    /// The runtime hands the worker URLs already encoded; raw non-ASCII (from a native caller)
    /// is percent-encoded as UTF-8 first, as WHATWG encodes a path or query (in a host it stays
    /// refused: `%` is no host character).
    pub fn from_parsed_url(url: &str) -> Option<PublicUrl> {
        let parsed = WebUrl::parse_encoding_non_ascii(url).ok()?;
        let scheme = Scheme::parse(parsed.scheme()).ok()?;
        let mut host = parse_host(parsed.host_str()).ok()?;
        host.port = parsed.port();
        let mut pq = parsed.path().to_string();
        if let Some(q) = parsed.query() {
            pq.push('?');
            pq.push_str(q);
        }
        Some(PublicUrl::new(scheme, &host, &pq))
    }

    /// `host[:port]`, the port only when it is not the scheme's default.
    pub fn authority(&self) -> String {
        let mut out = String::with_capacity(self.host.len() + 6);
        self.push_authority(&mut out);
        out
    }

    /// `scheme://authority`.
    pub fn origin(&self) -> String {
        let mut out = String::with_capacity(self.host.len() + 14);
        out.push_str(self.scheme.as_str());
        out.push_str("://");
        self.push_authority(&mut out);
        out
    }

    fn push_authority(&self, out: &mut String) {
        out.push_str(&self.host);
        push_port(out, self.port);
    }

    /// The same URL with another path and query.
    pub fn with_path_and_query(&self, path_and_query: &str) -> PublicUrl {
        PublicUrl {
            path_and_query: path_and_query.to_string(),
            ..self.clone()
        }
    }
}

impl fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.origin(), self.path_and_query)
    }
}

/// The public URL and the values that were ignored on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derived {
    /// The public URL.
    pub url: PublicUrl,
    /// The forwarded values that were ignored, and why.
    pub issues: Vec<Issue>,
}

/// Derives the public URL. `own` is the request's own URL (see [`PublicUrl::from_request_url`]);
/// its path and query are kept whatever the headers say.
pub fn public_url(own: &PublicUrl, headers: &HeaderList, trust_forwarded: bool) -> Derived {
    let mut issues = Vec::new();
    if !trust_forwarded {
        return Derived {
            url: own.clone(),
            issues,
        };
    }
    let mut note =
        |source: &'static str, error: ForwardedError| issues.push(Issue { source, error });
    let (forwarded_host, forwarded_proto) = forwarded_values(headers, &mut note);
    let x_host = last_item(headers, "x-forwarded-host", &mut note, parse_host);
    let x_proto = last_item(headers, "x-forwarded-proto", &mut note, Scheme::parse);
    let host = agreed(forwarded_host, x_host, "x-forwarded-host", &mut note).or_else(|| {
        let value = headers.get("host")?;
        guard_len(value)
            .and_then(|v| parse_host(v.trim()))
            .map_err(|error| note("host", error))
            .ok()
    });
    let forwarded_scheme = agreed(forwarded_proto, x_proto, "x-forwarded-proto", &mut note);
    // Never down: a request that reached the edge over https is https to its client too.
    let scheme = match (own.scheme, forwarded_scheme) {
        (Scheme::Https, _) | (_, None) => own.scheme,
        (_, Some(s)) => s,
    };
    let url = match host {
        Some(h) => PublicUrl::new(scheme, &h, &own.path_and_query),
        None => PublicUrl {
            scheme,
            port: own.port.filter(|p| *p != scheme.default_port()),
            ..own.clone()
        },
    };
    Derived { url, issues }
}

/// What one header family says about one value.
enum Said<T> {
    /// The header is not there.
    Absent,
    /// The header is there but unusable (malformed, too long, an invalid value): noted.
    Unusable,
    /// The header is there, valid, without this parameter (a `Forwarded` element without
    /// `host=`).
    Silent,
    /// The header gives this value.
    Value(T),
}

impl<T> Said<T> {
    fn from_result(
        result: Result<T, ForwardedError>,
        source: &'static str,
        note: &mut impl FnMut(&'static str, ForwardedError),
    ) -> Said<T> {
        match result {
            Ok(v) => Said::Value(v),
            Err(e) => {
                note(source, e);
                Said::Unusable
            }
        }
    }
}

/// `host=` and `proto=` of the last `Forwarded` element (of the last header line), validated.
fn forwarded_values(
    headers: &HeaderList,
    note: &mut impl FnMut(&'static str, ForwardedError),
) -> (Said<Host>, Said<Scheme>) {
    let Some(value) = headers.get_all("forwarded").last() else {
        return (Said::Absent, Said::Absent);
    };
    let element = match forwarded_elements(value) {
        Ok(mut elements) => elements.pop().unwrap_or_default(),
        Err(error) => {
            note("forwarded", error);
            return (Said::Unusable, Said::Unusable);
        }
    };
    let (mut host, mut scheme) = (Said::Silent, Said::Silent);
    for (name, v) in element {
        match name.as_str() {
            "host" => host = Said::from_result(parse_host(&v), "forwarded", note),
            "proto" => scheme = Said::from_result(Scheme::parse(&v), "forwarded", note),
            _ => {}
        }
    }
    (host, scheme)
}

/// The last comma-separated item of the last `name` header line, parsed.
fn last_item<T>(
    headers: &HeaderList,
    name: &'static str,
    note: &mut impl FnMut(&'static str, ForwardedError),
    parse: impl FnOnce(&str) -> Result<T, ForwardedError>,
) -> Said<T> {
    match headers.get_all(name).last() {
        None => Said::Absent,
        Some(value) => Said::from_result(last_list_item(value).and_then(parse), name, note),
    }
}

/// The one value the two header families give. One family alone decides when it gives a
/// value. When both are there they must give the same value: anything else (different values,
/// one unusable or silent) means one of them came from the client, which could otherwise void
/// the proxy's header with a malformed prefix and supply the other family itself; that is a
/// `forwarded-conflict` (noted under `x_source`), and neither is used.
fn agreed<T: PartialEq>(
    forwarded: Said<T>,
    x_forwarded: Said<T>,
    x_source: &'static str,
    note: &mut impl FnMut(&'static str, ForwardedError),
) -> Option<T> {
    match (forwarded, x_forwarded) {
        (Said::Value(a), Said::Absent) | (Said::Absent, Said::Value(a)) => Some(a),
        (Said::Value(a), Said::Value(b)) if a == b => Some(a),
        (Said::Absent, _) | (_, Said::Absent) => None,
        _ => {
            note(x_source, ForwardedError::Conflict);
            None
        }
    }
}

fn guard_len(value: &str) -> Result<&str, ForwardedError> {
    if value.len() > MAX_FORWARDED_VALUE {
        Err(ForwardedError::TooLong)
    } else {
        Ok(value)
    }
}

fn last_list_item(value: &str) -> Result<&str, ForwardedError> {
    let value = guard_len(value)?;
    let last = value.rsplit(',').next().unwrap_or("").trim();
    if last.is_empty() {
        Err(ForwardedError::Empty)
    } else {
        Ok(last)
    }
}

fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// One `Forwarded` element: lowercased parameter names and unquoted values.
pub type ForwardedElement = Vec<(String, String)>;

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

/// Parses an RFC 7239 `Forwarded` value into its elements, in order (the last is the one the
/// nearest proxy added). Empty elements are skipped; any syntax error refuses the whole value,
/// so a client's malformed prefix can never shift which element counts as last.
pub fn forwarded_elements(value: &str) -> Result<Vec<ForwardedElement>, ForwardedError> {
    let value = guard_len(value)?;
    // Tabs are optional whitespace; other control characters are never allowed.
    if value.chars().any(|c| c.is_control() && c != '\t') {
        return Err(ForwardedError::ControlCharacter);
    }
    let mut chars = value.chars().peekable();
    let mut elements = Vec::new();
    loop {
        let element = forwarded_element(&mut chars)?;
        if !element.is_empty() {
            elements.push(element);
        }
        // `forwarded_element` stops only at a comma or the end.
        if chars.next().is_none() {
            break;
        }
    }
    if elements.is_empty() {
        return Err(ForwardedError::Empty);
    }
    Ok(elements)
}

fn skip_ws(chars: &mut Chars<'_>) {
    while matches!(chars.peek(), Some(' ') | Some('\t')) {
        chars.next();
    }
}

/// The pairs of one element, up to (not including) the `,` that ends it or the end.
fn forwarded_element(chars: &mut Chars<'_>) -> Result<ForwardedElement, ForwardedError> {
    let mut params: ForwardedElement = Vec::new();
    loop {
        skip_ws(chars);
        // Empty pairs (";;") are tolerated.
        match chars.peek() {
            None | Some(',') => return Ok(params),
            Some(';') => {
                chars.next();
                continue;
            }
            _ => {}
        }
        let (name, value) = forwarded_pair(chars)?;
        if params.iter().any(|(n, _)| *n == name) {
            return Err(ForwardedError::DuplicateParameter);
        }
        params.push((name, value));
        skip_ws(chars);
        match chars.peek() {
            None | Some(',') => return Ok(params),
            Some(';') => {
                chars.next();
            }
            Some(_) => return Err(ForwardedError::ForwardedSyntax),
        }
    }
}

/// `name=token` or `name="quoted string"`.
fn forwarded_pair(chars: &mut Chars<'_>) -> Result<(String, String), ForwardedError> {
    let mut name = String::new();
    while let Some(c) = chars.next_if(|c| is_tchar(*c)) {
        name.push(c.to_ascii_lowercase());
    }
    if name.is_empty() || chars.next() != Some('=') {
        return Err(ForwardedError::ForwardedSyntax);
    }
    if chars.next_if_eq(&'"').is_some() {
        return quoted_string(chars).map(|v| (name, v));
    }
    let mut v = String::new();
    while let Some(c) = chars.next_if(|c| is_tchar(*c)) {
        v.push(c);
    }
    if v.is_empty() {
        return Err(ForwardedError::ForwardedSyntax);
    }
    Ok((name, v))
}

/// The rest of a quoted string after its opening `"`, unescaped.
fn quoted_string(chars: &mut Chars<'_>) -> Result<String, ForwardedError> {
    let mut v = String::new();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Ok(v),
            '\\' => v.push(chars.next().ok_or(ForwardedError::UnterminatedQuote)?),
            _ => v.push(c),
        }
    }
    Err(ForwardedError::UnterminatedQuote)
}

/// True when a redirect to `url` is allowed: its host name equals an allowed entry's
/// (case-insensitively) and so does its port, a portless entry meaning the URL scheme's default
/// port (`app.example.com` allows `https://app.example.com`, never `:4444`). Anything
/// unparsable is refused.
pub fn redirect_allowed(url: &PublicUrl, allowed_hosts: &[String]) -> bool {
    let default = url.scheme.default_port();
    let port = url.port.unwrap_or(default);
    allowed_hosts
        .iter()
        .any(|entry| match parse_host(entry.trim()) {
            Ok(allowed) => allowed.name == url.host && allowed.port.unwrap_or(default) == port,
            Err(_) => false,
        })
}

/// True when `url` is an absolute http(s) URL whose host is allowed.
pub fn redirect_url_allowed(url: &str, allowed_hosts: &[String]) -> bool {
    PublicUrl::from_request_url(url).is_some_and(|u| redirect_allowed(&u, allowed_hosts))
}

/// The default `ALLOWED_HOSTS`: the request's own host and the hosts of `AUTHORIZED_PARTIES`
/// (origins such as `https://app.example.com`); unparsable parties are left out.
pub fn default_allowed_hosts(own_host: &str, authorized_parties: &[String]) -> Vec<String> {
    let mut out = vec![own_host.to_string()];
    for party in authorized_parties {
        if let Some(u) = PublicUrl::from_request_url(party.trim()) {
            let a = u.authority();
            if !out.contains(&a) {
                out.push(a);
            }
        }
    }
    out
}

/// The URL a sign-in redirect may return to: the derived public URL when its host is allowed,
/// otherwise the request's own URL (a spoofed host never lands in a redirect). The allowed hosts
/// are asked for only when the derived URL is not the request's own (most requests: no trusted
/// forwarded header changed it).
pub fn redirect_target(
    derived: &PublicUrl,
    own: &PublicUrl,
    allowed_hosts: impl FnOnce() -> Vec<String>,
) -> PublicUrl {
    if derived != own && redirect_allowed(derived, &allowed_hosts()) {
        derived.clone()
    } else {
        own.clone()
    }
}

#[cfg(test)]
mod ipv4_tests {
    use super::{all_numeric_labels, parse_ipv4};
    use proptest::prelude::*;

    /// The plain definitions the byte-wise versions must agree with.
    fn numeric_by_split(host: &str) -> bool {
        host.split('.')
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit()))
    }

    fn ipv4_by_split(host: &str) -> bool {
        let parts: Vec<&str> = host.split('.').collect();
        parts.len() == 4
            && parts.iter().all(|p| {
                !p.is_empty()
                    && p.len() <= 3
                    && !(p.len() > 1 && p.starts_with('0'))
                    && p.bytes().all(|b| b.is_ascii_digit())
                    && p.parse::<u16>().is_ok_and(|n| n <= 255)
            })
    }

    proptest! {
        #[test]
        fn byte_wise_ipv4_checks_agree_with_split(host in "[0-9.]{0,18}|[0-9a-z.+-]{0,10}|(25[0-9]|[0-9]{1,3})(\\.(25[0-9]|0[0-9]?|[0-9]{1,3})){2,4}") {
            prop_assert_eq!(all_numeric_labels(&host), numeric_by_split(&host));
            prop_assert_eq!(parse_ipv4(&host).is_ok(), ipv4_by_split(&host), "{}", host);
        }
    }

    #[test]
    fn dotted_quads() {
        for ok in ["127.0.0.1", "0.0.0.0", "255.255.255.255", "10.20.30.40"] {
            assert!(parse_ipv4(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            ".",
            "1.2.3",
            "1.2.3.4.",
            ".1.2.3.4",
            "1..2.3",
            "256.1.1.1",
            "01.2.3.4",
            "1.2.3.4.5",
            "1.2.3.1000",
            "+1.2.3.4",
            "1.2.3.a",
        ] {
            assert!(parse_ipv4(bad).is_err(), "{bad}");
        }
    }
}
