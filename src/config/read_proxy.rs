//! The proxy: the origin of `ORIGIN_URL` with the outbound header plan's settings, forwarded
//! headers and hosts, the upstream timeout, CORS preflights, and what an allowed request reports
//! (`LOG_REQUESTS`, `AUTH_STATUS_HEADER`).

use super::reader::Reader;
use super::setting_names as name;
use super::settings::{PreflightMode, Reporting, DEFAULT_UPSTREAM_TIMEOUT_MS};
use crate::proxy::{HeaderPattern, Origin, ProxySettings};
use crate::web_url::WebUrl as Url;

/// `LOG_REQUESTS` and `AUTH_STATUS_HEADER`.
pub(super) fn read_reporting<F: Fn(&str) -> Option<String>>(r: &mut Reader<'_, F>) -> Reporting {
    let log_allowed = !matches!(
        r.choice(name::LOG_REQUESTS, &["all", "refusals"]),
        Some("refusals")
    );
    Reporting {
        log_allowed,
        status_header: r.bool(name::AUTH_STATUS_HEADER, true),
    }
}

/// What the proxy reader found; `origin` is `ORIGIN_URL` parsed, with the outbound header
/// plan's settings.
pub(super) struct ProxyRead {
    pub(super) origin: Option<(Origin, ProxySettings)>,
    pub(super) trust_forwarded: bool,
    pub(super) allowed_hosts: Option<Vec<String>>,
    pub(super) upstream_timeout_ms: u64,
    pub(super) preflight: PreflightMode,
}

/// The proxy: `TRUST_FORWARDED`, `ALLOWED_HOSTS`, `UPSTREAM_TIMEOUT_MS`,
/// `ORIGIN_ASSERTION_SECRET`, `FORWARD_CLAIMS`, `FORWARD_TOKEN`, `STRIP_REQUEST_HEADERS`,
/// `CORS_PREFLIGHT`, and the origin of `ORIGIN_URL`.
pub(super) fn read_proxy<F: Fn(&str) -> Option<String>>(
    r: &mut Reader<'_, F>,
    origin_url: Option<Url>,
) -> ProxyRead {
    let trust_forwarded = r.bool(name::TRUST_FORWARDED, false);
    let hosts = r.list(name::ALLOWED_HOSTS);
    let allowed_hosts =
        (!hosts.is_empty()).then(|| hosts.into_iter().map(|h| h.to_ascii_lowercase()).collect());
    let upstream_timeout_ms = r.int(
        name::UPSTREAM_TIMEOUT_MS,
        DEFAULT_UPSTREAM_TIMEOUT_MS as i64,
        1,
        600_000,
    ) as u64;
    let assertion_secret = r.raw(name::ORIGIN_ASSERTION_SECRET).and_then(|s| {
        if s.len() < 32 {
            r.problem(
                name::ORIGIN_ASSERTION_SECRET,
                "must be at least 32 characters (use a random value)",
            );
            None
        } else {
            Some(s.into_bytes())
        }
    });
    let forward_claims = read_forward_claims(r);
    let forward_token = r.bool(name::FORWARD_TOKEN, true);
    let strip_request_headers = read_strip_request_headers(r);
    let preflight = match r.choice(name::CORS_PREFLIGHT, &["origin", "edge"]) {
        Some("edge") => PreflightMode::AnswerAtEdge,
        _ => PreflightMode::PassToOrigin,
    };
    let origin = origin_url.and_then(|u| match Origin::parse(&u.to_string()) {
        Ok(o) => Some(o),
        Err(e) => {
            r.problem(name::ORIGIN_URL, e.code());
            None
        }
    });
    let origin = origin.map(|origin| {
        let proxy = ProxySettings {
            forward_token,
            strip_request_headers,
            forward_claims,
            assertion_secret,
            assertion_audience: origin.origin(),
        };
        (origin, proxy)
    });
    ProxyRead {
        origin,
        trust_forwarded,
        allowed_hosts,
        upstream_timeout_ms,
        preflight,
    }
}

/// `FORWARD_CLAIMS`: claim names of letters, digits, `_` and `-`, at most 64 characters.
fn read_forward_claims<F: Fn(&str) -> Option<String>>(r: &mut Reader<'_, F>) -> Vec<String> {
    let forward_claims = r.list(name::FORWARD_CLAIMS);
    let problem = forward_claims.iter().find_map(|name| {
        let charset = name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !charset {
            Some("claim names may only use letters, digits, '_' and '-'")
        } else if !crate::proxy::valid_claim_name(name) {
            Some("claim names must be at most 64 characters")
        } else {
            None
        }
    });
    if let Some(problem) = problem {
        r.problem(name::FORWARD_CLAIMS, problem);
    }
    forward_claims
}

/// `STRIP_REQUEST_HEADERS`: header names or name prefixes ending in `*`.
fn read_strip_request_headers<F: Fn(&str) -> Option<String>>(
    r: &mut Reader<'_, F>,
) -> Vec<HeaderPattern> {
    let mut patterns = Vec::new();
    for entry in r.list(name::STRIP_REQUEST_HEADERS) {
        match HeaderPattern::parse(&entry) {
            Some(p) => patterns.push(p),
            None => {
                r.problem(
                    name::STRIP_REQUEST_HEADERS,
                    "each entry must be a header name, or a name prefix ending in *",
                );
                break;
            }
        }
    }
    patterns
}
