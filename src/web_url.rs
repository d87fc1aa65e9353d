//! Absolute http(s) URLs, read strictly: [`WebUrl`]. Settings, the request's own URL, an
//! origin's `Location` and the URLs a client hands the Clerk flows (`redirect_url`, `Referer`).
//!
//! Hand-written rather than the `url` crate (about 10 KB of the gzipped wasm): edgegate only
//! needs http(s) URLs, and it needs them stricter. A URL is accepted only in a form that the
//! WHATWG URL parser (browsers, the runtime) leaves as it is, apart from the scheme's and the
//! host's case, a default port and an empty path. So what edgegate checks (an origin, a host) is
//! what a browser will use, and anything a browser would rewrite is refused instead: backslashes,
//! tabs and other controls, non-ASCII, `.`/`..` segments, IPv4 hosts in other than four decimal
//! parts, hosts with characters outside letters, digits, `-`, `.` and `_`. The tests check the
//! accepted forms against the `url` crate's WHATWG parser.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Why a text is no acceptable http(s) URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlError {
    /// Not an absolute URL in the accepted form.
    Invalid,
    /// Absolute, with a scheme other than http or https.
    Scheme,
}

/// The host of a [`WebUrl`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host<'a> {
    /// A domain name, lower-cased.
    Domain(&'a str),
    /// An IPv4 address.
    Ipv4(Ipv4Addr),
    /// An IPv6 address.
    Ipv6(Ipv6Addr),
}

/// An absolute http(s) URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebUrl {
    https: bool,
    /// Lower-cased; an IPv6 address in brackets, in its canonical form.
    host: String,
    ip: Option<std::net::IpAddr>,
    /// `None` when absent or the scheme's default.
    port: Option<u16>,
    credentials: bool,
    path: String,
    query: Option<String>,
    fragment: Option<String>,
}

impl WebUrl {
    /// Reads `text` (leading and trailing spaces and controls ignored, as WHATWG does).
    pub fn parse(text: &str) -> Result<WebUrl, UrlError> {
        let text = text.trim_matches(|c: char| c <= ' ');
        let (scheme, rest) = text.split_once(':').ok_or(UrlError::Invalid)?;
        if scheme.is_empty()
            || !scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        {
            return Err(UrlError::Invalid);
        }
        let https = match scheme.to_ascii_lowercase().as_str() {
            "https" => true,
            "http" => false,
            _ => return Err(UrlError::Scheme),
        };
        if !rest.bytes().all(|b| (0x21..0x7f).contains(&b)) {
            return Err(UrlError::Invalid);
        }
        let rest = rest.strip_prefix("//").ok_or(UrlError::Invalid)?;
        let (before_fragment, fragment) = match rest.split_once('#') {
            Some((before, fragment)) => (before, Some(fragment)),
            None => (rest, None),
        };
        let (before_query, query) = match before_fragment.split_once('?') {
            Some((before, query)) => (before, Some(query)),
            None => (before_fragment, None),
        };
        // A backslash is a `/` to WHATWG in the authority and the path (and left alone in the
        // query and the fragment).
        if before_query.contains('\\') {
            return Err(UrlError::Invalid);
        }
        let authority_end = before_query.find('/').unwrap_or(before_query.len());
        let (authority, path) = before_query.split_at(authority_end);
        let (credentials, host_port) = match authority.rsplit_once('@') {
            Some((_, host_port)) => (true, host_port),
            None => (false, authority),
        };
        let (host, ip, port) = read_host_port(host_port, if https { 443 } else { 80 })?;
        let path = if path.is_empty() { "/" } else { path };
        let clean = path_ok(path)
            && query.is_none_or(|q| !q.bytes().any(|b| b"\"<>'".contains(&b)))
            && fragment.is_none_or(|f| !f.bytes().any(|b| b"\"<>`".contains(&b)));
        if !clean {
            return Err(UrlError::Invalid);
        }
        Ok(WebUrl {
            https,
            host,
            ip,
            port,
            credentials,
            path: path.to_owned(),
            query: query.map(str::to_owned),
            fragment: fragment.map(str::to_owned),
        })
    }

    /// [`WebUrl::parse`] after percent-encoding every non-ASCII byte as UTF-8, as WHATWG encodes
    /// a path or query (a non-ASCII host stays refused: `%` is no host character). For settings
    /// typed by hand and native callers; the runtime's URLs are already encoded.
    pub fn parse_encoding_non_ascii(text: &str) -> Result<WebUrl, UrlError> {
        if text.is_ascii() {
            return WebUrl::parse(text);
        }
        let encoded =
            percent_encoding::utf8_percent_encode(text, &percent_encoding::AsciiSet::EMPTY);
        WebUrl::parse(&encoded.to_string())
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> &'static str {
        if self.https {
            "https"
        } else {
            "http"
        }
    }

    /// The host as written in the URL (an IPv6 address in brackets), lower-cased.
    pub fn host_str(&self) -> &str {
        &self.host
    }

    /// The host by kind.
    pub fn host(&self) -> Host<'_> {
        match self.ip {
            Some(std::net::IpAddr::V4(a)) => Host::Ipv4(a),
            Some(std::net::IpAddr::V6(a)) => Host::Ipv6(a),
            None => Host::Domain(&self.host),
        }
    }

    /// The port, when one other than the scheme's default is given.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The port, or the scheme's default.
    pub fn port_or_default(&self) -> u16 {
        self.port.unwrap_or(if self.https { 443 } else { 80 })
    }

    /// Whether the URL carries a user name or password (which are never written back out).
    pub fn has_credentials(&self) -> bool {
        self.credentials
    }

    /// The path, from its `/`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The query without its `?`.
    pub fn query(&self) -> Option<&str> {
        self.query.as_deref()
    }

    /// The fragment without its `#`.
    pub fn fragment(&self) -> Option<&str> {
        self.fragment.as_deref()
    }

    /// `scheme://host[:port]`, the port only when it is not the scheme's default.
    pub fn origin(&self) -> String {
        match self.port {
            Some(port) => format!("{}://{}:{port}", self.scheme(), self.host),
            None => format!("{}://{}", self.scheme(), self.host),
        }
    }

    /// Replaces the path. `path` must start with `/` and hold only URL-safe characters.
    pub fn set_path(&mut self, path: &str) {
        path.clone_into(&mut self.path);
    }

    /// Replaces (or with `None` removes) the query.
    pub fn set_query(&mut self, query: Option<&str>) {
        self.query = query.map(str::to_owned);
    }

    /// Replaces (or with `None` removes) the fragment.
    pub fn set_fragment(&mut self, fragment: Option<&str>) {
        self.fragment = fragment.map(str::to_owned);
    }

    /// Appends `name=value` to the query, both form-encoded (`URLSearchParams.append`).
    pub fn append_pair(&mut self, name: &str, value: &str) {
        let query = self.query.get_or_insert_with(String::new);
        if !query.is_empty() {
            query.push('&');
        }
        form_encode_into(query, name);
        query.push('=');
        form_encode_into(query, value);
    }

    /// The query's pairs, form-decoded (`URLSearchParams`): `+` as a space, percent-decoded.
    pub fn query_pairs(&self) -> impl Iterator<Item = (String, String)> + '_ {
        raw_pairs(self.query.as_deref().unwrap_or(""))
            .map(|(name, value)| (form_decode(name), form_decode(value)))
    }
}

impl fmt::Display for WebUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.origin())?;
        f.write_str(&self.path)?;
        if let Some(query) = &self.query {
            write!(f, "?{query}")?;
        }
        if let Some(fragment) = &self.fragment {
            write!(f, "#{fragment}")?;
        }
        Ok(())
    }
}

impl From<WebUrl> for String {
    fn from(url: WebUrl) -> String {
        url.to_string()
    }
}

type HostPort = (String, Option<std::net::IpAddr>, Option<u16>);

/// `host[:port]`: a bracketed IPv6 address, a dotted-quad IPv4 address or a domain.
fn read_host_port(text: &str, default_port: u16) -> Result<HostPort, UrlError> {
    let (host, ip, port) = if let Some(inner) = text.strip_prefix('[') {
        let (address, after) = inner.split_once(']').ok_or(UrlError::Invalid)?;
        let address: Ipv6Addr = address.parse().map_err(|_| UrlError::Invalid)?;
        // An IPv4-mapped address is written with dots here and in hex by WHATWG: refused.
        if address.to_ipv4_mapped().is_some() {
            return Err(UrlError::Invalid);
        }
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':').ok_or(UrlError::Invalid)?),
        };
        (format!("[{address}]"), Some(address.into()), port)
    } else {
        let (host, port) = match text.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        };
        let host = host.to_ascii_lowercase();
        let ip = read_ipv4_or_domain(&host)?;
        (host, ip.map(Into::into), port)
    };
    let port = match port.filter(|p| !p.is_empty()) {
        None => None,
        Some(p) if p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => {
            let port: u16 = p.parse().map_err(|_| UrlError::Invalid)?;
            (port != default_port).then_some(port)
        }
        Some(_) => return Err(UrlError::Invalid),
    };
    Ok((host, ip, port))
}

/// A lower-cased host that is not an IPv6 literal: `Some` address for four decimal parts, `None`
/// for a domain. A host whose last label is a number (or looks hexadecimal) is an IPv4 address
/// to WHATWG, which reads `127.1` or `0x7f.1` as 127.0.0.1: only the plain form is accepted.
fn read_ipv4_or_domain(host: &str) -> Result<Option<Ipv4Addr>, UrlError> {
    let valid_chars = host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
    if host.is_empty() || !valid_chars || host.starts_with('.') || host.contains("..") {
        return Err(UrlError::Invalid);
    }
    let last = host
        .strip_suffix('.')
        .unwrap_or(host)
        .rsplit('.')
        .next()
        .unwrap_or("");
    let numeric = last.bytes().all(|b| b.is_ascii_digit()) || last.starts_with("0x");
    if !numeric {
        return Ok(None);
    }
    let plain_parts = host.split('.').count() == 4
        && host.split('.').all(|part| {
            part == "0" || (!part.starts_with('0') && !part.is_empty() && part.len() <= 3)
        });
    match host.parse::<Ipv4Addr>() {
        Ok(address) if plain_parts => Ok(Some(address)),
        _ => Err(UrlError::Invalid),
    }
}

/// A path WHATWG leaves as it is: no character it would percent-encode, no `.` or `..` segment
/// (in any spelling) that it would resolve.
fn path_ok(path: &str) -> bool {
    let dot_segment = |segment: &str| {
        let lower = segment.to_ascii_lowercase();
        matches!(
            lower.as_str(),
            "." | ".." | "%2e" | ".%2e" | "%2e." | "%2e%2e"
        )
    };
    path.starts_with('/')
        && !path.bytes().any(|b| b"\"<>`{}".contains(&b))
        && !path.split('/').any(dot_segment)
}

/// `application/x-www-form-urlencoded` encoding of one name or value (as `URLSearchParams`):
/// letters, digits and `*-._` as they are, a space as `+`, every other byte as `%XX`.
fn form_encode_into(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in text.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 15)]));
            }
        }
    }
}

/// A query's `name=value` pairs as written (empty pairs skipped, a pair without `=` has an
/// empty value), for callers that decode only what they look at.
pub fn raw_pairs(query: &str) -> impl Iterator<Item = (&str, &str)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
}

/// One form-encoded name or value decoded: `+` as a space, then percent-decoding (invalid
/// UTF-8 replaced).
pub fn form_decode(text: &str) -> String {
    let spaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

/// True for hosts where plain http is acceptable (local development and tests).
pub fn is_loopback_host(url: &WebUrl) -> bool {
    match url.host() {
        Host::Domain(d) => d == "localhost" || d.ends_with(".localhost"),
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What the `url` crate (WHATWG) makes of `text`, in this module's terms.
    fn whatwg(text: &str) -> Option<(String, String, Option<u16>, String)> {
        let u = url::Url::parse(text).ok()?;
        let host = match u.host()? {
            url::Host::Domain(d) => d.to_owned(),
            url::Host::Ipv4(a) => a.to_string(),
            url::Host::Ipv6(a) => format!("[{a}]"),
        };
        let mut stripped = u.clone();
        stripped.set_username("").ok()?;
        stripped.set_password(None).ok()?;
        Some((stripped.to_string(), host, u.port(), u.path().to_owned()))
    }

    #[test]
    fn accepted_urls_read_as_whatwg_reads_them() {
        for text in [
            "https://app.example.com",
            "HTTPS://App.Example.COM:443/a/b?x=1&y=%20#frag",
            "http://127.0.0.1:8787/api/data",
            "http://[::1]:8080/",
            "https://example.com:8443/p%zz/|^[]?q={a}|`\\#f'{}\\",
            "https://xn--bcher-kva.example/",
            "http://localhost.:3000/x",
            "  https://example.com/path  ",
            "https://user:pass@example.com/",
        ] {
            let ours = WebUrl::parse(text).unwrap_or_else(|e| panic!("{text}: {e:?}"));
            let (href, host, port, path) = whatwg(text).expect(text);
            assert_eq!(ours.to_string(), href, "{text}");
            assert_eq!(ours.host_str(), host, "{text}");
            assert_eq!(ours.port(), port, "{text}");
            assert_eq!(ours.path(), path, "{text}");
        }
    }

    #[test]
    fn forms_a_browser_would_rewrite_are_refused() {
        for text in [
            "https:example.com",
            "https:/example.com",
            "https:///example.com",
            "https://exa mple.com/",
            "https://example.com/a b",
            "https://example.com\\@evil.com/",
            "https://example.com/\t/",
            "https://ex\u{e4}mple.com/",
            "https://example.com/a/../b",
            "https://example.com/a/%2E%2e/b",
            "https://example.com/./",
            "http://127.1/",
            "http://0x7f.0.0.1/",
            "http://010.0.0.1/",
            "http://1.2.3.4.5/",
            "http://example.123/",
            "https://%65vil.com/",
            "https://a..b/",
            "https://.a/",
            "https:///",
            "https://",
            "https://example.com:99999/",
            "https://example.com:8a/",
            "https://[::1/",
            "https://[zz]/",
            "http://[::ffff:1.2.3.4]/",
            "http://[::ffff:7f00:1]:3000/",
            "https://example.com/<script>",
            "https://example.com/?q=\"x\"",
        ] {
            assert_eq!(
                WebUrl::parse(text).map(|u| u.to_string()),
                Err(UrlError::Invalid),
                "{text}"
            );
        }
        assert_eq!(WebUrl::parse("ftp://example.com/"), Err(UrlError::Scheme));
        assert_eq!(WebUrl::parse("javascript:alert(1)"), Err(UrlError::Scheme));
        assert_eq!(WebUrl::parse("/relative"), Err(UrlError::Invalid));
    }

    #[test]
    fn pairs_are_appended_and_read_as_url_search_params() {
        let mut ours = WebUrl::parse("https://a.example/p?x=1#f").expect("url");
        let mut theirs = url::Url::parse("https://a.example/p?x=1#f").expect("url");
        for (name, value) in [
            ("redirect_url", "https://b.example/?q=a b&c=ä"),
            ("k*-._", "~!'()"),
        ] {
            ours.append_pair(name, value);
            theirs.query_pairs_mut().append_pair(name, value);
        }
        assert_eq!(ours.to_string(), theirs.as_str());
        let pairs: Vec<_> = ours.query_pairs().collect();
        let expected: Vec<_> = theirs
            .query_pairs()
            .map(|(n, v)| (n.into_owned(), v.into_owned()))
            .collect();
        assert_eq!(pairs, expected);
        let mut empty = WebUrl::parse("https://a.example").expect("url");
        empty.append_pair("a", "b");
        assert_eq!(empty.to_string(), "https://a.example/?a=b");
    }

    #[test]
    fn hosts_by_kind_and_origins() {
        let v6 = WebUrl::parse("http://[0:0::1]:80/").expect("v6");
        assert_eq!(v6.host(), Host::Ipv6(Ipv6Addr::LOCALHOST));
        assert_eq!(v6.origin(), "http://[::1]");
        assert_eq!(v6.port_or_default(), 80);
        let v4 = WebUrl::parse("https://10.0.0.1:8443").expect("v4");
        assert_eq!(v4.host(), Host::Ipv4(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(v4.origin(), "https://10.0.0.1:8443");
        let domain = WebUrl::parse("https://App.Example.com/").expect("domain");
        assert_eq!(domain.host(), Host::Domain("app.example.com"));
        assert!(WebUrl::parse("https://u@a.example/")
            .expect("creds")
            .has_credentials());
    }

    proptest! {
        // Whatever is accepted, WHATWG reads the same way (serialization, host, port, path).
        #[test]
        fn agrees_with_whatwg_on_what_it_accepts(
            scheme in "(http|https|HTTP)",
            host in "([a-zA-Z0-9_.-]{1,12}|[0-9]{1,3}(\\.[0-9]{1,3}){0,4}|\\[[0-9a-f:.]{2,16}\\])",
            port in proptest::option::of("[0-9]{0,6}"),
            rest in "[!-~]{0,24}",
        ) {
            let text = format!("{scheme}://{host}{}{rest}", port.map(|p| format!(":{p}")).unwrap_or_default());
            if let Ok(ours) = WebUrl::parse(&text) {
                let (href, whost, wport, wpath) = whatwg(&text).ok_or_else(|| TestCaseError::fail(format!("WHATWG refuses {text}")))?;
                prop_assert_eq!(ours.to_string(), href);
                prop_assert_eq!(ours.host_str(), whost);
                prop_assert_eq!(ours.port(), wport);
                prop_assert_eq!(ours.path(), wpath);
            }
        }
    }
}
