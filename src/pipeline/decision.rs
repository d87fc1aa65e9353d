//! What a phase decided ([`Decision`]: an [`Outcome`] and the log record so far), the one shape
//! every waiting phase returns ([`Next`]: go on, wait, or done), and the helpers that build a
//! decision: a refusal rendered (`refuse`), the gateway's JSON answers, a
//! browser redirect plan, the answer while the settings are invalid. Nothing here performs I/O
//! or reads a clock.

use crate::clerk;
use crate::http::HeaderList;
use crate::log::LogRecord;
use crate::proxy::ProxyPlan;
use crate::refusal::LogOutcome;
use crate::response::{self, AuthStatus, Rejection, ResponsePlan};
use serde_json::Value;

/// What the edge knows about a request, as plain data.
pub struct Inbound<'a> {
    /// The request method.
    pub method: &'a str,
    /// The full URL as the worker received it.
    pub url: &'a str,
    /// The request's headers.
    pub headers: &'a HeaderList,
}

/// What the edge must do.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Send this request to the origin.
    Proxy(ProxyPlan),
    /// Serve this asset (a www/ file at this URL) from the ASSETS binding.
    Asset {
        /// The asset's URL.
        url: String,
        /// The auth status the asset's response reports.
        auth_status: AuthStatus,
    },
    /// Send this response; nothing is fetched.
    Respond(ResponsePlan),
}

/// What a phase decided: what the edge must do, and the log record so far.
pub struct Decision {
    /// What the edge must do.
    pub outcome: Outcome,
    /// The request's log record.
    pub log: LogRecord,
}

/// Where a phase left a request, the one shape the handshake and session phases return: go on
/// to the next phase, wait for the outside world, or answer now. The chain (`chain.rs`) maps
/// each alike: `Go` into the next phase, `Wait` into a `Waiting` state with its step and
/// deadline, `Done` into the step that answers. (Authorise, the last phase, always ends in a
/// [`Decision`].)
pub enum Next<Go, Wait> {
    /// Go on to the next phase with this.
    Go(Go),
    /// Wait on this (a signature check, the outage probe); the same phase then takes the
    /// answer.
    Wait(Wait),
    /// Answer with this decision. Boxed: the rare, large variant, so a phase's result stays the
    /// size of what it goes on or waits with.
    Done(Box<Decision>),
}

pub(crate) fn refuse(rejection: Rejection, mut log: LogRecord) -> Decision {
    log.outcome = LogOutcome::Refused;
    log.reason = Some(rejection.reason());
    log.fault = Some(rejection.fault());
    log.auth_status = rejection.auth_status();
    Decision {
        outcome: Outcome::Respond(response::render(&rejection)),
        log,
    }
}

pub(crate) fn json_plan(status: u16, body: Value, auth_status: AuthStatus) -> ResponsePlan {
    ResponsePlan {
        status,
        headers: vec![
            (
                "Content-Type".to_owned(),
                "application/json; charset=utf-8".to_owned(),
            ),
            ("Cache-Control".to_owned(), "private, no-store".to_owned()),
            (
                "X-Edgegate-Auth-Status".to_owned(),
                auth_status.as_str().to_owned(),
            ),
            ("X-Content-Type-Options".to_owned(), "nosniff".to_owned()),
        ],
        body: body.to_string(),
    }
}

/// The answer while settings are invalid: 503 naming the problems on the health path, a 503
/// that points there everywhere else (a small HTML page for a page load), and the log line for
/// it, with `request_id` and the canonical path (`-` when the URL or path is refused).
pub fn misconfigured(inbound: &Inbound<'_>, problems: &[String], request_id: String) -> Decision {
    let path = crate::forwarded::PublicUrl::from_request_url(inbound.url)
        .and_then(|own| {
            let raw = own.path_and_query.split('?').next().unwrap_or_default();
            crate::routes::canonical_path(raw).ok()
        })
        .unwrap_or_else(|| "-".to_owned());
    let rejection = if path == "/__edgegate/health" {
        Rejection::HealthInvalid {
            problems: problems.to_vec(),
        }
    } else {
        Rejection::Misconfigured {
            page_load: response::is_page_load(inbound.method, inbound.headers),
        }
    };
    let log = LogRecord {
        request_id,
        method: inbound.method.to_owned(),
        path,
        token_source: "none",
        ..LogRecord::default()
    };
    refuse(rejection, log)
}

/// Turns the browser module's redirect plan into a response plan.
pub(crate) fn browser_plan(plan: clerk::RedirectPlan) -> ResponsePlan {
    let mut headers: Vec<(String, String)> = plan
        .headers
        .into_iter()
        .map(|(n, v)| (n.to_owned(), v))
        .collect();
    headers.push(("Location".to_owned(), plan.location));
    for cookie in plan.set_cookies {
        headers.push(("Set-Cookie".to_owned(), cookie));
    }
    ResponsePlan {
        status: plan.status,
        headers,
        body: String::new(),
    }
}

pub(crate) fn set_auth_status(plan: &mut ResponsePlan, status: AuthStatus) {
    for (name, value) in plan.headers.iter_mut() {
        if name.eq_ignore_ascii_case("x-edgegate-auth-status") {
            *value = status.as_str().to_owned();
        }
    }
}

/// Adds `Set-Cookie` headers that clear a refused handshake's cookies to whatever follows.
pub(crate) fn with_cleared_cookies(mut decision: Decision, clear: Vec<String>) -> Decision {
    if clear.is_empty() {
        return decision;
    }
    match &mut decision.outcome {
        Outcome::Respond(plan) => {
            for c in clear {
                plan.headers.push(("Set-Cookie".to_owned(), c));
            }
        }
        Outcome::Proxy(plan) => plan.extra_response_cookies = clear,
        _ => {}
    }
    decision
}
