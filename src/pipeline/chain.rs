//! The chain between the phases and the states a request waits in. [`Run`] is what a request
//! borrows of the pipeline while it runs (settings, keys, token cache, outage probe) and hands
//! each phase's result on: every phase returns a [`Next`], which the chain maps alike (`Go` into
//! the next phase, `Wait` into one [`Waiting`] state with its step and deadline, `Done` into the
//! answer). Each state is entered with its own `wait` and left with its own `resume`, which
//! takes the caller's answer and goes on. Every run ends in a [`Flow`]: done, or wait in this
//! state.

use super::authorise;
use super::decision::{self, Decision, Next, Outcome};
use super::facts::{self, Ctx};
use super::handshake::{self, Handshake, HandshakeCheck};
use super::key_state::KeyState;
use super::respond::{self, OriginWait};
use super::session::{self, Session, SessionState, SessionWaitOn, Source, TokenCheck, Verified};
use crate::authenticate::PendingToken;
use crate::cache::TokenCache;
use crate::clerk::{self, OutageProbe, ProbeResult, PROBE_TIMEOUT_MS};
use crate::config::Settings;
use crate::log::LogRecord;
use crate::machine::{Event, Request, SignatureQuestion, Step};
use crate::random::RandomDraw;
use crate::response::{AuthStatus, RefusalReason, Rejection, ResponsePlan};

/// How long a signature check may take before its request is dropped.
const VERIFY_DEADLINE_MS: i64 = 10_000;
/// How long past `UPSTREAM_TIMEOUT_MS` (or the probe's timeout) a request may wait for the
/// caller's answer before it is dropped.
const DEADLINE_SLACK_MS: i64 = 10_000;

/// Where running the phases left a request. (Lives only between two calls; boxing the larger
/// variant would cost an allocation per request.)
#[allow(clippy::large_enum_variant)]
pub(super) enum Flow {
    /// Over: this is the last step.
    Done(Step),
    /// Park this state until the deadline (Unix ms) and give the caller this step.
    Wait(Waiting, Step, i64),
}

/// What a request awaits.
pub(super) enum Waiting {
    /// A handshake token's signature check.
    Handshake(HandshakeWait),
    /// A session token's signature check.
    Session(SessionWait),
    /// The Frontend API's outage probe.
    Probe(ProbeWait),
    /// The origin's response headers.
    Origin(Box<OriginWait>),
    /// An asset of the session page.
    Asset(AssetWait),
}

/// Waiting for a handshake token's signature check with the current candidate key.
pub(super) struct HandshakeWait {
    ctx: Box<Ctx>,
    check: Box<HandshakeCheck>,
}

/// Waiting for a session token's signature check with the current candidate key.
pub(super) struct SessionWait {
    ctx: Box<Ctx>,
    source: Box<Source>,
    pending: Box<PendingToken>,
}

/// Waiting for the outage probe, with the token's worth so far.
pub(super) struct ProbeWait {
    ctx: Box<Ctx>,
    source: Box<Source>,
    verified: Verified,
}

/// Waiting for an asset, with what its response reports.
pub(super) struct AssetWait {
    auth: AuthStatus,
    log: LogRecord,
}

impl Waiting {
    /// Goes on from this state with the caller's answer.
    pub(super) fn resume(self, event: Event, run: &mut Run<'_>) -> Flow {
        match (self, event) {
            (Waiting::Handshake(wait), Event::Verified(ok)) => wait.resume(ok, run),
            (Waiting::Session(wait), Event::Verified(ok)) => wait.resume(ok, run),
            (Waiting::Probe(wait), Event::Probed(result)) => wait.resume(result, run),
            (Waiting::Origin(wait), Event::Fetched { fetched, headers }) => {
                Flow::Done(respond::origin(*wait, fetched, &headers, run.gw.reporting))
            }
            (Waiting::Asset(wait), Event::Fetched { fetched, .. }) => {
                Flow::Done(respond::asset(wait.auth, wait.log, fetched))
            }
            // An answer to another question than the one asked: the caller is broken.
            (_, _) => Flow::Done(unavailable(
                RefusalReason::RequestExpired,
                LogRecord::unknown(),
            )),
        }
    }

    /// The request's log record, for a request that could not be parked.
    pub(super) fn into_log(self) -> LogRecord {
        match self {
            Waiting::Handshake(HandshakeWait { ctx, .. })
            | Waiting::Session(SessionWait { ctx, .. })
            | Waiting::Probe(ProbeWait { ctx, .. }) => ctx.log,
            Waiting::Origin(wait) => wait.log,
            Waiting::Asset(wait) => wait.log,
        }
    }
}

impl HandshakeWait {
    /// Parks the request until the current candidate key's check is answered.
    fn wait(ctx: Ctx, check: HandshakeCheck) -> Flow {
        let step = Step::Verify(SignatureQuestion::of(check.candidates.check()));
        let deadline = ctx.now_ms.saturating_add(VERIFY_DEADLINE_MS);
        let waiting = Waiting::Handshake(HandshakeWait {
            ctx: Box::new(ctx),
            check: Box::new(check),
        });
        Flow::Wait(waiting, step, deadline)
    }

    /// The handshake resolved or refused, or the next candidate key.
    fn resume(self, verified: bool, run: &mut Run<'_>) -> Flow {
        let HandshakeWait { mut ctx, check } = self;
        let ok = verified && run.check_counts(&ctx, check.candidates.check().key_index);
        let keys = &run.keys.keys;
        let next = handshake::answer(&mut ctx, run.gw, keys, *check, ok);
        run.after_handshake(*ctx, next)
    }
}

impl SessionWait {
    /// Parks the request until the pending token's current check is answered.
    fn wait(ctx: Ctx, source: Source, pending: PendingToken) -> Flow {
        let step = Step::Verify(SignatureQuestion::of(pending.check()));
        let deadline = ctx.now_ms.saturating_add(VERIFY_DEADLINE_MS);
        let waiting = Waiting::Session(SessionWait {
            ctx: Box::new(ctx),
            source: Box::new(source),
            pending: Box::new(pending),
        });
        Flow::Wait(waiting, step, deadline)
    }

    /// The session's verdict, or the next candidate key.
    fn resume(self, verified: bool, run: &mut Run<'_>) -> Flow {
        let SessionWait {
            mut ctx,
            source,
            pending,
        } = self;
        let ok = verified && run.check_counts(&ctx, pending.check().key_index);
        let fapi = run.outage.status(ctx.now_ms);
        let gw = run.gw;
        let next = session::answer(&mut ctx, gw, run.token_check(), &source, *pending, ok, fapi);
        run.after_session(*ctx, *source, next)
    }
}

impl ProbeWait {
    /// Parks the request until the Frontend API's outage probe (its URL from `gw`) is answered.
    fn wait(ctx: Ctx, source: Source, verified: Verified, gw: &Settings) -> Flow {
        let fapi_base = gw.clerk.fapi_base.as_deref();
        let url = fapi_base.map(clerk::probe_url).unwrap_or_default();
        let step = Step::Probe {
            url,
            timeout_ms: PROBE_TIMEOUT_MS,
        };
        let wait_ms = PROBE_TIMEOUT_MS as i64 + DEADLINE_SLACK_MS;
        let deadline = ctx.now_ms.saturating_add(wait_ms);
        let waiting = Waiting::Probe(ProbeWait {
            ctx: Box::new(ctx),
            source: Box::new(source),
            verified,
        });
        Flow::Wait(waiting, step, deadline)
    }

    /// The probe's result recorded, the session decided again (grace or signed out).
    fn resume(self, result: ProbeResult, run: &mut Run<'_>) -> Flow {
        let ProbeWait {
            mut ctx,
            source,
            verified,
        } = self;
        run.outage.record(result, ctx.now_ms);
        ctx.probed = true;
        let fapi = run.outage.status(ctx.now_ms);
        let next = session::decide(&mut ctx, run.gw, &source, verified, fapi);
        run.after_session(*ctx, *source, next)
    }
}

/// What a request borrows of the pipeline while it runs.
pub(super) struct Run<'p> {
    /// The settings.
    pub(super) gw: &'p Settings,
    /// The keys held now.
    pub(super) keys: &'p KeyState,
    /// The key set's generation now (`Pipeline::key_generation`).
    pub(super) key_generation: u64,
    /// The verified-token cache.
    pub(super) cache: &'p mut TokenCache,
    /// The Frontend API's outage probe.
    pub(super) outage: &'p mut OutageProbe,
}

impl Run<'_> {
    /// Runs a new request: its facts, then the handshake phase and on.
    pub(super) fn start(&mut self, request: Request, now_ms: i64, random: RandomDraw) -> Flow {
        let mut ctx = match facts::read(request, self.gw, now_ms, random) {
            Ok(ctx) => ctx,
            Err(refusal) => {
                let (rejection, log) = *refusal;
                return Flow::Done(done(decision::refuse(rejection, log)));
            }
        };
        ctx.key_generation = self.key_generation;
        let next = handshake::begin(&mut ctx, self.gw, &self.keys.keys);
        self.after_handshake(ctx, next)
    }

    /// Whether a signature check's answer still speaks for key `key_index`: always for an
    /// embedded key (their indices never move), for a fetched one only if the key set has not
    /// changed since the request started (the index may now name another key).
    fn check_counts(&self, ctx: &Ctx, key_index: usize) -> bool {
        self.keys.is_embedded(key_index) || ctx.key_generation == self.key_generation
    }

    fn token_check(&mut self) -> TokenCheck<'_> {
        TokenCheck {
            keys: &self.keys.keys,
            cache: self.cache,
        }
    }

    /// After the handshake phase: the session phase, a wait for the handshake token's
    /// signature check, or the resolved handshake's redirect.
    fn after_handshake(&mut self, ctx: Ctx, next: Handshake) -> Flow {
        match next {
            Next::Go(()) => self.session(ctx),
            Next::Wait(check) => HandshakeWait::wait(ctx, check),
            Next::Done(decision) => self.plan(*decision, ctx.now_ms),
        }
    }

    /// The session phase: the token source, then the cache or a signature check.
    fn session(&mut self, mut ctx: Ctx) -> Flow {
        let source = session::source(&mut ctx, self.gw);
        let fapi = self.outage.status(ctx.now_ms);
        let gw = self.gw;
        let next = session::begin(&mut ctx, gw, self.token_check(), &source, fapi);
        self.after_session(ctx, source, next)
    }

    /// After the session phase: authorise, a wait for a signature check or the outage probe,
    /// or the session's own answer (a handshake redirect, a refusal).
    fn after_session(&mut self, ctx: Ctx, source: Source, next: Session) -> Flow {
        match next {
            Next::Go(state) => self.authorise(ctx, &state),
            Next::Wait(SessionWaitOn::Signature(pending)) => {
                SessionWait::wait(ctx, source, pending)
            }
            Next::Wait(SessionWaitOn::Probe(verified)) => {
                ProbeWait::wait(ctx, source, verified, self.gw)
            }
            Next::Done(decision) => self.plan(*decision, ctx.now_ms),
        }
    }

    /// The authorise phase, with the session settled, then the plan.
    fn authorise(&mut self, ctx: Ctx, state: &SessionState) -> Flow {
        let now_ms = ctx.now_ms;
        let fapi = self.outage.status(now_ms);
        let decision = authorise::decide(ctx, self.gw, self.keys, state, fapi);
        self.plan(decision, now_ms)
    }

    /// The step for a decision: a response, or a fetch to wait for (from `now_ms`, the
    /// request's time).
    fn plan(&self, decision: Decision, now_ms: i64) -> Flow {
        let Decision { outcome, log } = decision;
        match outcome {
            Outcome::Respond(plan) => Flow::Done(respond_step(plan, log)),
            Outcome::Asset { url, auth_status } => {
                let step = Step::FetchAsset { url };
                let wait_ms = self.gw.proxy.upstream_timeout_ms as i64 + DEADLINE_SLACK_MS;
                let waiting = Waiting::Asset(AssetWait {
                    auth: auth_status,
                    log,
                });
                Flow::Wait(waiting, step, now_ms.saturating_add(wait_ms))
            }
            Outcome::Proxy(plan) => {
                let (fetch, wait) = respond::origin_fetch(plan, log);
                let wait_ms = wait.plan.timeout_ms as i64 + DEADLINE_SLACK_MS;
                let step = Step::FetchOrigin(fetch);
                let waiting = Waiting::Origin(Box::new(wait));
                Flow::Wait(waiting, step, now_ms.saturating_add(wait_ms))
            }
        }
    }
}

/// The step that answers with `plan`.
pub(super) fn respond_step(plan: ResponsePlan, log: LogRecord) -> Step {
    Step::Respond { plan, log }
}

/// The last step of a decision that answers at once (a refusal).
pub(super) fn done(decision: Decision) -> Step {
    match decision.outcome {
        Outcome::Respond(plan) => respond_step(plan, decision.log),
        // Only refusals come here.
        _ => unavailable(RefusalReason::RequestExpired, decision.log),
    }
}

/// 503 with `Retry-After` for a request that cannot be kept waiting or is no longer known.
pub(super) fn unavailable(reason: RefusalReason, log: LogRecord) -> Step {
    done(decision::refuse(Rejection::Unavailable { reason }, log))
}
