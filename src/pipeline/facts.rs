//! Phase `facts`: what a request is, before any token is looked at. The URL and its canonical
//! path (a refused path ends the request here), the public URL from the forwarded headers, the
//! gateway's own paths, whether it is a CORS preflight, the Bearer token and the cookies. The
//! result, [`Ctx`], is owned: a request waiting for a signature check keeps it in the request
//! table and picks up where it stopped.

use super::decision::Inbound;
use super::own_paths::GATEWAY_PREFIX;
use super::Request;
use crate::clerk::{ClerkCookies, HandshakeParams, PublishableKey};
use crate::config::Settings;
use crate::forwarded::{self, PublicUrl};
use crate::log::LogRecord;
use crate::proxy;
use crate::random::RandomDraw;
use crate::response::{self, AuthStatus, RefusalReason, Rejection};
use crate::routes::{self, PathError};
use crate::token_source::{self, CookieJar};
use std::rc::Rc;

/// One request's facts and what the phases found so far.
pub struct Ctx {
    /// The request as the runtime handed it.
    pub req: Request,
    /// `start`'s `now_ms` (Unix ms): the time for the whole request.
    pub now_ms: i64,
    /// The random bytes `start` was given (the request id's fallback, the handshake state),
    /// computed only if read.
    pub random: RandomDraw,
    /// The key set's generation when the request started (`Pipeline::key_generation`): a
    /// fetched key's check answered after the set changed counts as failed.
    pub key_generation: u64,
    /// `CF-Ray` when it is usable, otherwise `random`'s unique id in hex (`proxy::request_id`).
    pub request_id: String,
    /// The log record so far.
    pub log: LogRecord,
    /// The public URL, allow-listed for redirects (`forwarded::redirect_target`).
    pub public: PublicUrl,
    /// The canonical path: what is matched and what is forwarded.
    pub path: String,
    /// The query, without its `?`, when the URL has one.
    pub query: Option<String>,
    /// Under `/__edgegate/`.
    pub gateway_own: bool,
    /// A CORS preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`).
    pub preflight: bool,
    /// No session needed (public route, gateway path, preflight, the sign-in page).
    pub is_public: bool,
    /// `Authorization: Bearer <token>` (shared with the session phase's token source).
    pub bearer: Option<Rc<str>>,
    /// The request's cookies (name, value), in order.
    pub cookies: Vec<(String, String)>,
    /// Clerk's handshake parameters of the query, read on first use
    /// ([`Ctx::handshake_params`]).
    handshake_params: Option<Rc<HandshakeParams>>,
    /// Clerk's cookies as the publishable key names them, read on first use
    /// ([`Ctx::clerk_cookies`]).
    clerk_cookies: Option<Rc<ClerkCookies>>,
    /// Set by the handshake phase when a handshake was refused: the request is signed out for it.
    pub handshake_refused: Option<crate::clerk::Reason>,
    /// `Set-Cookie`s clearing a refused handshake, sent with whatever response follows.
    pub clear_cookies: Vec<String>,
    /// The outage probe already ran for this request.
    pub probed: bool,
}

impl Ctx {
    /// Clerk's handshake parameters of the query (`__clerk_handshake`, `__clerk_db_jwt`, the
    /// login-CSRF state), read once per request, and only by a request that needs them (with a
    /// publishable key).
    pub fn handshake_params(&mut self) -> Rc<HandshakeParams> {
        let Ctx {
            query,
            handshake_params,
            ..
        } = self;
        Rc::clone(
            handshake_params
                .get_or_insert_with(|| Rc::new(HandshakeParams::from_query(query.as_deref()))),
        )
    }

    /// A page load (`GET`/`HEAD` that a browser navigates to): a refusal answers with a page.
    /// Read where a refusal needs it, not for every request.
    pub fn page_load(&self) -> bool {
        response::is_page_load(&self.req.method, &self.req.headers)
    }

    /// A document navigation as Clerk's satellite rules read it (`GET` only).
    pub fn document_navigation(&self) -> bool {
        let headers = &self.req.headers;
        crate::clerk::is_document_navigation(
            &self.req.method,
            headers.get("sec-fetch-dest"),
            headers.get("accept"),
        )
    }

    /// Clerk's cookies (`__session`, `__client_uat`, the dev browser, the handshake's, each
    /// suffixed or not as Clerk picks), read once per request.
    pub fn clerk_cookies(&mut self, pk: &PublishableKey) -> Rc<ClerkCookies> {
        let Ctx {
            cookies,
            now_ms,
            clerk_cookies,
            ..
        } = self;
        Rc::clone(
            clerk_cookies
                .get_or_insert_with(|| Rc::new(ClerkCookies::read(cookies, Some(pk), *now_ms))),
        )
    }

    /// A borrowed view of the request, for the planners.
    pub fn inbound(&self) -> Inbound<'_> {
        Inbound {
            method: &self.req.method,
            url: &self.req.url,
            headers: &self.req.headers,
        }
    }
}

/// Reads the facts of `req`, or refuses it (a URL that does not parse, a refused path; boxed:
/// the refusal is the rare path).
pub fn read(
    req: Request,
    gw: &Settings,
    now_ms: i64,
    random: RandomDraw,
) -> Result<Ctx, Box<(Rejection, LogRecord)>> {
    let request_id = proxy::request_id(req.headers.get("cf-ray"), || random.unique_id());
    let mut log = LogRecord {
        request_id: request_id.clone(),
        method: req.method.clone(),
        auth_status: AuthStatus::SignedOut,
        token_source: "none",
        ..LogRecord::default()
    };
    let Some(own) = PublicUrl::from_request_url(&req.url) else {
        let reason = RefusalReason::BadUrl;
        return Err(refused(Rejection::BadRequest { reason }, log));
    };
    let (path, query) = match canonical_path_and_query(&own) {
        Ok(found) => found,
        Err(rejection) => return Err(refused(rejection, log)),
    };
    log.path = path.clone();
    let public = public_url(&req, &own, gw, &mut log);
    let gateway_own = path == GATEWAY_PREFIX || path.starts_with("/__edgegate/");
    let preflight = response::is_cors_preflight(&req.method, &req.headers);
    // Needed before the session, since public routes never start a handshake.
    let is_public = gateway_own || preflight || public_route(gw, &public, &path);
    let bearer = req
        .headers
        .get("authorization")
        .and_then(token_source::bearer_token)
        .map(Rc::from);
    let cookies = CookieJar::from_headers(&req.headers)
        .iter()
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    Ok(Ctx {
        req,
        now_ms,
        random,
        key_generation: 0,
        request_id,
        log,
        public,
        path,
        query,
        gateway_own,
        preflight,
        is_public,
        bearer,
        cookies,
        handshake_params: None,
        clerk_cookies: None,
        handshake_refused: None,
        clear_cookies: Vec::new(),
        probed: false,
    })
}

/// A request refused before its path is known: the log line names no path.
fn refused(rejection: Rejection, mut log: LogRecord) -> Box<(Rejection, LogRecord)> {
    log.path = "-".to_owned();
    Box::new((rejection, log))
}

/// The canonical path and the query (without its `?`), or the path's refusal (414 for one too
/// long, else 400).
fn canonical_path_and_query(own: &PublicUrl) -> Result<(String, Option<String>), Rejection> {
    let (raw_path, query) = match own.path_and_query.split_once('?') {
        Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
        None => (own.path_and_query.clone(), None),
    };
    match routes::canonical_path(&raw_path) {
        Ok(path) => Ok((path, query)),
        Err(PathError::TooLong) => Err(Rejection::UriTooLong {
            reason: RefusalReason::Path(PathError::TooLong),
        }),
        Err(e) => Err(Rejection::BadRequest {
            reason: RefusalReason::Path(e),
        }),
    }
}

/// The public URL the client used (from the forwarded headers when trusted), allow-listed for
/// redirects; the forwarded headers' issues go to the log.
fn public_url(req: &Request, own: &PublicUrl, gw: &Settings, log: &mut LogRecord) -> PublicUrl {
    let derived = forwarded::public_url(own, &req.headers, gw.hosts.trust_forwarded);
    log.forwarded_issues = derived
        .issues
        .iter()
        .map(|i| format!("{}:{}", i.source, i.error.code()))
        .collect();
    forwarded::redirect_target(&derived.url, own, || gw.hosts.allowed_hosts(own))
}

/// Whether the route needs no session: a public pattern, or the sign-in page on this host
/// unless a rule names it explicitly.
fn public_route(gw: &Settings, public: &PublicUrl, path: &str) -> bool {
    match gw.routes.classify(path) {
        routes::Access::Public => true,
        routes::Access::Protected { rules } => {
            gw.sign_in_is_here(public, path) && !routes::outranks_exemption(&rules)
        }
    }
}
