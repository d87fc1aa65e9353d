//! Responses the gateway makes itself, as data: the coarse [`Rejection`] a client sees, whose
//! fault it is, and the ONE mapping [`render`] to status, headers and body. Also the request
//! classifiers that choose between a redirect and a 401 (`is_page_load`) and the CORS preflight
//! test. Pure; bodies never carry internal detail (that goes to logs).

use crate::http::HeaderList;
pub use crate::refusal::RefusalReason;
use crate::routes::{Forbidden, Reverification};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::json;

/// `X-Edgegate-Auth-Status` values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AuthStatus {
    /// `signed-in`: a verified session.
    SignedIn,
    /// `signed-out`: no valid session (the default).
    #[default]
    SignedOut,
    /// `handshake`: a redirect to Clerk's handshake, or back from it.
    Handshake,
    /// `grace`: an expired session accepted under outage grace.
    Grace,
}

impl AuthStatus {
    /// The header value.
    pub fn as_str(&self) -> &'static str {
        match self {
            AuthStatus::SignedIn => "signed-in",
            AuthStatus::SignedOut => "signed-out",
            AuthStatus::Handshake => "handshake",
            AuthStatus::Grace => "grace",
        }
    }
}

/// Whose fault a refusal is (for logs and alerting).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// `client`: the request itself was refused (session, rules, path, method).
    Client,
    /// `origin`: the origin could not be reached or did not answer in time.
    Origin,
    /// `config`: the settings are invalid, or the deployment is incomplete.
    Config,
    /// The gateway's own limits (requests in flight).
    Gateway,
}

impl Fault {
    /// The code the log line's `fault` carries.
    pub fn as_str(&self) -> &'static str {
        match self {
            Fault::Client => "client",
            Fault::Origin => "origin",
            Fault::Config => "config",
            Fault::Gateway => "gateway",
        }
    }
}

/// A refusal or a gateway-made answer. Reasons are [`RefusalReason`]s, whose codes are stable
/// (`token-expired`, `missing-role`, `path-encoded-slash`, ...), never free text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// No valid session. `sign_in` is the complete redirect target (see [`sign_in_location`]),
    /// used only for page loads.
    Unauthenticated {
        /// Why there is no session.
        reason: RefusalReason,
        /// A browser page load ([`is_page_load`]): a redirect or an HTML page rather than JSON.
        page_load: bool,
        /// The sign-in redirect target, when `SIGN_IN_URL` is set.
        sign_in: Option<String>,
    },
    /// Signed in, but the route's rules (or the organisation the URL names) say no: 403 JSON
    /// for API calls, a 403 page for page loads.
    Forbidden {
        /// The rule that said no.
        reason: RefusalReason,
        /// A browser page load ([`is_page_load`]).
        page_load: bool,
    },
    /// Signed in with every right, but a rule wants a fresher factor verification
    /// (`reverification-required`): 403 with Clerk's reverification error body for API calls,
    /// a 403 page for page loads.
    ReverificationRequired {
        /// The requirement not met (sent as Clerk's `metadata.reverification`).
        need: Reverification,
        /// A browser page load ([`is_page_load`]).
        page_load: bool,
    },
    /// The request itself is unusable (e.g. a refused path).
    BadRequest {
        /// What is wrong with the request.
        reason: RefusalReason,
    },
    /// The path, canonicalised, is longer than the gateway takes (414).
    UriTooLong {
        /// The path's error (`path-too-long`).
        reason: RefusalReason,
    },
    /// A method the gateway's own paths do not take (they are read-only).
    MethodNotAllowed {
        /// The reason (`method-not-allowed`).
        reason: RefusalReason,
    },
    /// The origin could not be reached. `auth` is the request's session state.
    OriginUnreachable {
        /// The request's auth status.
        auth: AuthStatus,
    },
    /// The origin did not answer within `UPSTREAM_TIMEOUT_MS`.
    OriginTimeout {
        /// The request's auth status.
        auth: AuthStatus,
    },
    /// Settings are invalid: a deliberate 503 that names no setting and points at the health path
    /// (the log line and health name the problems), so an unconfigured deploy is never a silent 500.
    /// JSON, or for a page load a small HTML page saying the same to whoever opened it.
    Misconfigured {
        /// A browser page load ([`is_page_load`]).
        page_load: bool,
    },
    /// The gateway cannot take the request now (503 with `Retry-After`): too many requests in
    /// flight (`gateway-busy`), or one it no longer knows (`request-expired`).
    Unavailable {
        /// `gateway-busy` or `request-expired`.
        reason: RefusalReason,
    },
    /// `GET /__edgegate/health` with invalid settings: 503 naming the settings (never values).
    HealthInvalid {
        /// The names of the invalid settings.
        problems: Vec<String>,
    },
}

impl Rejection {
    /// The reason, whose code is sent in `X-Edgegate-Auth-Reason`.
    pub fn reason(&self) -> RefusalReason {
        match self {
            Rejection::Unauthenticated { reason, .. }
            | Rejection::Forbidden { reason, .. }
            | Rejection::BadRequest { reason }
            | Rejection::UriTooLong { reason }
            | Rejection::MethodNotAllowed { reason }
            | Rejection::Unavailable { reason } => *reason,
            Rejection::ReverificationRequired { need, .. } => {
                RefusalReason::Forbidden(Forbidden::ReverificationRequired(*need))
            }
            Rejection::OriginUnreachable { .. } => RefusalReason::OriginUnreachable,
            Rejection::OriginTimeout { .. } => RefusalReason::OriginTimeout,
            Rejection::Misconfigured { .. } | Rejection::HealthInvalid { .. } => {
                RefusalReason::Misconfigured
            }
        }
    }

    /// The reason's stable code.
    pub fn code(&self) -> &'static str {
        self.reason().code()
    }

    /// Whose fault the refusal is.
    pub fn fault(&self) -> Fault {
        match self {
            Rejection::Unauthenticated { .. }
            | Rejection::Forbidden { .. }
            | Rejection::ReverificationRequired { .. }
            | Rejection::BadRequest { .. }
            | Rejection::UriTooLong { .. }
            | Rejection::MethodNotAllowed { .. } => Fault::Client,
            Rejection::OriginUnreachable { .. } | Rejection::OriginTimeout { .. } => Fault::Origin,
            Rejection::Misconfigured { .. } | Rejection::HealthInvalid { .. } => Fault::Config,
            Rejection::Unavailable { .. } => Fault::Gateway,
        }
    }

    /// The auth status the response reports: signed in for 403, the request's for 502 and 504,
    /// otherwise signed out.
    pub fn auth_status(&self) -> AuthStatus {
        match self {
            Rejection::Forbidden { .. } | Rejection::ReverificationRequired { .. } => {
                AuthStatus::SignedIn
            }
            Rejection::OriginUnreachable { auth } | Rejection::OriginTimeout { auth } => *auth,
            _ => AuthStatus::SignedOut,
        }
    }
}

/// A response to send: the edge turns it into a runtime `Response` without deciding anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponsePlan {
    /// The HTTP status.
    pub status: u16,
    /// The headers, in order.
    pub headers: Vec<(String, String)>,
    /// The body (empty for none).
    pub body: String,
}

impl ResponsePlan {
    /// The first value of header `name` (any case), if any.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

const JSON: &str = "application/json; charset=utf-8";
const HTML: &str = "text/html; charset=utf-8";
/// The `WWW-Authenticate` value sent with every 401.
pub const WWW_AUTHENTICATE: &str = "Bearer error=\"invalid_token\"";

fn h(name: &str, value: &str) -> (String, String) {
    (name.to_string(), value.to_string())
}

/// Renders a rejection. This is the only place a refusal becomes HTTP.
pub fn render(rejection: &Rejection) -> ResponsePlan {
    let mut headers = vec![
        h("Cache-Control", "private, no-store"),
        h("X-Edgegate-Auth-Status", rejection.auth_status().as_str()),
        h("X-Edgegate-Auth-Reason", rejection.code()),
        h("X-Content-Type-Options", "nosniff"),
    ];
    let (status, content_type, body) = match page_answer(rejection, &mut headers) {
        Some(answer) => answer,
        None => api_answer(rejection, &mut headers),
    };
    if let Some(ct) = content_type {
        headers.push(h("Content-Type", ct));
    }
    ResponsePlan {
        status,
        headers,
        body,
    }
}

/// Status, content type and body of a rendered rejection.
type Answer = (u16, Option<&'static str>, String);

/// A browser page load's answer: the sign-in redirect or a small HTML page; `None` for every
/// other rejection (they are answered as JSON).
fn page_answer(rejection: &Rejection, headers: &mut Vec<(String, String)>) -> Option<Answer> {
    let answer = match rejection {
        Rejection::Unauthenticated {
            page_load: true,
            sign_in: Some(location),
            ..
        } => {
            headers.push(h("Location", location));
            (307, None, String::new())
        }
        Rejection::Unauthenticated {
            reason,
            page_load: true,
            sign_in: None,
        } => {
            headers.push(h("WWW-Authenticate", WWW_AUTHENTICATE));
            html_answer(headers, 401, signed_out_page(reason.code()))
        }
        Rejection::Forbidden {
            reason,
            page_load: true,
        } => html_answer(headers, 403, forbidden_page(reason.code())),
        Rejection::ReverificationRequired {
            need,
            page_load: true,
        } => html_answer(headers, 403, reverification_page(need)),
        Rejection::Misconfigured { page_load: true } => {
            html_answer(headers, 503, misconfigured_page())
        }
        _ => return None,
    };
    Some(answer)
}

/// One of the gateway's HTML pages, which load nothing and style themselves inline.
fn html_answer(headers: &mut Vec<(String, String)>, status: u16, page: String) -> Answer {
    headers.push(h(
        "Content-Security-Policy",
        "default-src 'none'; style-src 'unsafe-inline'",
    ));
    (status, Some(HTML), page)
}

/// The JSON answer, for API calls and for every rejection that has no page.
fn api_answer(rejection: &Rejection, headers: &mut Vec<(String, String)>) -> Answer {
    let (status, body) = match rejection {
        Rejection::Unauthenticated { reason, .. } => {
            headers.push(h("WWW-Authenticate", WWW_AUTHENTICATE));
            (
                401,
                json!({"error": "unauthenticated", "reason": reason.code()}),
            )
        }
        Rejection::Forbidden { reason, .. } => {
            (403, json!({"error": "forbidden", "reason": reason.code()}))
        }
        Rejection::ReverificationRequired { need, .. } => (403, reverification_error(need)),
        Rejection::BadRequest { reason } => (
            400,
            json!({"error": "bad-request", "reason": reason.code()}),
        ),
        Rejection::UriTooLong { reason } => (
            414,
            json!({"error": "uri-too-long", "reason": reason.code()}),
        ),
        Rejection::MethodNotAllowed { reason } => {
            headers.push(h("Allow", "GET, HEAD"));
            (
                405,
                json!({"error": "method-not-allowed", "reason": reason.code()}),
            )
        }
        Rejection::OriginUnreachable { .. } => (502, json!({"error": "origin-unreachable"})),
        Rejection::OriginTimeout { .. } => (504, json!({"error": "origin-timeout"})),
        Rejection::Misconfigured { .. } => (
            503,
            json!({"error": "misconfigured", "health": "/__edgegate/health"}),
        ),
        Rejection::Unavailable { reason } => {
            headers.push(h("Retry-After", "1"));
            (
                503,
                json!({"error": "unavailable", "reason": reason.code()}),
            )
        }
        Rejection::HealthInvalid { problems } => {
            (503, json!({"valid": false, "problems": problems}))
        }
    };
    (status, Some(JSON), body.to_string())
}

/// The small page for signed-out page loads when no `SIGN_IN_URL` is configured. The reason is
/// a static code, so nothing from the request is reflected.
fn signed_out_page(reason: &str) -> String {
    html_page(
        "Sign in required",
        "You need to be signed in to view this page.",
        reason,
    )
}

fn forbidden_page(reason: &str) -> String {
    html_page(
        "Access denied",
        "You are signed in, but this page is not open to you (for instance: another organisation's, or a role you do not have).",
        reason,
    )
}

/// The page a browser gets while the settings are invalid: whoever opened it learns the site is
/// not set up yet, and whoever runs it where the problems are listed. It names no setting, so a
/// visitor learns nothing of the deployment that health would not tell them.
fn misconfigured_page() -> String {
    html_page(
        "Gateway not configured",
        "This site's gateway (edgegate) is running, but its settings are missing or invalid, so it serves no pages yet. \
If you run this site: <a href=\"/__edgegate/health\">/__edgegate/health</a> lists each setting that needs fixing, \
and edgegate's settings (docs/settings.md, linked from its README) say what each one takes.",
        "misconfigured",
    )
}

/// The gateway's small HTML page: a title, one line of text (the gateway's own words and markup,
/// never anything from the request) and the reason code (reduced to `a-z0-9-`, so nothing from
/// the request can reach the markup).
fn html_page(title: &str, text: &str, reason: &str) -> String {
    let safe: String = reason
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title}</title>\
<style>body{{font-family:system-ui,sans-serif;display:grid;place-items:center;min-height:100vh;margin:0;background:#f6f7f9;color:#1f2328}}\
main{{background:#fff;padding:2rem 2.5rem;border-radius:12px;box-shadow:0 1px 3px rgba(0,0,0,.12);max-width:28rem}}\
h1{{font-size:1.25rem;margin:0 0 .5rem}}p{{margin:.25rem 0;color:#57606a}}code{{font-size:.85em}}</style>\
</head><body><main><h1>{title}</h1>\
<p>{text}</p>\
<p>Reason: <code>{safe}</code></p></main></body></html>\n"
    )
}

/// Clerk's reverification error (`reverificationError` in `@clerk/shared`), which Clerk's
/// `useReverification` recognises and answers with its verification modal:
/// `{"clerk_error":{"type":"forbidden","reason":"reverification-error","metadata":
/// {"reverification":{"level":...,"afterMinutes":...}}}}`.
pub fn reverification_error(need: &Reverification) -> serde_json::Value {
    json!({
        "clerk_error": {
            "type": "forbidden",
            "reason": "reverification-error",
            "metadata": {
                "reverification": {
                    "level": need.level.as_str(),
                    "afterMinutes": need.after_minutes,
                }
            }
        }
    })
}

/// The page for a page load that needs reverification: Clerk has no URL to send a browser to
/// for it (its modal runs in the app), so the page says so. Nothing from the request is shown.
fn reverification_page(need: &Reverification) -> String {
    let text = format!(
        "This page needs you to verify your identity again ({level}, within {minutes} minutes). Verify again from the app, then reload this page.",
        level = need.level.as_str(),
        minutes = need.after_minutes,
    );
    html_page("Verification required", &text, "reverification-required")
}

/// Characters left as-is in a query component: RFC 3986 unreserved.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `SIGN_IN_URL` with `redirect_url=<return_to>` (percent-encoded) appended to its query, before
/// any fragment.
pub fn sign_in_location(sign_in_url: &str, return_to: &str) -> String {
    let (base, fragment) = match sign_in_url.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (sign_in_url, None),
    };
    let sep = if base.ends_with('?') || base.ends_with('&') {
        ""
    } else if base.contains('?') {
        "&"
    } else {
        "?"
    };
    let mut out = format!(
        "{base}{sep}redirect_url={}",
        utf8_percent_encode(return_to, COMPONENT)
    );
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

/// The one navigation classifier: `Sec-Fetch-Dest` `document` or `iframe` (an empty one counts
/// as absent, as in Clerk), or, without it, an `Accept` that starts with `text/html`. The
/// methods that may be redirected are the caller's: [`is_page_load`] for the sign-in redirect,
/// `clerk::is_eligible` for Clerk's handshake (`GET` only).
pub fn is_navigation(sec_fetch_dest: Option<&str>, accept: Option<&str>) -> bool {
    match sec_fetch_dest.map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => d.eq_ignore_ascii_case("document") || d.eq_ignore_ascii_case("iframe"),
        None => accept.is_some_and(|a| {
            a.trim_start()
                .get(..9)
                .is_some_and(|p| p.eq_ignore_ascii_case("text/html"))
        }),
    }
}

/// A browser navigation that may be redirected to sign in: `GET`/`HEAD` and
/// [`is_navigation`].
pub fn is_page_load(method: &str, headers: &HeaderList) -> bool {
    (method == "GET" || method == "HEAD")
        && is_navigation(headers.get("sec-fetch-dest"), headers.get("accept"))
}

/// A CORS preflight: `OPTIONS` with `Origin` and `Access-Control-Request-Method`.
pub fn is_cors_preflight(method: &str, headers: &HeaderList) -> bool {
    method == "OPTIONS"
        && headers.contains("origin")
        && headers.contains("access-control-request-method")
}
