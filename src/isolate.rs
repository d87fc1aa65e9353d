//! The per-isolate gateway that the worker's JavaScript entry drives, one synchronous call per
//! step, so a request never parks a Rust future across an await:
//! - [`Isolate::decide`] runs the pipeline ([`app::handle`]) to its outcome, or stops where it
//!   needs I/O: a signature check (WebCrypto), an outage probe, an origin or asset fetch;
//! - [`Isolate::finish`] takes the fetched response's status and headers and returns what the
//!   client gets.
//!
//! Pure: no `worker` or JavaScript types; time, randomness and settings come in as parameters.
//! The steps answer in a line-per-field text form (the "wire", see [`wire`]) that the entry
//! (src/edge/shim.js) reads without deciding anything.
//!
//! A signature check suspends the pipeline: the backend records the question and never
//! resolves, the step answers `V`, the entry verifies and calls `decide` again with the answer.
//! Answers are matched to questions by a SHA-256 of key index, algorithm and the token's own
//! SHA-256 (which fixes the signed bytes and signature), so an answer can only ever settle the
//! exact check it was given for.
//!
//! A cold token would so cost two pipeline runs. Instead, the run that asks the question goes
//! on as if the check had passed and hands that outcome along with the `V` step, as a *guess*:
//! the entry acts on it only if WebCrypto says yes for that very question and
//! [`Isolate::settle_guess`] confirms it; any other answer drops it and the pipeline runs again
//! with the real answer. Nothing of a guess takes effect before then: its cache inserts are
//! held back, and its fetch id is forgotten when the guess is dropped.

use crate::app::{self, Decision, Gateway, Inbound, LogRecord, Outcome, ProxyPlan};
use crate::authenticate::SignatureBackend;
use crate::browser::{OutageProbe, ProbeResult, PROBE_TIMEOUT_MS};
use crate::cache::{HeldInsert, TokenCache, TokenDigest, DEFAULT_CAPACITY};
use crate::crypto::{hex_lower, plausible_signature};
use crate::http::{self, HeaderEdit, HeaderList};
use crate::keys::{Alg, KeySet};
use crate::response::{self, AuthStatus, Rejection};
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// At most this many fetches in flight per isolate. Only an entry that stopped calling
/// [`Isolate::finish`] could reach it; the remembered fetches are then forgotten (their
/// `finish` answers 500) rather than kept growing.
pub const MAX_IN_FLIGHT: usize = 4096;

/// How a fetch the gateway asked for ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fetched {
    /// Response headers arrived with this status.
    Response(u16),
    /// `UPSTREAM_TIMEOUT_MS` passed before the response headers.
    TimedOut,
    /// Connection refused, DNS, a runtime error, or no ASSETS binding.
    Failed,
}

/// A fetch in flight, remembered between `decide` and `finish`. Entries live only while the
/// fetch is in flight; boxing the larger variant would cost an allocation per request.
#[allow(clippy::large_enum_variant)]
enum InFlight {
    Origin { plan: ProxyPlan, log: LogRecord },
    Asset { auth: AuthStatus, log: LogRecord },
}

/// A signature check the pipeline is waiting for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureQuestion {
    /// Hex SHA-256 of the question; the answer must name it.
    pub id: String,
    pub key_index: usize,
    pub alg: Alg,
    /// `signing input || signature`, split at `message_len`.
    pub bytes: Vec<u8>,
    pub message_len: usize,
}

/// At most this many guesses awaiting their signature check per isolate; as with
/// [`MAX_IN_FLIGHT`], only an entry that stopped settling them could reach it, and they are then
/// forgotten (their requests run the pipeline again) rather than kept growing.
pub const MAX_GUESSES: usize = 1024;

/// An outcome worked out on the assumption that a signature check passes.
struct Guess {
    question_id: String,
    held: Vec<HeldInsert>,
    fetch_id: Option<u32>,
}

impl Guess {
    /// Drops the guess, and the fetch it planned with it: nothing of it takes effect.
    fn drop_fetch(self, in_flight: &mut HashMap<u32, InFlight>) {
        if let Some(id) = self.fetch_id {
            in_flight.remove(&id);
        }
    }
}

/// Everything built once per isolate.
pub struct Isolate {
    gateway: Result<Rc<Gateway>, Vec<String>>,
    cache: RefCell<TokenCache>,
    outage: OutageProbe,
    in_flight: HashMap<u32, InFlight>,
    next_id: u32,
    question: Option<SignatureQuestion>,
    guesses: HashMap<u32, Guess>,
    next_guess: u32,
}

/// A setting problem, for the one log line per setting at start-up (never the value).
pub struct SettingProblem {
    pub setting: &'static str,
    pub problem: String,
}

impl Isolate {
    /// Parses and validates every setting once. Invalid settings still give an isolate: it
    /// answers 500 (503 on the health path) and names the settings.
    pub fn from_settings<F: Fn(&str) -> Option<String>>(
        lookup: &F,
    ) -> (Isolate, Vec<SettingProblem>) {
        let (gateway, problems) = match Gateway::from_settings(lookup) {
            Ok(g) => (Ok(Rc::new(g)), Vec::new()),
            Err(problems) => {
                let names = problems.iter().map(|p| p.setting.to_owned()).collect();
                let logged = problems
                    .into_iter()
                    .map(|p| SettingProblem {
                        setting: p.setting,
                        problem: p.problem,
                    })
                    .collect();
                (Err(names), logged)
            }
        };
        let isolate = Isolate {
            gateway,
            cache: RefCell::new(TokenCache::new(DEFAULT_CAPACITY)),
            outage: OutageProbe::new(),
            in_flight: HashMap::new(),
            next_id: 0,
            question: None,
            guesses: HashMap::new(),
            next_guess: 0,
        };
        (isolate, problems)
    }

    /// The public key at `index` as a JWK (JSON text) with its algorithm, for WebCrypto's
    /// `importKey`; `None` past the last key.
    pub fn key_jwk(&self, index: usize) -> Option<(Alg, String)> {
        let gateway = self.gateway.as_ref().ok()?;
        let key = gateway.gate.keys.get(index)?;
        let fields: serde_json::Map<String, serde_json::Value> = key
            .material
            .public_jwk()
            .into_iter()
            .map(|(name, value)| (name.to_owned(), serde_json::Value::String(value)))
            .collect();
        Some((key.alg(), serde_json::Value::Object(fields).to_string()))
    }

    /// The signature check the last `decide` answered `V` for.
    pub fn question(&self) -> Option<&SignatureQuestion> {
        self.question.as_ref()
    }

    /// Records an outage probe's result (see [`OutageProbe`]).
    pub fn record_probe(&mut self, result: ProbeResult, now_ms: i64) {
        self.outage.record(result, now_ms);
    }

    /// Runs the pipeline for one request. `answers` are the signature checks already done for
    /// it, as `(question id, verified)`; `probed` says the outage probe already ran for it.
    /// `now_ms` and `random` must be the same in every call for one request.
    pub fn decide(
        &mut self,
        inbound: &Inbound<'_>,
        now_ms: i64,
        random: [u8; 32],
        answers: &[(&str, bool)],
        probed: bool,
    ) -> String {
        self.question = None;
        let gateway = match &self.gateway {
            Ok(g) => Rc::clone(g),
            Err(problems) => {
                let plan = app::misconfigured(inbound, problems);
                let log = LogRecord {
                    method: inbound.method.to_owned(),
                    outcome: "refused",
                    reason: Some(Rejection::Misconfigured.code()),
                    fault: Some(Rejection::Misconfigured.fault().as_str()),
                    auth_status: AuthStatus::SignedOut.as_str(),
                    token_source: "none",
                    ..LogRecord::default()
                };
                return wire::respond(&plan, &log);
            }
        };
        let backend = ReplayBackend {
            keys: &gateway.gate.keys,
            answers,
            asked: RefCell::new(None),
        };
        let fapi_status = self.outage.status(now_ms);
        self.cache.borrow_mut().hold_inserts();
        let pipeline = app::handle(
            inbound,
            &gateway,
            now_ms,
            random,
            &self.cache,
            &backend,
            fapi_status,
        );
        let decision = poll_once(pipeline);
        let held = self.cache.borrow_mut().take_held();
        let question = backend.asked.into_inner();
        match (decision, question) {
            (Some(decision), None) => {
                self.cache.borrow_mut().apply_held(held);
                self.plan(decision, probed, inbound).0
            }
            // Ran to an outcome on the assumed check: a guess, unless the outcome is a probe
            // (that path is rare, and asks again after the probe anyway).
            (Some(decision), Some(question))
                if !matches!(decision.outcome, Outcome::CheckOutage { .. }) =>
            {
                let (step, fetch_id) = self.plan(decision, probed, inbound);
                let guess_id = self.next_guess;
                self.next_guess = self.next_guess.wrapping_add(1);
                if self.guesses.len() >= MAX_GUESSES {
                    for (_, forgotten) in self.guesses.drain() {
                        forgotten.drop_fetch(&mut self.in_flight);
                    }
                }
                self.guesses.insert(
                    guess_id,
                    Guess {
                        question_id: question.id.clone(),
                        held,
                        fetch_id,
                    },
                );
                let line = wire::verify(&question, Some((guess_id, &step)));
                self.question = Some(question);
                line
            }
            // Waiting for a check (or a guess not worth keeping): ask, and run again once it is
            // answered. Whatever the run would have inserted is dropped.
            (_, Some(question)) => {
                let line = wire::verify(&question, None);
                self.question = Some(question);
                line
            }
            // Only the signature backend ever suspends the pipeline.
            (None, None) => wire::respond(
                &response::render(&Rejection::Misconfigured),
                &LogRecord::default(),
            ),
        }
    }

    /// Settles the guess `decide` handed along with a `V` step, once the entry has the check's
    /// answer: `true` (act on the guessed step) only when `verified` and the guess exists and
    /// was made on `question_id`. Otherwise the guess is dropped (its held inserts discarded,
    /// its fetch id forgotten) and the entry runs `decide` again with the answer.
    pub fn settle_guess(&mut self, guess_id: u32, question_id: &str, verified: bool) -> bool {
        let Some(guess) = self.guesses.remove(&guess_id) else {
            return false;
        };
        if verified && guess.question_id == question_id {
            self.cache.borrow_mut().apply_held(guess.held);
            return true;
        }
        guess.drop_fetch(&mut self.in_flight);
        false
    }

    /// The step for a decision, and the id of the fetch it asks for, if any.
    fn plan(
        &mut self,
        decision: Decision,
        probed: bool,
        inbound: &Inbound<'_>,
    ) -> (String, Option<u32>) {
        let Decision { outcome, mut log } = decision;
        match outcome {
            Outcome::Respond(plan) => (wire::respond(&plan, &log), None),
            Outcome::CheckOutage { url } if !probed => (wire::probe(&url, PROBE_TIMEOUT_MS), None),
            Outcome::CheckOutage { .. } => {
                // The probe's result is recorded before the second run, which therefore never
                // asks again; answer as a gateway fault rather than loop.
                let rejection = Rejection::Misconfigured;
                log.outcome = "refused";
                log.reason = Some(rejection.code());
                log.fault = Some(rejection.fault().as_str());
                (wire::respond(&response::render(&rejection), &log), None)
            }
            Outcome::Asset { path, auth_status } => {
                let id = self.next_fetch_id();
                self.in_flight.insert(
                    id,
                    InFlight::Asset {
                        auth: auth_status,
                        log,
                    },
                );
                (
                    wire::asset(id, &app::asset_url(inbound.url, &path)),
                    Some(id),
                )
            }
            Outcome::Proxy(plan) => {
                let id = self.next_fetch_id();
                let edits = http::header_edits(inbound.headers, &plan.headers);
                let line = wire::proxy(id, &plan, &edits);
                self.in_flight.insert(id, InFlight::Origin { plan, log });
                (line, Some(id))
            }
        }
    }

    fn next_fetch_id(&mut self) -> u32 {
        if self.in_flight.len() >= MAX_IN_FLIGHT {
            self.in_flight.clear();
        }
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        id
    }

    /// The client's response to a fetch that `decide` asked for: `S` (stream the fetched body
    /// with these headers), `W` (hand the fetched response on untouched: a WebSocket upgrade) or
    /// `R` (a response of the gateway's own: the origin failed). An unknown `id` answers 500.
    pub fn finish(&mut self, id: u32, fetched: Fetched, headers: HeaderList) -> String {
        match (self.in_flight.remove(&id), fetched) {
            (Some(InFlight::Origin { log, .. }), Fetched::Response(101)) => wire::untouched(&log),
            (Some(InFlight::Origin { plan, log }), Fetched::Response(status)) if plan.preflight => {
                wire::respond(&app::preflight_response(status, &headers), &log)
            }
            (Some(InFlight::Origin { plan, log }), Fetched::Response(status)) => {
                let planned = app::response_headers(&plan, status, &headers);
                wire::stream(status, &http::header_edits(&headers, &planned), &log)
            }
            (Some(InFlight::Origin { plan, log }), failure) => {
                let auth = plan.auth_status;
                let rejection = if failure == Fetched::TimedOut {
                    Rejection::OriginTimeout { auth }
                } else {
                    Rejection::OriginUnreachable { auth }
                };
                refused(rejection, log)
            }
            (Some(InFlight::Asset { auth, log }), Fetched::Response(status)) => {
                let edits = [
                    HeaderEdit::Delete("x-edgegate-auth-status".to_owned()),
                    HeaderEdit::Append(
                        "X-Edgegate-Auth-Status".to_owned(),
                        auth.as_str().to_owned(),
                    ),
                ];
                wire::stream(status, &edits, &log)
            }
            (Some(InFlight::Asset { log, .. }), _) => refused(Rejection::Misconfigured, log),
            (None, _) => refused(Rejection::Misconfigured, LogRecord::default()),
        }
    }

    /// Cache entries and (hits, misses), for tests and the bench.
    pub fn cache_stats(&self) -> (usize, (u64, u64)) {
        let cache = self.cache.borrow();
        (cache.len(), cache.stats())
    }
}

fn refused(rejection: Rejection, mut log: LogRecord) -> String {
    log.outcome = "refused";
    log.reason = Some(rejection.code());
    log.fault = Some(rejection.fault().as_str());
    log.auth_status = rejection.auth_status().as_str();
    wire::respond(&response::render(&rejection), &log)
}

/// Polls a future once: the pipeline's only suspension point is the signature backend, so a
/// pipeline either finishes here or is waiting for a check.
fn poll_once<F: Future>(future: F) -> Option<F::Output> {
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    match future.as_mut().poll(&mut cx) {
        Poll::Ready(value) => Some(value),
        Poll::Pending => None,
    }
}

/// Answers signature checks from `answers`. The first check it has no answer for is recorded
/// (`asked`) and assumed to pass, so that the run can go on to a guess; any further unanswered
/// check never resolves. Structural misfits (wrong algorithm for the key, a signature of the
/// wrong length, ECDSA `r`/`s` out of range) are answered `false` here, the same as RustCrypto
/// would.
struct ReplayBackend<'a> {
    keys: &'a KeySet,
    answers: &'a [(&'a str, bool)],
    asked: RefCell<Option<SignatureQuestion>>,
}

struct Answer(Option<bool>);

impl Future for Answer {
    type Output = bool;
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<bool> {
        match self.0 {
            Some(verified) => Poll::Ready(verified),
            None => Poll::Pending,
        }
    }
}

impl SignatureBackend for ReplayBackend<'_> {
    fn verify(
        &self,
        key_index: usize,
        alg: Alg,
        message: &[u8],
        signature: &[u8],
        token: &TokenDigest,
    ) -> impl Future<Output = bool> {
        let Some(key) = self.keys.get(key_index) else {
            return Answer(Some(false));
        };
        if key.alg() != alg || !plausible_signature(&key.material, signature) {
            return Answer(Some(false));
        }
        let id = question_id(key_index, alg, token);
        if let Some((_, verified)) = self.answers.iter().find(|(a, _)| *a == id) {
            return Answer(Some(*verified));
        }
        let mut asked = self.asked.borrow_mut();
        if asked.is_some() {
            return Answer(None);
        }
        let mut bytes = Vec::with_capacity(message.len() + signature.len());
        bytes.extend_from_slice(message);
        bytes.extend_from_slice(signature);
        *asked = Some(SignatureQuestion {
            id,
            key_index,
            alg,
            bytes,
            message_len: message.len(),
        });
        Answer(Some(true))
    }
}

/// Names a check by key, algorithm and the token: the token fixes the signed bytes and the
/// signature (both are cut and decoded from it, canonically), so the name binds the answer to
/// them as surely as hashing them again would, at one block of SHA-256 instead of the token's.
fn question_id(key_index: usize, alg: Alg, token: &TokenDigest) -> String {
    let mut h = Sha256::new();
    h.update((key_index as u64).to_be_bytes());
    h.update(alg.as_str().as_bytes());
    h.update(token.0);
    hex_lower(&h.finalize())
}

/// Parses the entry's answers, `id:1` or `id:0` separated by `,`; anything else is skipped.
pub fn parse_answers(text: &str) -> Vec<(&str, bool)> {
    text.split(',')
        .filter_map(|item| {
            let (id, verdict) = item.split_once(':')?;
            match verdict {
                "1" => Some((id, true)),
                "0" => Some((id, false)),
                _ => None,
            }
        })
        .collect()
}

/// The step answers as text, one field per line (`\n`), read by src/edge/shim.js. Header lists
/// are `name\nvalue\n` pairs ended by an empty line (names are never empty, and no name or
/// value holds CR, LF or NUL: see [`crate::http::header_blob`]). A body, when there is one, is
/// everything after the header list. The log line is a JSON object missing its last member and
/// closing brace: the entry appends `,"duration_ms":N}` once the request is over.
///
/// Where the entry already holds a `Headers` (the request's, the fetched response's), the wire
/// carries edits to a copy of it instead (see [`crate::http::push_edits`]): `:name` deletes,
/// `name value` appends, ended by an empty line.
///
/// - `R status log headers body`: respond with this.
/// - `P id method url timeout_ms forward_body edits`: fetch the origin with the request's
///   headers so edited, then `finish(id)`.
/// - `A id asset_url`: fetch from ASSETS, then `finish(id)`.
/// - `V question_id key_index alg message_len guess_id step`: verify (bytes from `question`);
///   if it verified and `settle_guess(guess_id, question_id, true)` confirms, do what `step`
///   (an `R`, `P` or `A` answer) says; otherwise decide again with the answer. `guess_id` is
///   empty, and `step` absent, when there is no guess.
/// - `O probe_url timeout_ms`: probe the Frontend API, record it, decide again with `probed`.
/// - `S status log edits`: the fetched response with its headers so edited (from `finish`).
/// - `W log`: the fetched response itself (from `finish`).
pub mod wire {
    use super::SignatureQuestion;
    use crate::app::{push_decimal, LogRecord, ProxyPlan};
    use crate::http::{push_edits, push_header_blob, HeaderEdit};
    use crate::response::ResponsePlan;

    // Built with push_str rather than format!: this runs twice per request in wasm.
    fn field(out: &mut String, value: &str) {
        out.push_str(value);
        out.push('\n');
    }

    fn number(out: &mut String, value: u64) {
        push_decimal(out, value);
        out.push('\n');
    }

    /// The log line's open part as one field, written in place.
    fn log_field(out: &mut String, log: &LogRecord, status: u16) {
        log.write_json_open(out, status);
        out.push('\n');
    }

    fn start(kind: &str, capacity: usize) -> String {
        let mut out = String::with_capacity(capacity);
        field(&mut out, kind);
        out
    }

    pub fn respond(plan: &ResponsePlan, log: &LogRecord) -> String {
        let mut out = start("R", 512 + plan.body.len());
        number(&mut out, u64::from(plan.status));
        log_field(&mut out, log, plan.status);
        push_header_blob(
            &mut out,
            plan.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        );
        out.push('\n');
        out.push_str(&plan.body);
        out
    }

    pub fn stream(status: u16, edits: &[HeaderEdit], log: &LogRecord) -> String {
        let mut out = start("S", 1024);
        number(&mut out, u64::from(status));
        log_field(&mut out, log, status);
        push_edits(&mut out, edits);
        out.push('\n');
        out
    }

    pub fn untouched(log: &LogRecord) -> String {
        let mut out = start("W", 384);
        log_field(&mut out, log, 101);
        out
    }

    pub fn proxy(id: u32, plan: &ProxyPlan, edits: &[HeaderEdit]) -> String {
        let mut out = start("P", 1024 + plan.url.len());
        number(&mut out, u64::from(id));
        field(&mut out, &plan.method);
        field(&mut out, &plan.url);
        number(&mut out, plan.timeout_ms);
        field(&mut out, if plan.forward_body { "1" } else { "0" });
        push_edits(&mut out, edits);
        out.push('\n');
        out
    }

    pub fn asset(id: u32, path: &str) -> String {
        let mut out = start("A", 64 + path.len());
        number(&mut out, u64::from(id));
        field(&mut out, path);
        out
    }

    /// With a guess: its id as one more field, then the guessed step itself as the rest.
    /// Without: an empty field.
    pub fn verify(q: &SignatureQuestion, guess: Option<(u32, &str)>) -> String {
        let mut out = start("V", 128 + guess.map_or(0, |(_, step)| step.len()));
        field(&mut out, &q.id);
        number(&mut out, q.key_index as u64);
        field(&mut out, q.alg.as_str());
        number(&mut out, q.message_len as u64);
        match guess {
            Some((id, step)) => {
                number(&mut out, u64::from(id));
                out.push_str(step);
            }
            None => out.push('\n'),
        }
        out
    }

    pub fn probe(url: &str, timeout_ms: u64) -> String {
        let mut out = start("O", 64 + url.len());
        field(&mut out, url);
        number(&mut out, timeout_ms);
        out
    }

    /// Reads a step answer back into its fields, its header pairs or edits (a delete reads as
    /// `(":name", "")`), then the body. For tests.
    pub fn read(text: &str) -> (Vec<&str>, Vec<(&str, &str)>, &str) {
        let (kind, _) = text.split_once('\n').unwrap_or((text, ""));
        let fixed = match kind {
            "R" | "S" => 3,
            "P" => 6,
            "A" => 3,
            "V" => 6,
            "O" => 3,
            "W" => 2,
            _ => 1,
        };
        let mut rest = text;
        let mut fields = Vec::new();
        for _ in 0..fixed {
            let (field, tail) = rest.split_once('\n').unwrap_or((rest, ""));
            fields.push(field);
            rest = tail;
        }
        let mut pairs = Vec::new();
        if matches!(kind, "R" | "S" | "P") {
            loop {
                let (name, tail) = rest.split_once('\n').unwrap_or((rest, ""));
                rest = tail;
                if name.is_empty() {
                    break;
                }
                if name.starts_with(':') {
                    pairs.push((name, ""));
                    continue;
                }
                let (value, tail) = rest.split_once('\n').unwrap_or((rest, ""));
                rest = tail;
                pairs.push((name, value));
            }
        }
        (fields, pairs, rest)
    }
}
