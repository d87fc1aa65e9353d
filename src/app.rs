//! The request pipeline as a pure function: a request's facts in, an [`Outcome`] out.
//!
//! Phases, in order: `url` (parse) → `path` (canonicalise) → `gateway` (`/__edgegate/*`) →
//! `public_url` (forwarded headers) → `preflight` → `token` (find, verify through the cache and
//! the signature backend) → `route` (public / rule) → `authorise` → `plan` (proxy header plan
//! or refusal). The edge executes the outcome; nothing here performs I/O or reads a clock.

use crate::auth::Auth;
use crate::authenticate::{signed_claims, SignatureBackend};
use crate::cache::TokenCache;
use crate::config::{ConfigError, Gate, PreflightMode};
use crate::forwarded::{self, PublicUrl};
use crate::http::HeaderList;
use crate::proxy::{self, Origin, ProxySettings, RequestFacts};
use crate::response::{self, AuthStatus, Rejection, ResponsePlan};
use crate::routes::{self, Access, RouteTable};
use crate::session::{self, TokenSource};
use crate::token::{SessionClaims, TokenError};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::rc::Rc;

/// Every setting the gateway reads (the edge looks each up once per isolate).
pub const SETTING_NAMES: &[&str] = &[
    "CLERK_JWT_KEY",
    "AUTHORIZED_PARTIES",
    "ORIGIN_URL",
    "PUBLIC_ROUTES",
    "ROUTE_RULES",
    "SIGN_IN_URL",
    "CLOCK_SKEW_MS",
    "ISSUER",
    "AUDIENCE",
    "AZP_MISSING",
    "PENDING_SESSIONS",
    "MAX_TOKEN_BYTES",
    "PUBLISHABLE_KEY",
    "FRONTEND_API_URL",
    "OUTAGE_GRACE_SECONDS",
    "TRUST_FORWARDED",
    "ALLOWED_HOSTS",
    "UPSTREAM_TIMEOUT_MS",
    "ORIGIN_ASSERTION_SECRET",
    "FORWARD_CLAIMS",
    "FORWARD_TOKEN",
    "CORS_PREFLIGHT",
];

/// The gateway's own path prefix; every other path belongs to the origin.
pub const GATEWAY_PREFIX: &str = "/__edgegate";

/// What the edge knows about a request, as plain data.
pub struct Inbound<'a> {
    pub method: &'a str,
    /// The full URL as the worker received it.
    pub url: &'a str,
    pub headers: &'a HeaderList,
}

/// Settings plus everything derived from them once per isolate.
pub struct Gateway {
    pub gate: Gate,
    pub routes: RouteTable,
    pub origin: Origin,
    pub proxy: ProxySettings,
    pub cookie_suffix: Option<String>,
    /// Hosts of `AUTHORIZED_PARTIES`, for the default `ALLOWED_HOSTS`.
    party_hosts: Vec<String>,
}

impl Gateway {
    pub fn from_settings<F: Fn(&str) -> Option<String>>(
        lookup: &F,
    ) -> Result<Gateway, Vec<ConfigError>> {
        let gate = Gate::from_settings(lookup)?;
        let mut problems = Vec::new();
        let mut routes = RouteTable::from_settings(&gate.public_routes_raw, &gate.route_rules_raw)
            .unwrap_or_else(|e| {
                let setting = if e.setting == "PUBLIC_ROUTES" {
                    "PUBLIC_ROUTES"
                } else {
                    "ROUTE_RULES"
                };
                problems.push(ConfigError {
                    setting,
                    problem: e.to_string(),
                });
                RouteTable::default()
            });
        if let Some(path) = gate.sign_in_url.as_deref().filter(|u| u.starts_with('/')) {
            let path_only = path.split(['?', '#']).next().unwrap_or(path);
            if routes.add_always_public(path_only).is_err() {
                problems.push(ConfigError {
                    setting: "SIGN_IN_URL",
                    problem: "path is not usable".to_owned(),
                });
            }
        }
        let origin = Origin::parse(gate.origin.as_str()).map_err(|e| {
            vec![ConfigError {
                setting: "ORIGIN_URL",
                problem: e.code().to_owned(),
            }]
        })?;
        if let Some(bad) = gate
            .forward_claims
            .iter()
            .find(|c| !proxy::valid_claim_name(c))
        {
            let _ = bad;
            problems.push(ConfigError {
                setting: "FORWARD_CLAIMS",
                problem: "claim names must be header tokens of at most 64 characters".to_owned(),
            });
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let cookie_suffix = gate
            .publishable_key
            .as_deref()
            .and_then(session::cookie_suffix);
        let proxy = ProxySettings {
            forward_token: gate.forward_token,
            forward_claims: gate.forward_claims.clone(),
            assertion_secret: gate.origin_assertion_secret.clone(),
            assertion_audience: origin.origin(),
        };
        let party_hosts = forwarded::default_allowed_hosts("", &gate.validation.authorized_parties)
            .into_iter()
            .filter(|h| !h.is_empty())
            .collect();
        Ok(Gateway {
            gate,
            routes,
            origin,
            proxy,
            cookie_suffix,
            party_hosts,
        })
    }

    fn allowed_hosts(&self, own: &PublicUrl) -> Vec<String> {
        match &self.gate.allowed_hosts {
            Some(hosts) => hosts.clone(),
            None => {
                let mut hosts = vec![own.authority()];
                hosts.extend(self.party_hosts.iter().cloned());
                hosts
            }
        }
    }
}

/// A request the edge must send to the origin.
#[derive(Debug, Clone)]
pub struct ProxyPlan {
    pub url: String,
    pub method: String,
    pub headers: Vec<(String, String)>,
    /// False for preflights and bodiless methods.
    pub forward_body: bool,
    pub timeout_ms: u64,
    pub auth_status: AuthStatus,
    origin: Origin,
    public: PublicUrl,
}

/// What the edge must do.
#[derive(Debug, Clone)]
pub enum Outcome {
    Proxy(ProxyPlan),
    /// Serve this path (inside www/) from the ASSETS binding.
    Asset {
        path: String,
        auth_status: AuthStatus,
    },
    Respond(ResponsePlan),
}

/// One JSON log line per request; never tokens, secrets or header values.
#[derive(Debug, Clone, Default)]
pub struct LogRecord {
    pub request_id: String,
    pub method: String,
    pub path: String,
    pub outcome: &'static str,
    pub auth_status: &'static str,
    pub reason: Option<&'static str>,
    pub detail: Option<&'static str>,
    pub fault: Option<&'static str>,
    pub token_source: &'static str,
    pub forwarded_issues: Vec<String>,
}

impl LogRecord {
    pub fn to_json(&self, status: u16, duration_ms: f64) -> String {
        json!({
            "request_id": self.request_id,
            "method": self.method,
            "path": self.path,
            "outcome": self.outcome,
            "status": status,
            "auth_status": self.auth_status,
            "reason": self.reason,
            "detail": self.detail,
            "fault": self.fault,
            "token_source": self.token_source,
            "forwarded_issues": self.forwarded_issues,
            "duration_ms": duration_ms,
        })
        .to_string()
    }
}

pub struct Decision {
    pub outcome: Outcome,
    pub log: LogRecord,
}

const BODILESS: &[&str] = &["GET", "HEAD", "OPTIONS"];

fn refuse(rejection: Rejection, mut log: LogRecord) -> Decision {
    log.outcome = "refused";
    log.reason = Some(rejection.code());
    log.fault = Some(rejection.fault().as_str());
    log.auth_status = rejection.auth_status().as_str();
    Decision {
        outcome: Outcome::Respond(response::render(&rejection)),
        log,
    }
}

fn json_plan(status: u16, body: Value, auth_status: AuthStatus) -> ResponsePlan {
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

/// The answer while settings are invalid: 503 naming the settings on the health path, a
/// generic 500 everywhere else.
pub fn misconfigured(inbound: &Inbound<'_>, problems: &[String]) -> ResponsePlan {
    let path = url::Url::parse(inbound.url)
        .map(|u| u.path().to_owned())
        .unwrap_or_default();
    if path == "/__edgegate/health" {
        response::render(&Rejection::HealthInvalid {
            problems: problems.to_vec(),
        })
    } else {
        response::render(&Rejection::Misconfigured)
    }
}

/// The URL the edge fetches from ASSETS for a www/ path.
pub fn asset_url(request_url: &str, path: &str) -> String {
    match url::Url::parse(request_url) {
        Ok(u) => format!("{}{}", u.origin().ascii_serialization(), path),
        Err(_) => format!("http://assets.invalid{path}"),
    }
}

/// The origin response's headers as the client gets them.
pub fn response_headers(
    plan: &ProxyPlan,
    status: u16,
    origin_headers: &[(String, String)],
) -> Vec<(String, String)> {
    proxy::response_headers(
        &HeaderList::from(origin_headers.to_vec()),
        status,
        &plan.origin,
        &plan.public,
        plan.auth_status,
    )
}

/// The session as `/__edgegate/session` and the CLI show it.
pub fn session_json(auth: &Auth) -> Value {
    let mut v = serde_json::to_value(auth).unwrap_or(Value::Null);
    if let Some(obj) = v.as_object_mut() {
        obj.insert("expires_at".to_owned(), json!(auth.expires_at));
    }
    v
}

/// Runs the pipeline for one request.
pub async fn handle<B: SignatureBackend>(
    inbound: &Inbound<'_>,
    gw: &Gateway,
    now_ms: i64,
    random: [u8; 32],
    cache: &RefCell<TokenCache>,
    backend: &B,
) -> Decision {
    let mut id_bytes = [0u8; 16];
    id_bytes.copy_from_slice(random.get(..16).unwrap_or(&[0u8; 16]));
    let request_id = proxy::request_id(inbound.headers.get("cf-ray"), &id_bytes);
    let mut log = LogRecord {
        request_id: request_id.clone(),
        method: inbound.method.to_owned(),
        auth_status: AuthStatus::SignedOut.as_str(),
        token_source: "none",
        ..LogRecord::default()
    };

    // Phase `url`.
    let Some(own) = PublicUrl::from_request_url(inbound.url) else {
        return refuse(Rejection::BadRequest { reason: "bad-url" }, log);
    };
    let raw_path = own
        .path_and_query
        .split('?')
        .next()
        .unwrap_or("/")
        .to_owned();
    let query = own
        .path_and_query
        .split_once('?')
        .map(|(_, q)| q.to_owned());

    // Phase `path`.
    let path = match routes::canonical_path(&raw_path) {
        Ok(p) => p,
        Err(e) => {
            log.path = "-".to_owned();
            return refuse(Rejection::BadRequest { reason: e.code() }, log);
        }
    };
    log.path = path.clone();

    // Phase `public_url`.
    let derived = forwarded::public_url(&own, inbound.headers, gw.gate.trust_forwarded);
    log.forwarded_issues = derived
        .issues
        .iter()
        .map(|i| format!("{}:{}", i.source, i.error.code()))
        .collect();
    let allowed_hosts = gw.allowed_hosts(&own);
    let public = forwarded::redirect_target(&derived.url, &own, &allowed_hosts);

    // Phase `token`.
    let source = session::find_session_token(inbound.headers, gw.cookie_suffix.as_deref());
    log.token_source = source.kind();
    let preflight = response::is_cors_preflight(inbound.method, inbound.headers);
    let auth: Result<Rc<SessionClaims>, TokenError> = match (&source, preflight) {
        (_, true) | (TokenSource::None, _) => Err(TokenError::Missing),
        (src, false) => {
            let token = src.token().unwrap_or_default();
            let validation = &gw.gate.validation;
            let keep_ms = validation
                .clock_skew_ms
                .saturating_add(gw.gate.outage_grace_seconds.saturating_mul(1000));
            match signed_claims(
                token,
                &gw.gate.keys,
                validation.max_token_bytes,
                cache,
                keep_ms,
                now_ms,
                backend,
            )
            .await
            {
                Ok(claims) => claims.check(validation, now_ms).map(|()| claims),
                Err(e) => Err(e),
            }
        }
    };
    if let Err(e) = &auth {
        log.detail = e.detail();
    }
    let auth_status = if auth.is_ok() {
        AuthStatus::SignedIn
    } else {
        AuthStatus::SignedOut
    };
    log.auth_status = auth_status.as_str();

    // Phase `gateway`: the gateway's own paths.
    if path == GATEWAY_PREFIX || path.starts_with("/__edgegate/") {
        return gateway_path(inbound, gw, &path, auth, auth_status, log);
    }

    // Phase `preflight`.
    if preflight {
        return match gw.gate.preflight {
            PreflightMode::PassToOrigin => {
                log.outcome = "proxy-preflight";
                let plan = proxy_plan(
                    inbound,
                    gw,
                    None,
                    &public,
                    &path,
                    query.as_deref(),
                    &request_id,
                    now_ms,
                    AuthStatus::SignedOut,
                );
                Decision {
                    outcome: Outcome::Proxy(plan),
                    log,
                }
            }
            PreflightMode::AnswerAtEdge => {
                log.outcome = "preflight";
                let mut plan = json_plan(204, Value::Null, AuthStatus::SignedOut);
                plan.body = String::new();
                plan.headers.retain(|(n, _)| n != "Content-Type");
                Decision {
                    outcome: Outcome::Respond(plan),
                    log,
                }
            }
        };
    }

    // Phase `route` and `authorise`.
    let sign_in_public = sign_in_is_here(gw, &public, &path);
    let access = if sign_in_public {
        Access::Public
    } else {
        gw.routes.classify(&path)
    };
    match (access, auth) {
        (Access::Public, auth) => {
            log.outcome = "proxy";
            let status = if auth.is_ok() {
                AuthStatus::SignedIn
            } else {
                AuthStatus::SignedOut
            };
            let plan = proxy_plan(
                inbound,
                gw,
                auth.as_ref().ok().map(|c| &c.auth),
                &public,
                &path,
                query.as_deref(),
                &request_id,
                now_ms,
                status,
            );
            Decision {
                outcome: Outcome::Proxy(plan),
                log,
            }
        }
        (Access::Protected { .. }, Err(e)) => {
            let page_load = response::is_page_load(inbound.method, inbound.headers);
            let sign_in = gw
                .gate
                .sign_in_url
                .as_deref()
                .map(|target| sign_in_target(target, &public))
                .map(|target| response::sign_in_location(&target, &public.to_string()));
            refuse(
                Rejection::Unauthenticated {
                    reason: e.code(),
                    page_load,
                    sign_in,
                },
                log,
            )
        }
        (Access::Protected { rules }, Ok(auth)) => {
            if let Err(forbidden) = routes::authorize_all(&rules, &auth.auth) {
                return refuse(
                    Rejection::Forbidden {
                        reason: forbidden.code(),
                    },
                    log,
                );
            }
            log.outcome = "proxy";
            let plan = proxy_plan(
                inbound,
                gw,
                Some(&auth.auth),
                &public,
                &path,
                query.as_deref(),
                &request_id,
                now_ms,
                AuthStatus::SignedIn,
            );
            Decision {
                outcome: Outcome::Proxy(plan),
                log,
            }
        }
    }
}

/// `SIGN_IN_URL` as an absolute URL: a path is resolved against the public origin.
fn sign_in_target(configured: &str, public: &PublicUrl) -> String {
    if configured.starts_with('/') {
        format!("{}{}", public.origin(), configured)
    } else {
        configured.to_owned()
    }
}

/// True when this request is for the sign-in page itself on this host (always public, so the
/// sign-in redirect cannot loop).
fn sign_in_is_here(gw: &Gateway, public: &PublicUrl, canonical: &str) -> bool {
    let Some(configured) = gw.gate.sign_in_url.as_deref() else {
        return false;
    };
    if configured.starts_with('/') {
        return false; // already in the route table as always public
    }
    match PublicUrl::from_request_url(configured) {
        Some(target) => {
            let target_path = target.path_and_query.split('?').next().unwrap_or("/");
            target.authority() == public.authority()
                && routes::canonical_path(target_path).is_ok_and(|p| p == canonical)
        }
        None => false,
    }
}

#[allow(clippy::too_many_arguments)]
fn proxy_plan(
    inbound: &Inbound<'_>,
    gw: &Gateway,
    auth: Option<&Auth>,
    public: &PublicUrl,
    path: &str,
    query: Option<&str>,
    request_id: &str,
    now_ms: i64,
    auth_status: AuthStatus,
) -> ProxyPlan {
    let path_and_query = match query {
        Some(q) => format!("{path}?{q}"),
        None => path.to_owned(),
    };
    let facts = RequestFacts {
        method: inbound.method,
        headers: inbound.headers,
        auth,
        public_url: public,
        client_ip: inbound.headers.get("cf-connecting-ip"),
        request_id,
        path_and_query: &path_and_query,
        grace: false,
        now: now_ms.div_euclid(1000),
    };
    let preflight = response::is_cors_preflight(inbound.method, inbound.headers);
    ProxyPlan {
        url: gw.origin.join(path, query),
        method: inbound.method.to_owned(),
        headers: proxy::plan_headers(&facts, &gw.proxy),
        forward_body: !preflight && !BODILESS.contains(&inbound.method),
        timeout_ms: gw.gate.upstream_timeout_ms,
        auth_status,
        origin: gw.origin.clone(),
        public: public.clone(),
    }
}

fn gateway_path(
    inbound: &Inbound<'_>,
    gw: &Gateway,
    path: &str,
    auth: Result<Rc<SessionClaims>, TokenError>,
    auth_status: AuthStatus,
    mut log: LogRecord,
) -> Decision {
    let readable = inbound.method == "GET" || inbound.method == "HEAD";
    if !readable {
        return refuse(
            Rejection::MethodNotAllowed {
                reason: "method-not-allowed",
            },
            log,
        );
    }
    match path {
        "/__edgegate/health" => {
            log.outcome = "health";
            let body = json!({
                "valid": true,
                "version": env!("CARGO_PKG_VERSION"),
                "keys": gw.gate.keys.labels(),
                "algorithms": gw.gate.keys.keys.iter().map(|k| k.alg().as_str()).collect::<Vec<_>>(),
                "trust_forwarded": gw.gate.trust_forwarded,
            });
            Decision {
                outcome: Outcome::Respond(json_plan(200, body, auth_status)),
                log,
            }
        }
        "/__edgegate/session" => match auth {
            Ok(auth) => {
                log.outcome = "session";
                Decision {
                    outcome: Outcome::Respond(json_plan(
                        200,
                        session_json(&auth.auth),
                        AuthStatus::SignedIn,
                    )),
                    log,
                }
            }
            Err(e) => refuse(
                Rejection::Unauthenticated {
                    reason: e.code(),
                    page_load: false,
                    sign_in: None,
                },
                log,
            ),
        },
        _ => {
            log.outcome = "asset";
            let rest = path.strip_prefix(GATEWAY_PREFIX).unwrap_or("/");
            let asset = if rest.is_empty() || rest == "/" {
                "/index.html".to_owned()
            } else {
                rest.to_owned()
            };
            Decision {
                outcome: Outcome::Asset {
                    path: asset,
                    auth_status,
                },
                log,
            }
        }
    }
}
