//! The public URL: [`PublicUrl`], read from the request's own URL (a fast split of an
//! already-serialized URL, else the general reader `WebUrl`), its authority and origin.

use super::host::{parse_host, parse_port, Host};
use super::ipv4::is_dotted_quad;
use super::scheme::Scheme;
use crate::web_url::WebUrl;
use std::fmt;

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
        && !host.as_bytes().windows(4).any(|w| w == b"xn--")
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
        && !has_dot_segment_mark(path);
    let query_ok = query.is_none_or(|q| {
        q.bytes()
            .all(|b| printable(b) && !matches!(b, b'"' | b'<' | b'>' | b'\''))
    });
    (path_ok && query_ok).then_some((scheme, authority, path_and_query))
}

/// Whether `path` holds `/.` or `%2e` in any case: a dot segment, plain or encoded, which the
/// general reader must resolve. Bytes, not `contains`: this runs for every request.
fn has_dot_segment_mark(path: &str) -> bool {
    path.as_bytes()
        .windows(3)
        .any(|w| matches!(w, [b'/', b'.', _] | [b'%', b'2', b'e' | b'E']))
        || path.ends_with("/.")
}

/// Appends `:port` when there is one.
pub fn push_port(out: &mut String, port: Option<u16>) {
    if let Some(port) = port {
        out.push(':');
        out.push_str(itoa::Buffer::new().format(port));
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
