//! Phase `respond`: the fetched response as the client gets it. The origin's headers pass the
//! response-side plan (hop-by-hop removed, `Connection` and `Keep-Alive` left to the runtime,
//! `Location` rewritten, `Vary` for signed-in responses, the auth status added); an
//! unauthenticated preflight gets the origin's status and CORS headers only; a WebSocket upgrade passes untouched; a failed or slow origin gets the
//! gateway's 502 or 504.

use super::decision::{self, Outcome};
use crate::config::Reporting;
use crate::http::{HeaderEdit, HeaderList};
use crate::log::LogRecord;
use crate::machine::{Fetched, OriginFetch, Step};
use crate::proxy::{self, ProxyPlan};
use crate::response::{self, AuthStatus, Rejection};

/// An origin fetch in flight: what the response side needs of the plan.
pub struct OriginWait {
    /// The proxy plan without its edits (the fetch carries them).
    pub plan: ProxyPlan,
    /// The request's log record.
    pub log: LogRecord,
}

/// The fetch to hand the caller, and what to keep while it runs (the plan without its edits,
/// which the fetch now carries).
pub fn origin_fetch(mut plan: ProxyPlan, log: LogRecord) -> (OriginFetch, OriginWait) {
    let fetch = OriginFetch {
        method: std::mem::take(&mut plan.method),
        url: std::mem::take(&mut plan.url),
        edits: std::mem::take(&mut plan.edits),
        forward_body: plan.forward_body,
        timeout_ms: plan.timeout_ms,
    };
    (fetch, OriginWait { plan, log })
}

/// The client's response to an origin fetch. `reporting` (`LOG_REQUESTS`,
/// `AUTH_STATUS_HEADER`) may leave out the log line and the status header of a response the
/// origin gave.
pub fn origin(
    wait: OriginWait,
    fetched: Fetched,
    headers: &HeaderList,
    reporting: Reporting,
) -> Step {
    let OriginWait { plan, mut log } = wait;
    if matches!(fetched, Fetched::Response(_)) && !plan.preflight {
        log.quiet = !reporting.log_allowed;
    }
    match fetched {
        Fetched::Response(status) if plan.preflight => Step::Respond {
            plan: proxy::preflight_response(status, headers),
            log,
        },
        Fetched::Response(101) => Step::PassThrough { log },
        Fetched::Response(status) => {
            let mut edits = plan.response_edits(status, headers, reporting.status_header);
            edits.retain(|edit| !is_dropped_by_runtime(edit));
            Step::Stream { status, edits, log }
        }
        Fetched::TimedOut => refused(
            Rejection::OriginTimeout {
                auth: plan.auth_status,
            },
            log,
        ),
        Fetched::Failed => refused(
            Rejection::OriginUnreachable {
                auth: plan.auth_status,
            },
            log,
        ),
    }
}

/// Response headers the runtime never sends to an HTTP client (workerd, and Cloudflare's edge
/// in front of it, own the client connection): deleting them from a copy would change nothing
/// the client gets, and the copy is the only edit many responses need (a response with no edit
/// passes untouched). A header that `Connection` names is still deleted here. (A caller reading
/// the Response in JavaScript, through a service binding, would see them as the origin sent
/// them.)
const CONNECTION_LEVEL: [&str; 2] = ["connection", "keep-alive"];

fn is_dropped_by_runtime(edit: &HeaderEdit) -> bool {
    matches!(edit, HeaderEdit::Delete(name) if CONNECTION_LEVEL.contains(&name.as_ref()))
}

/// The client's response to an asset fetch: the asset with the auth status, or 500 (no
/// `ASSETS` binding is a deployment mistake).
pub fn asset(auth: AuthStatus, log: LogRecord, fetched: Fetched) -> Step {
    match fetched {
        Fetched::Response(status) => Step::Stream {
            status,
            edits: vec![
                HeaderEdit::Delete("x-edgegate-auth-status".into()),
                HeaderEdit::Append("X-Edgegate-Auth-Status".into(), auth.as_str().to_owned()),
            ],
            log,
        },
        // A deployment fault the settings cannot show: the JSON answer (the log line says why).
        _ => refused(Rejection::Misconfigured { page_load: false }, log),
    }
}

fn refused(rejection: Rejection, log: LogRecord) -> Step {
    let d = decision::refuse(rejection, log);
    match d.outcome {
        Outcome::Respond(plan) => Step::Respond { plan, log: d.log },
        _ => Step::Respond {
            plan: response::render(&Rejection::Misconfigured { page_load: false }),
            log: d.log,
        },
    }
}
