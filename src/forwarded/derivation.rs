//! Deriving the public URL from the request's own URL and, with trust on, the forwarded
//! headers: [`public_url`] and its result [`Derived`].

use super::agreement::{agreed, Said};
use super::elements::forwarded_elements;
use super::host::{parse_host, Host};
use super::issue::{ForwardedError, Issue};
use super::limits::guard_len;
use super::public_url::PublicUrl;
use super::scheme::Scheme;
use crate::http::HeaderList;

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

fn last_list_item(value: &str) -> Result<&str, ForwardedError> {
    let value = guard_len(value)?;
    let last = value.rsplit(',').next().unwrap_or("").trim();
    if last.is_empty() {
        Err(ForwardedError::Empty)
    } else {
        Ok(last)
    }
}
