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
//! one place, `response::render`. Each phase that can wait returns a [`decision::Next`] (go on,
//! wait, or done); `chain.rs` maps it on and holds the states a request waits in (`Waiting`),
//! each with its own `resume`; this module is the driver: it starts a request, resumes its state
//! with the caller's answer, and parks what waits.
//!
//! Pure: time, randomness and settings come in as parameters; no `worker` or JavaScript types.

pub mod authorise;
mod chain;
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

use crate::cache::{TokenCache, DEFAULT_CAPACITY};
use crate::clerk::OutageProbe;
use crate::config::ConfigError;
use crate::config::Settings;
use crate::keys::Alg;
use crate::log::LogRecord;
pub use crate::machine::{Event, Fetched, OriginFetch, Request, SignatureQuestion, Step};
use crate::random::RandomDraw;
use crate::response::RefusalReason;
use chain::{done, unavailable, Flow, Run, Waiting};
use decision::Inbound;
use key_state::KeyState;
pub use request_table::{RequestId, RequestTable};
use std::rc::Rc;

/// At most this many requests wait per isolate (for a signature check, the outage probe or a
/// fetch). A new request that would wait while the table is full is refused at once with 503
/// and `Retry-After`; the requests already waiting are not touched.
pub const MAX_REQUESTS_IN_FLIGHT: usize = 8192;

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
        let (table, run) = self.split();
        let flow = match run {
            Ok(mut run) => run.start(request, now_ms, random),
            Err(problems) => return (id, misconfigured(&request, &random, problems)),
        };
        (id, park(table, id, flow))
    }

    /// Goes on with request `id` once the caller has done what its last step asked: its state
    /// takes the answer and goes on. An `id` the table no longer holds (dropped at its
    /// deadline, or never parked) is answered 503.
    pub fn resume(&mut self, id: RequestId, event: Event) -> Step {
        let (table, run) = self.split();
        let (Some(waiting), Ok(mut run)) = (table.take(id), run) else {
            return unavailable(RefusalReason::RequestExpired, LogRecord::unknown());
        };
        let flow = waiting.resume(event, &mut run);
        park(table, id, flow)
    }

    /// The request table, and what a running request borrows of the rest (the problems while
    /// the settings are invalid).
    fn split(&mut self) -> (&mut RequestTable<Waiting>, Result<Run<'_>, &[String]>) {
        let Pipeline {
            gateway,
            cache,
            outage,
            table,
            keys,
            key_generation,
            ..
        } = self;
        let run = match gateway {
            Ok(gw) => Ok(Run {
                gw,
                keys,
                key_generation: *key_generation,
                cache,
                outage,
            }),
            Err(problems) => Err(problems.as_slice()),
        };
        (table, run)
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

/// Parks a request that waits; gives the step that ends or continues it.
fn park(table: &mut RequestTable<Waiting>, id: RequestId, flow: Flow) -> Step {
    match flow {
        Flow::Done(step) => step,
        Flow::Wait(waiting, step, deadline_ms) => match table.park(id, waiting, deadline_ms) {
            Ok(()) => step,
            Err(waiting) => busy(waiting),
        },
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

/// The table is full: this request is refused, the waiting ones are not touched.
fn busy(waiting: Waiting) -> Step {
    let mut log = waiting.into_log();
    log.detail = Some(IN_FLIGHT_FULL.into());
    unavailable(RefusalReason::GatewayBusy, log)
}

/// The log detail of a request refused because the table is full (it names the cap).
pub const IN_FLIGHT_FULL: &str = "requests in flight at MAX_REQUESTS_IN_FLIGHT (8192)";
