//! The edge core: one request as a sans-IO state machine, in the manner of rustls's unbuffered
//! API. [`Pipeline::start`] runs a request's phases until one needs the outside world and
//! returns a [`Step`] saying what the caller must do; the caller does it and hands the result
//! back with [`Pipeline::resume`], and the request goes on exactly where it stopped. Nothing is
//! guessed or replayed, and no Rust future is parked across a JavaScript await: a waiting
//! request's state lives in the bounded [`RequestTable`].
//!
//! Phases, in order, each in the module named for what it decides:
//! [`facts`] (URL, canonical path, public URL, own paths) → [`handshake`] (a browser back from
//! Clerk's Frontend API) → [`session`] (token source, cache, signature, policy, grace, Clerk's
//! cookie rules) → [`authorise`] (gateway paths, preflights, route rules, the proxy plan or the
//! refusal) → [`respond`] (the fetched response as the client gets it). Refusals become HTTP in
//! one place, `response::render`.
//!
//! Pure: time, randomness and settings come in as parameters; no `worker` or JavaScript types.

pub mod authorise;
pub mod decision;
pub mod facts;
pub mod handshake;
pub mod key_refresh;
pub mod key_state;
pub mod own_paths;
pub mod request_table;
pub mod respond;
pub mod session;
pub mod warm_up;

use crate::authenticate::PendingToken;
use crate::cache::{TokenCache, DEFAULT_CAPACITY};
use crate::clerk::{self, OutageProbe, PROBE_TIMEOUT_MS};
use crate::config::ConfigError;
use crate::config::Settings;
use crate::keys::Alg;
use crate::log::LogRecord;
pub use crate::machine::{Event, Fetched, OriginFetch, Request, SignatureQuestion, Step};
use crate::random::RandomDraw;
use crate::response::{AuthStatus, RefusalReason, Rejection, ResponsePlan};
use crate::token::Candidates;
use decision::{Decision, Inbound, Outcome};
use facts::Ctx;
use key_state::KeyState;
pub use request_table::{RequestId, RequestTable};
use session::{Session, Source, TokenCheck, Verified};
use std::rc::Rc;

/// At most this many requests wait per isolate (for a signature check, the outage probe or a
/// fetch). A new request that would wait while the table is full is refused at once with 503
/// and `Retry-After`; the requests already waiting are not touched.
pub const MAX_REQUESTS_IN_FLIGHT: usize = 8192;

/// How long a signature check may take before its request is dropped.
const VERIFY_DEADLINE_MS: i64 = 10_000;
/// How long past `UPSTREAM_TIMEOUT_MS` (or the probe's timeout) a request may wait for the
/// caller's answer before it is dropped.
const DEADLINE_SLACK_MS: i64 = 10_000;

/// A request waiting for the outside world.
enum Waiting {
    Handshake {
        ctx: Box<Ctx>,
        candidates: Box<Candidates>,
        public: crate::web_url::WebUrl,
    },
    Session {
        ctx: Box<Ctx>,
        source: Box<Source>,
        pending: Box<PendingToken>,
    },
    Probe {
        ctx: Box<Ctx>,
        source: Box<Source>,
        verified: Verified,
    },
    Origin(Box<respond::OriginWait>),
    Asset {
        auth: AuthStatus,
        log: LogRecord,
    },
}

/// Where running the phases left a request. (Lives only between two calls; boxing the larger
/// variant would cost an allocation per request.)
#[allow(clippy::large_enum_variant)]
enum Flow {
    /// Over: this is the last step.
    Done(Step),
    /// Park this state and give the caller this step.
    Wait(Waiting, Step, i64),
}

/// Everything built once per isolate, and the requests in flight.
pub struct Pipeline {
    gateway: Result<Rc<Settings>, Vec<String>>,
    cache: TokenCache,
    outage: OutageProbe,
    table: RequestTable<Waiting>,
    pickup: crate::jwks::Pickup,
    /// The keys held now (the embedded ones and any fetched) and the refresh's state.
    keys: KeyState,
    key_generation: u64,
}

impl Pipeline {
    /// Parses and validates every setting once. Invalid settings still give a pipeline: it
    /// answers 500 (503 on the health path) and lists the problems (never values); they are
    /// returned for the start-up log.
    pub fn from_settings<F: Fn(&str) -> Option<String>>(
        lookup: &F,
    ) -> (Pipeline, Vec<ConfigError>) {
        Pipeline::from_named_settings(lookup, &[]).0
    }

    /// As [`Pipeline::from_settings`], also given every name the environment holds: names that
    /// look like settings but are none give warnings (`config::unknown_setting_warnings`), listed
    /// by health and returned for the log.
    pub fn from_named_settings<F: Fn(&str) -> Option<String>>(
        lookup: &F,
        names: &[String],
    ) -> ((Pipeline, Vec<ConfigError>), Vec<String>) {
        let warnings = crate::config::unknown_setting_warnings(names.iter().map(String::as_str));
        let (gateway, keys, problems) = match Settings::from_settings(lookup) {
            Ok(mut g) => {
                g.warnings = warnings.clone();
                let keys = KeyState::new(&g);
                (Ok(Rc::new(g)), keys, Vec::new())
            }
            Err(problems) => {
                let mut listed: Vec<String> = problems.iter().map(ConfigError::to_string).collect();
                listed.extend(warnings.iter().map(|w| format!("warning: {w}")));
                (Err(listed), KeyState::default(), problems)
            }
        };
        let pipeline = Pipeline {
            gateway,
            cache: TokenCache::new(DEFAULT_CAPACITY),
            outage: OutageProbe::new(),
            table: RequestTable::new(MAX_REQUESTS_IN_FLIGHT),
            pickup: crate::jwks::Pickup::default(),
            keys,
            key_generation: 0,
        };
        ((pipeline, problems), warnings)
    }

    /// The public key at `index` as a JWK (JSON text) with its algorithm, for WebCrypto's
    /// `importKey`; `None` past the last key.
    pub fn key_jwk(&self, index: usize) -> Option<(Alg, String)> {
        self.gateway.as_ref().ok()?;
        let key = self.keys.keys.get(index)?;
        let fields: serde_json::Map<String, serde_json::Value> = key
            .material
            .public_jwk()
            .into_iter()
            .map(|(name, value)| (name.to_owned(), serde_json::Value::String(value)))
            .collect();
        Some((key.alg(), serde_json::Value::Object(fields).to_string()))
    }

    /// Starts a request. `now_ms` (Unix ms) and `random` (32 bytes, computed only if the
    /// request reads them) serve the whole request.
    pub fn start(
        &mut self,
        request: Request,
        now_ms: i64,
        random: impl Into<RandomDraw>,
    ) -> (RequestId, Step) {
        self.table.sweep(now_ms);
        let id = self.table.allocate();
        let random = random.into();
        let gateway = match &self.gateway {
            Ok(g) => Rc::clone(g),
            Err(problems) => return (id, misconfigured(&request, &random, problems)),
        };
        let mut ctx = match facts::read(request, &gateway, now_ms, random) {
            Ok(ctx) => ctx,
            Err(refusal) => {
                let (rejection, log) = *refusal;
                return (id, done(decision::refuse(rejection, log)));
            }
        };
        ctx.key_generation = self.key_generation;
        let flow = match handshake::begin(&mut ctx, &gateway, &self.keys.keys) {
            handshake::Handshake::Continue => self.session(ctx, &gateway),
            other => self.after_handshake(ctx, &gateway, other),
        };
        (id, self.park(id, flow, now_ms))
    }

    /// Goes on with request `id` once the caller has done what its last step asked. An `id` the
    /// table no longer holds (dropped at its deadline, or never parked) is answered 503.
    pub fn resume(&mut self, id: RequestId, event: Event) -> Step {
        let (Some(waiting), Ok(gateway)) = (self.table.take(id), self.gateway.clone()) else {
            return unavailable(RefusalReason::RequestExpired, LogRecord::unknown());
        };
        let (flow, now_ms) = match (waiting, event) {
            (
                Waiting::Handshake {
                    ctx,
                    candidates,
                    public,
                },
                Event::Verified(ok),
            ) => self.handshake_verified(ctx, &gateway, *candidates, public, ok),
            (
                Waiting::Session {
                    ctx,
                    source,
                    pending,
                },
                Event::Verified(ok),
            ) => self.session_verified(ctx, &gateway, source, *pending, ok),
            (
                Waiting::Probe {
                    ctx,
                    source,
                    verified,
                },
                Event::Probed(result),
            ) => {
                let now = ctx.now_ms;
                self.outage.record(result, now);
                (self.probed(ctx, &gateway, source, verified), now)
            }
            (Waiting::Origin(wait), Event::Fetched { fetched, headers }) => {
                return respond::origin(*wait, fetched, &headers, gateway.reporting);
            }
            (Waiting::Asset { auth, log }, Event::Fetched { fetched, .. }) => {
                return respond::asset(auth, log, fetched);
            }
            // An answer to another question than the one asked: the caller is broken.
            (_, _) => return unavailable(RefusalReason::RequestExpired, LogRecord::unknown()),
        };
        self.park(id, flow, now_ms)
    }

    /// A handshake token's signature checked: the handshake resolved or refused, or the next
    /// candidate key. Also returns the request's time.
    fn handshake_verified(
        &mut self,
        mut ctx: Box<Ctx>,
        gateway: &Rc<Settings>,
        candidates: Candidates,
        public: crate::web_url::WebUrl,
        ok: bool,
    ) -> (Flow, i64) {
        let now = ctx.now_ms;
        let ok = ok && self.check_counts(&ctx, candidates.check().key_index);
        let keys = &self.keys.keys;
        let next = handshake::answer(&mut ctx, gateway, keys, candidates, public, ok);
        (self.after_handshake(*ctx, gateway, next), now)
    }

    /// A session token's signature checked: the session's verdict, or the next candidate key.
    /// Also returns the request's time.
    fn session_verified(
        &mut self,
        mut ctx: Box<Ctx>,
        gateway: &Rc<Settings>,
        source: Box<Source>,
        pending: PendingToken,
        ok: bool,
    ) -> (Flow, i64) {
        let now = ctx.now_ms;
        let ok = ok && self.check_counts(&ctx, pending.check().key_index);
        let fapi = self.outage.status(now);
        let next = session::answer(
            &mut ctx,
            gateway,
            TokenCheck {
                keys: &self.keys.keys,
                cache: &mut self.cache,
            },
            &source,
            pending,
            ok,
            fapi,
        );
        (self.after_session(*ctx, gateway, *source, next), now)
    }

    /// The outage probe's result recorded: the session decided again (grace or signed out).
    fn probed(
        &mut self,
        mut ctx: Box<Ctx>,
        gateway: &Rc<Settings>,
        source: Box<Source>,
        verified: Verified,
    ) -> Flow {
        ctx.probed = true;
        let fapi = self.outage.status(ctx.now_ms);
        let next = session::decide(&mut ctx, gateway, &source, verified, fapi);
        self.after_session(*ctx, gateway, *source, next)
    }

    /// Whether a signature check's answer still speaks for key `key_index`: always for an
    /// embedded key (their indices never move), for a fetched one only if the key set has not
    /// changed since the request started (the index may now name another key).
    fn check_counts(&self, ctx: &Ctx, key_index: usize) -> bool {
        self.keys.is_embedded(key_index) || ctx.key_generation == self.key_generation
    }

    fn park(&mut self, id: RequestId, flow: Flow, now_ms: i64) -> Step {
        match flow {
            Flow::Done(step) => step,
            Flow::Wait(waiting, step, wait_ms) => {
                let deadline = now_ms.saturating_add(wait_ms);
                match self.table.park(id, waiting, deadline) {
                    Ok(()) => step,
                    Err(waiting) => busy(waiting),
                }
            }
        }
    }

    fn after_handshake(
        &mut self,
        mut ctx: Ctx,
        gw: &Rc<Settings>,
        h: handshake::Handshake,
    ) -> Flow {
        match h {
            handshake::Handshake::Continue => self.session(ctx, gw),
            handshake::Handshake::Resolved(plan, dropped) => {
                let mut log = std::mem::take(&mut ctx.log);
                log.outcome = crate::refusal::LogOutcome::HandshakeResolved;
                log.auth_status = AuthStatus::Handshake;
                log.dropped_cookies = dropped
                    .iter()
                    .map(|d| format!("{}:{}", d.name.as_deref().unwrap_or("?"), d.reason))
                    .collect();
                Flow::Done(respond_step(decision::browser_plan(plan), log))
            }
            handshake::Handshake::Verify(candidates, public) => {
                let step = Step::Verify(SignatureQuestion::of(candidates.check()));
                let waiting = Waiting::Handshake {
                    ctx: Box::new(ctx),
                    candidates: Box::new(candidates),
                    public,
                };
                Flow::Wait(waiting, step, VERIFY_DEADLINE_MS)
            }
        }
    }

    fn session(&mut self, mut ctx: Ctx, gw: &Rc<Settings>) -> Flow {
        let source = session::source(&mut ctx, gw);
        let fapi = self.outage.status(ctx.now_ms);
        let check = TokenCheck {
            keys: &self.keys.keys,
            cache: &mut self.cache,
        };
        let next = session::begin(&mut ctx, gw, check, &source, fapi);
        self.after_session(ctx, gw, source, next)
    }

    fn after_session(&mut self, ctx: Ctx, gw: &Rc<Settings>, source: Source, s: Session) -> Flow {
        match s {
            Session::Decided(state) => {
                let fapi = self.outage.status(ctx.now_ms);
                let decision = authorise::decide(ctx, gw, &self.keys, &state, fapi);
                self.plan(decision, gw)
            }
            Session::Respond(decision) => self.plan(*decision, gw),
            Session::Verify(pending) => {
                let step = Step::Verify(SignatureQuestion::of(pending.check()));
                let waiting = Waiting::Session {
                    ctx: Box::new(ctx),
                    source: Box::new(source),
                    pending: Box::new(pending),
                };
                Flow::Wait(waiting, step, VERIFY_DEADLINE_MS)
            }
            // The probe's result is recorded before deciding again, which therefore never asks
            // twice; should it, answer as a gateway fault rather than loop.
            Session::Probe(_) if ctx.probed => Flow::Done(done(decision::refuse(
                Rejection::Misconfigured { page_load: false },
                ctx.log,
            ))),
            Session::Probe(verified) => {
                let url = gw
                    .clerk
                    .fapi_base
                    .as_deref()
                    .map(clerk::probe_url)
                    .unwrap_or_default();
                let mut ctx = ctx;
                ctx.log.outcome = crate::refusal::LogOutcome::OutageCheck;
                let step = Step::Probe {
                    url,
                    timeout_ms: PROBE_TIMEOUT_MS,
                };
                let waiting = Waiting::Probe {
                    ctx: Box::new(ctx),
                    source: Box::new(source),
                    verified,
                };
                Flow::Wait(waiting, step, PROBE_TIMEOUT_MS as i64 + DEADLINE_SLACK_MS)
            }
        }
    }

    /// The step for a decision: a response, or a fetch to wait for.
    fn plan(&mut self, decision: Decision, gw: &Settings) -> Flow {
        let Decision { outcome, log } = decision;
        match outcome {
            Outcome::Respond(plan) => Flow::Done(respond_step(plan, log)),
            Outcome::Asset { url, auth_status } => {
                let step = Step::FetchAsset { url };
                let wait = gw.proxy.upstream_timeout_ms as i64 + DEADLINE_SLACK_MS;
                Flow::Wait(
                    Waiting::Asset {
                        auth: auth_status,
                        log,
                    },
                    step,
                    wait,
                )
            }
            Outcome::Proxy(plan) => {
                let (fetch, wait) = respond::origin_fetch(plan, log);
                let timeout = wait.plan.timeout_ms;
                let step = Step::FetchOrigin(fetch);
                Flow::Wait(
                    Waiting::Origin(Box::new(wait)),
                    step,
                    timeout as i64 + DEADLINE_SLACK_MS,
                )
            }
        }
    }

    /// The answer to a request the caller can no longer resume (it began on a wasm instance
    /// that was replaced since): 503 `request-expired`.
    pub fn expired() -> Step {
        unavailable(RefusalReason::RequestExpired, LogRecord::unknown())
    }

    /// The answer to a request that arrives before the edge has given the randomness seed (the
    /// entry always gives it first): 503, never a request served with guessable state.
    pub fn unseeded() -> Step {
        unavailable(RefusalReason::RequestExpired, LogRecord::unknown())
    }

    /// Requests waiting now.
    pub fn in_flight(&self) -> usize {
        self.table.len()
    }

    /// Cache entries and (hits, misses), for tests and the bench.
    pub fn cache_stats(&self) -> (usize, (u64, u64)) {
        (self.cache.len(), self.cache.stats())
    }
}

fn respond_step(plan: ResponsePlan, log: LogRecord) -> Step {
    Step::Respond { plan, log }
}

fn done(decision: Decision) -> Step {
    match decision.outcome {
        Outcome::Respond(plan) => respond_step(plan, decision.log),
        // Only refusals come here.
        _ => unavailable(RefusalReason::RequestExpired, decision.log),
    }
}

/// The answer while settings are invalid. Its log line names the request as every other does
/// (request id, canonical path): the settings are all that is missing, not the request's facts.
fn misconfigured(request: &Request, random: &RandomDraw, problems: &[String]) -> Step {
    let inbound = Inbound {
        method: &request.method,
        url: &request.url,
        headers: &request.headers,
    };
    let request_id = crate::proxy::request_id(request.headers.get("cf-ray"), || random.unique_id());
    done(decision::misconfigured(&inbound, problems, request_id))
}

/// 503 with `Retry-After` for a request that cannot be kept waiting or is no longer known.
fn unavailable(reason: RefusalReason, log: LogRecord) -> Step {
    done(decision::refuse(Rejection::Unavailable { reason }, log))
}

/// The table is full: this request is refused, the waiting ones are not touched.
fn busy(waiting: Waiting) -> Step {
    let mut log = match waiting {
        Waiting::Handshake { ctx, .. }
        | Waiting::Session { ctx, .. }
        | Waiting::Probe { ctx, .. } => ctx.log,
        Waiting::Origin(wait) => wait.log,
        Waiting::Asset { log, .. } => log,
    };
    log.detail = Some(IN_FLIGHT_FULL.into());
    unavailable(RefusalReason::GatewayBusy, log)
}

/// The log detail of a request refused because the table is full (it names the cap).
pub const IN_FLIGHT_FULL: &str = "requests in flight at MAX_REQUESTS_IN_FLIGHT (8192)";
