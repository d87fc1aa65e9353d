//! The proxy plan: the request the gateway sends to the origin ([`ProxyPlan`], built by
//! [`proxy_plan`]) and what the response side needs of it ([`ProxyPlan::response_edits`],
//! [`preflight_response`]).

use super::{Origin, ProxySettings, RequestFacts};
use crate::auth::Auth;
use crate::forwarded::PublicUrl;
use crate::http::{HeaderEdit, HeaderList, RenderedHeaders};
use crate::response::{self, AuthStatus, RefusalReason, ResponsePlan};
use std::rc::Rc;

/// A request the edge must send to the origin.
#[derive(Debug, Clone)]
pub struct ProxyPlan {
    /// The origin URL to fetch: `ORIGIN_URL` joined with the canonical path and query.
    pub url: String,
    /// The request method, sent as it came.
    pub method: String,
    /// The edits that turn the request's headers into those sent to the origin
    /// (`proxy::request_edits`; the edge applies them to its copy of the request's headers).
    pub edits: Vec<HeaderEdit>,
    /// False for preflights and bodiless methods.
    pub forward_body: bool,
    /// `UPSTREAM_TIMEOUT_MS`: how long to wait for the origin's response headers.
    pub timeout_ms: u64,
    /// The request's auth status, sent to the client in `X-Edgegate-Auth-Status`.
    pub auth_status: AuthStatus,
    /// `Set-Cookie`s the gateway adds to the origin's response (clearing a refused handshake).
    pub extra_response_cookies: Vec<String>,
    /// A CORS preflight passed to the origin without a token: the client gets the origin's
    /// status and CORS headers only ([`preflight_response`]).
    pub preflight: bool,
    origin: Rc<Origin>,
    public: PublicUrl,
}

const BODILESS: &[&str] = &["GET", "HEAD", "OPTIONS"];

/// The request a plan is made for, and what the phases decided about it.
pub struct PlanRequest<'a> {
    /// The request method.
    pub method: &'a str,
    /// The request's headers.
    pub headers: &'a HeaderList,
    /// The verified identity, if any.
    pub auth: Option<&'a Auth>,
    /// Where the verified token's cache entry keeps its identity headers, once rendered.
    pub identity: Option<&'a RenderedHeaders>,
    /// The public URL the client used.
    pub public: &'a PublicUrl,
    /// The canonical path.
    pub path: &'a str,
    /// The query, without its `?`.
    pub query: Option<&'a str>,
    /// The request id sent as `X-Request-Id`.
    pub request_id: &'a str,
    /// The time the request arrived, in ms since the epoch.
    pub now_ms: i64,
    /// The request's auth status.
    pub auth_status: AuthStatus,
    /// Why a signed-out request is signed out (`X-Auth-Reason`).
    pub signed_out_reason: Option<RefusalReason>,
}

/// Where a plan sends the request: the origin, the proxy settings and `UPSTREAM_TIMEOUT_MS`.
pub struct Upstream<'a> {
    /// `ORIGIN_URL`.
    pub origin: &'a Rc<Origin>,
    /// What is stripped from and added to the request.
    pub settings: &'a ProxySettings,
    /// How long to wait for the origin's response headers.
    pub timeout_ms: u64,
}

/// The plan for sending `request` to `upstream`.
pub fn proxy_plan(request: &PlanRequest<'_>, upstream: &Upstream<'_>) -> ProxyPlan {
    // A preflight passed to the origin is unauthenticated: like a request without
    // FORWARD_TOKEN, it carries none of Clerk's token-bearing parameters.
    let preflight = response::is_cors_preflight(request.method, request.headers);
    let stripped;
    let query = if upstream.settings.forward_token && !preflight {
        request.query
    } else {
        stripped = super::strip_token_params(request.query);
        stripped.as_deref()
    };
    let path_and_query = upstream.origin.path_and_query(request.path, query);
    let facts = RequestFacts {
        method: request.method,
        headers: request.headers,
        auth: request.auth,
        public_url: request.public,
        client_ip: request.headers.get("cf-connecting-ip"),
        request_id: request.request_id,
        path_and_query: &path_and_query,
        grace: request.auth_status == AuthStatus::Grace,
        signed_out_reason: request.signed_out_reason,
        now: request.now_ms.div_euclid(1000),
    };
    ProxyPlan {
        url: upstream.origin.join(request.path, query),
        method: request.method.to_owned(),
        edits: super::request_edits_kept(&facts, upstream.settings, preflight, request.identity),
        forward_body: !preflight && !BODILESS.contains(&request.method),
        timeout_ms: upstream.timeout_ms,
        auth_status: request.auth_status,
        origin: Rc::clone(upstream.origin),
        public: request.public.clone(),
        extra_response_cookies: Vec::new(),
        preflight,
    }
}

impl ProxyPlan {
    /// The edits that give the origin response's headers as the client gets them, with the
    /// `Set-Cookie`s that clear a refused handshake's cookies.
    pub fn response_edits(
        &self,
        status: u16,
        origin_headers: &HeaderList,
        status_header: bool,
    ) -> Vec<HeaderEdit> {
        let mut edits = super::response_edits(
            origin_headers,
            status,
            &self.origin,
            &self.public,
            self.auth_status,
            status_header,
        );
        for cookie in &self.extra_response_cookies {
            edits.push(HeaderEdit::Append("Set-Cookie".into(), cookie.clone()));
        }
        edits
    }
}

/// What an unauthenticated CORS preflight passed to the origin gives the client: the origin's
/// status and its `Access-Control-*` headers, no body and no other header, so a preflight
/// (which carries no token by design) can never read a protected route's content.
pub fn preflight_response(status: u16, origin_headers: &HeaderList) -> ResponsePlan {
    let headers = origin_headers
        .iter()
        .filter(|(name, _)| {
            name.get(..15)
                .is_some_and(|p| p.eq_ignore_ascii_case("access-control-"))
        })
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    ResponsePlan {
        status,
        headers,
        body: String::new(),
    }
}
