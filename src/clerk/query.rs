//! Query strings: Clerk's handshake parameters and the URL rewrite that removes them.

use super::names::{DEV_BROWSER, HANDSHAKE, HANDSHAKE_HELP, LEGACY_DEV_BROWSER, STATE_NAME};

use crate::web_url::{raw_pairs, WebUrl as Url};

pub(crate) use crate::web_url::form_decode as decode_component;

/// The first value of query parameter `name` (names and values percent-decoded, `+` as space,
/// as `URLSearchParams.get`); an empty value counts as absent.
pub fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    raw_pairs(query?)
        .find_map(|(n, v)| (decode_component(n) == name).then(|| decode_component(v)))
        .filter(|v| !v.is_empty())
}

/// The handshake-related query parameters of a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HandshakeParams {
    /// `__clerk_handshake`
    pub handshake: Option<String>,
    /// `__clerk_db_jwt`
    pub dev_browser: Option<String>,
    /// `__edgegate_hs_state`
    pub state: Option<String>,
}

impl HandshakeParams {
    /// Reads them from a raw query string (without the `?`).
    pub fn from_query(query: Option<&str>) -> HandshakeParams {
        HandshakeParams {
            handshake: query_param(query, HANDSHAKE),
            dev_browser: query_param(query, DEV_BROWSER),
            state: query_param(query, STATE_NAME),
        }
    }
}

/// `url` with every query pair whose decoded name is in `remove` dropped, the other pairs kept
/// byte for byte, then `add` appended (already URL-safe), and the fragment dropped.
pub(crate) fn rewrite_url(url: &Url, remove: &[&str], add: Option<(&str, &str)>) -> String {
    let mut kept: Vec<String> = url
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty())
        .filter(|pair| {
            let name = pair.split_once('=').map_or(*pair, |(n, _)| n);
            !remove.contains(&decode_component(name).as_str())
        })
        .map(str::to_owned)
        .collect();
    if let Some((n, v)) = add {
        kept.push(format!("{n}={v}"));
    }
    let mut out = url.clone();
    out.set_fragment(None);
    out.set_query(None);
    let mut s = out.to_string();
    if !kept.is_empty() {
        s.push('?');
        s.push_str(&kept.join("&"));
    }
    s
}

/// `public` without the handshake's parameters ([`HANDSHAKE_PARAMS`]), as a sign-in's return
/// URL must be (or as it is, when it is no URL).
pub fn without_handshake_params(public: &str) -> String {
    match Url::parse(public) {
        Ok(url) => rewrite_url(&url, HANDSHAKE_PARAMS, None),
        Err(_) => public.to_owned(),
    }
}

/// Query parameters a handshake redirect or resolution removes from the public URL.
pub const HANDSHAKE_PARAMS: &[&str] = &[
    HANDSHAKE,
    HANDSHAKE_HELP,
    DEV_BROWSER,
    LEGACY_DEV_BROWSER,
    STATE_NAME,
];
