//! Phase `session`: which token the request carries and what it is worth. The token source
//! (Bearer header, Clerk's cookies with a publishable key, else the plain `__session` cookie),
//! one verify-check-refuse sequence for every source (the cache, then one signature check at a
//! time, then the per-request policy), outage grace, and for cookie sessions Clerk's cookie rules
//! with the handshake they may call for.

use super::decision::{browser_plan, Decision, Next, Outcome};
use super::facts::Ctx;
use crate::auth::Auth;
use crate::authenticate::{authenticate, Authn, PendingToken};
use crate::cache::TokenCache;
use crate::clerk::{self, ClerkCookies, FapiStatus, GraceDecision};
use crate::config::Settings;
use crate::keys::KeySet;
use crate::response::{AuthStatus, RefusalReason, Rejection};
use crate::token::{machine_token, SessionClaims, TokenError, TokenTypes};
use crate::token_source::{self, TokenSource};
use serde_json::Value;
use std::rc::Rc;

/// The session state the phase settled on.
pub struct SessionState {
    /// The verified claims, or the public reason code why there is no session.
    pub claims: Result<Rc<SessionClaims>, RefusalReason>,
    /// Accepted under outage grace.
    pub grace: bool,
}

impl SessionState {
    /// The auth status this state reports: signed in, in grace, or signed out.
    pub fn status(&self) -> AuthStatus {
        match (&self.claims, self.grace) {
            (Ok(_), true) => AuthStatus::Grace,
            (Ok(_), false) => AuthStatus::SignedIn,
            (Err(_), _) => AuthStatus::SignedOut,
        }
    }
    /// The verified session, when there is one.
    pub fn auth(&self) -> Option<&Auth> {
        self.claims.as_ref().ok().map(|c| &c.auth)
    }
}

/// A session state without a session, for `reason`.
pub(super) fn signed_out(reason: impl Into<RefusalReason>) -> SessionState {
    SessionState {
        claims: Err(reason.into()),
        grace: false,
    }
}

/// Where the request's token comes from.
pub enum Source {
    /// No token to look at: a preflight, or a refused handshake signed the request out.
    Decided(crate::clerk::Reason),
    /// `Authorization: Bearer`, with the token types the route accepts (machine tokens come
    /// only this way); never handshaken.
    Bearer(Rc<str>, TokenTypes),
    /// Clerk's cookies, read with the publishable key's suffix rules.
    Cookies(Rc<ClerkCookies>),
    /// No publishable key: the `__session` cookie (or none).
    Plain(TokenSource),
}

impl Source {
    fn token(&self) -> Option<&str> {
        match self {
            Source::Decided(_) => None,
            Source::Bearer(t, _) => Some(t),
            Source::Cookies(c) => c.session.as_deref(),
            Source::Plain(s) => s.token(),
        }
    }
}

/// A token's worth once authenticated: `None` when there was no token.
pub type Verified = Option<Result<Rc<SessionClaims>, TokenError>>;

/// What a token is checked against: the keys the pipeline holds now and the tokens verified
/// before with them.
pub struct TokenCheck<'a> {
    /// The key set (`KeyState::keys`).
    pub keys: &'a KeySet,
    /// The verified-token cache.
    pub cache: &'a mut TokenCache,
}

/// Where the session phase left the request: go on to authorise with the settled state, wait on
/// a signature check or the outage probe, or answer now (a handshake redirect, an organisation
/// mismatch).
pub type Session = Next<SessionState, SessionWaitOn>;

/// What a session waits on before it can be settled.
pub enum SessionWaitOn {
    /// The pending token's signature check, then [`answer`].
    Signature(PendingToken),
    /// Outage grace needs Clerk's Frontend API status: probe it, record it, then [`decide`]
    /// again with the token's worth.
    Probe(Verified),
}

/// The token source of the request.
pub fn source(ctx: &mut Ctx, gw: &Settings) -> Source {
    let source = if ctx.preflight {
        Source::Decided(crate::clerk::Reason::Token(TokenError::Missing))
    } else if let Some(reason) = ctx.handshake_refused {
        Source::Decided(reason)
    } else if let Some(token) = &ctx.bearer {
        let accepts = if ctx.is_public {
            TokenTypes::SESSION
        } else {
            gw.routes.accepted_tokens(&ctx.path)
        };
        Source::Bearer(Rc::clone(token), accepts)
    } else if let Some(pk) = &gw.clerk.publishable {
        Source::Cookies(ctx.clerk_cookies(pk))
    } else {
        Source::Plain(token_source::find_session_token(&ctx.req.headers, None))
    };
    ctx.log.token_source = match &source {
        Source::Decided(_) if ctx.handshake_refused.is_some() => "handshake",
        Source::Decided(_) => "none",
        Source::Bearer(..) => "header",
        Source::Cookies(c) if c.session.is_some() => "cookie",
        Source::Cookies(_) => "none",
        Source::Plain(s) => s.kind(),
    };
    source
}

/// Authenticates the source's token (from the cache, or asking for a signature check) and
/// decides.
pub fn begin(
    ctx: &mut Ctx,
    gw: &Settings,
    check: TokenCheck<'_>,
    source: &Source,
    fapi: FapiStatus,
) -> Session {
    if let Source::Cookies(cookies) = source {
        if let Some(answer) = satellite_sync(ctx, gw, cookies, fapi) {
            return answer;
        }
    }
    let Some(token) = source.token() else {
        return decide(ctx, gw, source, None, fapi);
    };
    let accepts = match source {
        Source::Bearer(_, accepts) => *accepts,
        _ => TokenTypes::SESSION,
    };
    if matches!(source, Source::Bearer(..)) && machine_token::is_opaque_machine_token(token) {
        // Only Clerk's Backend API can verify it, and the request path makes no network call.
        let refused = Some(Err(TokenError::NeedsBackendApi));
        return decide(ctx, gw, source, refused, fapi);
    }
    let max = gw.tokens.validation.max_token_bytes;
    match authenticate(token, check.keys, max, accepts, check.cache, ctx.now_ms) {
        Authn::Done(result) => decide(ctx, gw, source, Some(result), fapi),
        Authn::Verify(pending) => Next::Wait(SessionWaitOn::Signature(pending)),
    }
}

/// Takes the answer to the pending token's check: the next check, or the decision.
pub fn answer(
    ctx: &mut Ctx,
    gw: &Settings,
    check: TokenCheck<'_>,
    source: &Source,
    pending: PendingToken,
    verified: bool,
    fapi: FapiStatus,
) -> Session {
    let keep_ms = gw.keep_ms();
    match pending.answer(verified, check.keys, check.cache, keep_ms, ctx.now_ms) {
        Authn::Done(result) => decide(ctx, gw, source, Some(result), fapi),
        Authn::Verify(next) => Next::Wait(SessionWaitOn::Signature(next)),
    }
}

/// The session decision for an authenticated (or absent) token.
pub fn decide(
    ctx: &mut Ctx,
    gw: &Settings,
    source: &Source,
    verified: Verified,
    fapi: FapiStatus,
) -> Session {
    if let Some(Err(e)) = &verified {
        if let Some(d) = e.detail() {
            ctx.log.detail = Some(d.into());
        }
    }
    if let Some(Ok(claims)) = &verified {
        note_azp_refusal(ctx, gw, claims);
    }
    let session = match source {
        Source::Decided(reason) => Next::Go(signed_out(*reason)),
        Source::Bearer(_, accepts) => token_session(ctx, gw, verified, *accepts, true, fapi),
        Source::Plain(_) => token_session(ctx, gw, verified, TokenTypes::SESSION, false, fapi),
        Source::Cookies(cookies) => cookie_session(ctx, gw, cookies, verified, fapi),
    };
    match org_sync(ctx, gw, source, session, fapi) {
        // The probe's result is recorded before deciding again, which therefore never asks
        // twice; should it, answer as a gateway fault rather than loop.
        Next::Wait(SessionWaitOn::Probe(_)) if ctx.probed => {
            let log = std::mem::take(&mut ctx.log);
            let rejection = Rejection::Misconfigured { page_load: false };
            Next::Done(Box::new(super::decision::refuse(rejection, log)))
        }
        Next::Wait(SessionWaitOn::Probe(verified)) => {
            ctx.log.outcome = crate::refusal::LogOutcome::OutageCheck;
            Next::Wait(SessionWaitOn::Probe(verified))
        }
        session => session,
    }
}

/// For the most common production mistake (http/https, www, ports): when the token's `azp` is
/// refused, the log line's `detail` names it and the allowed parties (both public).
fn note_azp_refusal(ctx: &mut Ctx, gw: &Settings, claims: &SessionClaims) {
    let v = &gw.tokens.validation;
    // A machine token's `azp` is not checked: it is no browser's.
    if v.authorized_parties.is_empty() || claims.auth.machine.is_some() {
        return;
    }
    let detail = match claims.azp.as_deref() {
        Some(azp) if v.authorized_parties.iter().any(|p| p == azp) => return,
        Some(azp) => {
            // The claim is the client's: at most 200 characters of it reach the log.
            // Quoted as JSON rather than with `{:?}`: the same escaping of quotes and control
            // characters, without linking `Debug`'s Unicode tables into the worker.
            let shown: String = azp.chars().take(200).collect();
            format!(
                "azp {} is not one of {}",
                Value::from(shown),
                Value::from(v.authorized_parties.clone())
            )
        }
        None if v.allow_missing_azp => return,
        None => format!(
            "no azp; AUTHORIZED_PARTIES is {}",
            Value::from(v.authorized_parties.clone())
        ),
    };
    ctx.log.detail = Some(detail.into());
}

/// A token that is not a browser session (the Bearer header, or the plain cookie without a
/// publishable key): the policy check for the types the route accepts, and for a Bearer
/// session token outage grace (never for a machine token).
fn token_session(
    ctx: &Ctx,
    gw: &Settings,
    verified: Verified,
    accepts: TokenTypes,
    grace_allowed: bool,
    fapi: FapiStatus,
) -> Session {
    let claims = match verified {
        None => return Next::Go(signed_out(TokenError::Missing)),
        Some(Err(e)) => return Next::Go(signed_out(e)),
        Some(Ok(claims)) => claims,
    };
    let v = &gw.tokens.validation;
    match claims.check_as(accepts, v, ctx.now_ms) {
        Ok(()) => Next::Go(SessionState {
            claims: Ok(claims),
            grace: false,
        }),
        Err(TokenError::Expired) if grace_allowed && claims.auth.machine.is_none() => {
            let grace = gw.clerk.outage_grace_seconds;
            match clerk::grace_applies(&claims, v, grace, None, ctx.now_ms, fapi) {
                GraceDecision::Accept { .. } => Next::Go(SessionState {
                    claims: Ok(claims),
                    grace: true,
                }),
                GraceDecision::NeedOutageCheck => {
                    Next::Wait(SessionWaitOn::Probe(Some(Ok(claims))))
                }
                GraceDecision::No => Next::Go(signed_out(TokenError::Expired)),
            }
        }
        Err(e) => Next::Go(signed_out(e)),
    }
}

/// A cookie session: Clerk's cookie rules ([`clerk::browser_decision`]), with the handshake
/// when they call for it.
fn cookie_session(
    ctx: &mut Ctx,
    gw: &Settings,
    cookies: &ClerkCookies,
    verified: Verified,
    fapi: FapiStatus,
) -> Session {
    let Some(pk) = &gw.clerk.publishable else {
        return Next::Go(signed_out(TokenError::Missing));
    };
    let outcome = match &verified {
        None => clerk::SessionOutcome::Missing,
        Some(Ok(claims)) => clerk::SessionOutcome::Verified(claims),
        Some(Err(e)) => clerk::SessionOutcome::Unverified(*e),
    };
    let params = ctx.handshake_params();
    let request = clerk::BrowserRequest {
        method: &ctx.req.method,
        sec_fetch_dest: ctx.req.headers.get("sec-fetch-dest"),
        accept: ctx.req.headers.get("accept"),
        is_public: ctx.is_public,
        instance: Some(pk.instance),
        client_uat: cookies.client_uat,
        dev_browser_present: cookies.dev_browser.is_some() || params.dev_browser.is_some(),
        dev_browser_in_query: params.dev_browser.is_some(),
        redirect_count: cookies.redirect_count,
        session: outcome,
        validation: &gw.tokens.validation,
        outage_grace_seconds: gw.clerk.outage_grace_seconds,
        fapi_status: if gw.clerk.fapi_base.is_some() {
            fapi
        } else {
            FapiStatus::Up
        },
        now_ms: ctx.now_ms,
    };
    let decision = clerk::browser_decision(&request);
    follow_cookie_rules(ctx, gw, cookies, verified, fapi, decision)
}

/// What Clerk's cookie rules decided, done: the session, the outage probe first, or the
/// handshake redirect.
fn follow_cookie_rules(
    ctx: &mut Ctx,
    gw: &Settings,
    cookies: &ClerkCookies,
    verified: Verified,
    fapi: FapiStatus,
    decision: clerk::BrowserDecision,
) -> Session {
    let with_claims = |verified: Verified, grace: bool| match verified {
        Some(Ok(claims)) => SessionState {
            claims: Ok(claims),
            grace,
        },
        _ => signed_out(TokenError::Missing),
    };
    match decision {
        clerk::BrowserDecision::SignedIn if from_a_satellite(ctx, gw, cookies, fapi) => {
            let reason = clerk::Reason::PrimaryDomainCrossOriginSync;
            handshake_redirect(ctx, gw, cookies, reason)
        }
        clerk::BrowserDecision::SignedIn => Next::Go(with_claims(verified, false)),
        clerk::BrowserDecision::Grace { .. } => Next::Go(with_claims(verified, true)),
        clerk::BrowserDecision::NeedOutageCheck => Next::Wait(SessionWaitOn::Probe(verified)),
        clerk::BrowserDecision::Handshake { .. }
            if gw.clerk.outage_grace_seconds > 0
                && gw.clerk.fapi_base.is_some()
                && fapi == FapiStatus::Unknown =>
        {
            // With outage grace on, a handshake is preceded by the outage check (cached 30 s):
            // when the Frontend API is down the browser would land on an error page. With grace
            // off the request path makes no call to Clerk at all, as Clerk with `jwtKey`.
            Next::Wait(SessionWaitOn::Probe(verified))
        }
        clerk::BrowserDecision::Handshake { reason } if fapi == FapiStatus::Down => {
            ctx.log.detail = Some("frontend-api-unreachable".into());
            Next::Go(signed_out(reason))
        }
        clerk::BrowserDecision::Handshake { reason } => {
            handshake_redirect(ctx, gw, cookies, reason)
        }
        clerk::BrowserDecision::SignedOut { reason } => Next::Go(signed_out(reason)),
    }
}

fn handshake_redirect(
    ctx: &mut Ctx,
    gw: &Settings,
    cookies: &ClerkCookies,
    reason: clerk::Reason,
) -> Session {
    let Some(pk) = &gw.clerk.publishable else {
        return Next::Go(signed_out(reason));
    };
    let params = ctx.handshake_params();
    let dev_browser = clerk::dev_browser_for_handshake(
        pk.instance,
        params.dev_browser.as_deref(),
        cookies.dev_browser.as_deref(),
    );
    let redirect = gw.clerk.fapi_base.as_deref().map(|base| {
        clerk::handshake_redirect(
            base,
            &ctx.public.to_string(),
            cookies.suffixed,
            reason,
            dev_browser,
            cookies.session.as_deref(),
            &ctx.random.bytes(),
            cookies.redirect_count,
        )
    });
    match redirect {
        Some(Ok(plan)) => handshake_response(ctx, plan, reason.into()),
        Some(Err(clerk::RedirectError::RedirectLoop)) => {
            Next::Go(signed_out(clerk::Reason::RedirectLoop))
        }
        _ => Next::Go(signed_out(reason)),
    }
}

/// Satellite domains ([`clerk::satellite`]), before the cookie token is looked at: on a
/// satellite, Clerk's multi-domain sync; on a development primary listing satellites, the
/// answer to a satellite's `__clerk_redirect_url`. `None`: Clerk's cookie rules decide.
fn satellite_sync(
    ctx: &mut Ctx,
    gw: &Settings,
    cookies: &ClerkCookies,
    fapi: FapiStatus,
) -> Option<Session> {
    let pk = gw.clerk.publishable.as_ref()?;
    if ctx.gateway_own {
        return None;
    }
    let dest = ctx.req.headers.get("sec-fetch-dest");
    let accept = ctx.req.headers.get("accept");
    if !gw.clerk.satellite.is_satellite {
        let answers =
            gw.clerk.satellite.has_satellites() && pk.instance == clerk::Instance::Development;
        let eligible = answers && clerk::is_eligible(&ctx.req.method, dest, accept);
        return eligible.then(|| primary_answer(ctx, gw, cookies)).flatten();
    }
    let request = clerk::SatelliteRequest {
        document_navigation: ctx.document_navigation(),
        is_public: ctx.is_public,
        synced: clerk::SyncStatus::from_query(ctx.query.as_deref()),
        has_cookies: cookies.session.is_some() || cookies.client_uat != 0,
        auto_sync: gw.clerk.satellite.auto_sync,
        redirect_count: cookies.redirect_count,
    };
    let reason = clerk::Reason::SatelliteNeedsSyncing;
    match clerk::satellite_sync(&request) {
        clerk::SatelliteSync::Continue => None,
        clerk::SatelliteSync::SignedOut => Some(Next::Go(signed_out(
            clerk::Reason::SessionTokenAndUatMissing,
        ))),
        clerk::SatelliteSync::Loop => {
            ctx.log.detail = Some("satellite-sync-loop".into());
            Some(Next::Go(signed_out(clerk::Reason::RedirectLoop)))
        }
        clerk::SatelliteSync::Sync if fapi == FapiStatus::Down => {
            ctx.log.detail = Some("frontend-api-unreachable".into());
            Some(Next::Go(signed_out(reason)))
        }
        clerk::SatelliteSync::Sync => Some(sync_redirect(ctx, gw, pk, cookies)),
    }
}

/// A satellite's sync: on a development instance through the primary's sign-in URL, on a
/// production one through the Frontend API's handshake; signed out when neither can be built.
fn sync_redirect(
    ctx: &mut Ctx,
    gw: &Settings,
    pk: &clerk::PublishableKey,
    cookies: &ClerkCookies,
) -> Session {
    let reason = clerk::Reason::SatelliteNeedsSyncing;
    let public = ctx.public.to_string();
    let plan = match (pk.instance, gw.clerk.fapi_base.as_deref()) {
        (clerk::Instance::Development, _) => gw
            .clerk
            .sign_in_url
            .as_deref()
            .ok_or(clerk::RedirectError::BadUrl)
            .and_then(|sign_in| clerk::dev_sync_redirect(sign_in, &public, cookies.redirect_count)),
        (clerk::Instance::Production, Some(base)) => {
            let back = clerk::synced_return_url(&public).unwrap_or(public);
            let target = clerk::HandshakeTarget {
                frontend_api_base: base,
                public_url: &back,
                suffixed: cookies.suffixed,
                reason_code: reason.code(),
                dev_browser: None,
                session_token: cookies.session.as_deref(),
                organization_id: None,
            };
            clerk::handshake_redirect_to(&target, &ctx.random.bytes(), cookies.redirect_count)
        }
        (clerk::Instance::Production, None) => Err(clerk::RedirectError::BadUrl),
    };
    match plan {
        Ok(plan) => handshake_response(ctx, plan, reason.into()),
        Err(_) => Next::Go(signed_out(reason)),
    }
}

/// A development primary's answer to a satellite: back to `__clerk_redirect_url` with the
/// dev-browser token and `__clerk_synced=true`, only to an origin in `SATELLITE_DOMAINS`.
fn primary_answer(ctx: &mut Ctx, gw: &Settings, cookies: &ClerkCookies) -> Option<Session> {
    let raw = clerk::query_param(ctx.query.as_deref(), clerk::REDIRECT_URL_PARAM)?;
    let Some(satellite) = clerk::safe_satellite_url(&raw, &gw.clerk.satellite.satellite_origins)
    else {
        ctx.log.detail = Some("satellite-redirect-url-refused".into());
        return None;
    };
    let params = ctx.handshake_params();
    let dev_browser = params
        .dev_browser
        .as_deref()
        .or(cookies.dev_browser.as_deref());
    match clerk::primary_sync_redirect(&satellite, dev_browser, cookies.redirect_count) {
        Ok(plan) => {
            let reason = clerk::Reason::PrimaryRespondsToSyncing;
            Some(handshake_response(ctx, plan, reason.into()))
        }
        Err(_) => {
            ctx.log.detail = Some("satellite-sync-loop".into());
            None
        }
    }
}

/// A signed-in page load on a primary that came from one of its satellites (Clerk's
/// cross-origin-referrer handshake, for `SATELLITE_DOMAINS` only): refresh the session
/// through the handshake once (`__clerk_redirect_count` 0), never on a public route.
fn from_a_satellite(ctx: &Ctx, gw: &Settings, cookies: &ClerkCookies, fapi: FapiStatus) -> bool {
    let headers = &ctx.req.headers;
    gw.clerk.satellite.has_satellites()
        && !ctx.is_public
        && cookies.redirect_count == 0
        && fapi != FapiStatus::Down
        && ctx.document_navigation()
        && clerk::is_satellite_referrer(
            headers.get("referer"),
            &ctx.public.origin(),
            &gw.clerk.satellite.satellite_origins,
        )
}

/// Organisation sync (`ORGANIZATION_PATTERNS`, `PERSONAL_ACCOUNT_PATTERNS`, see
/// [`clerk::org_sync`]): a session on a path that asks for another organisation than its active
/// one is sent to the handshake to activate it (a page load with Clerk's cookies), or refused
/// with `organization-mismatch` (also when the loop guard or a Frontend API outage stops the
/// handshake: the session never reaches another organisation's URL).
fn org_sync(
    ctx: &mut Ctx,
    gw: &Settings,
    source: &Source,
    session: Session,
    fapi: FapiStatus,
) -> Session {
    let Next::Go(state) = session else {
        return session;
    };
    let Some(target) = org_sync_target(ctx, gw, &state) else {
        return Next::Go(state);
    };
    let cookies = match source {
        Source::Cookies(c) => Some(c),
        _ => None,
    };
    let page_load = clerk::is_eligible(
        &ctx.req.method,
        ctx.req.headers.get("sec-fetch-dest"),
        ctx.req.headers.get("accept"),
    );
    let request = clerk::OrgSyncRequest {
        redirectable: page_load
            && cookies.is_some()
            && gw.clerk.publishable.is_some()
            && gw.clerk.fapi_base.is_some(),
        redirect_count: cookies.map_or(0, |c| c.redirect_count),
        check_outage_first: gw.clerk.outage_grace_seconds > 0,
        fapi_status: fapi,
    };
    match (clerk::org_sync_decision(&request), cookies) {
        (clerk::OrgSyncDecision::Activate, Some(cookies)) => {
            org_sync_redirect(ctx, gw, cookies, &target, &state)
        }
        (clerk::OrgSyncDecision::NeedOutageCheck, _) => Next::Wait(SessionWaitOn::Probe(Some(
            state.claims.map_err(|_| TokenError::Missing),
        ))),
        // Refused (with why the handshake was stopped, when it was).
        (decision, _) => {
            if let clerk::OrgSyncDecision::Refuse(Some(stopped)) = decision {
                ctx.log.detail = Some(stopped.code().into());
            }
            Next::Done(Box::new(org_mismatch(ctx, &state)))
        }
    }
}

/// What the path asks to be active, when it is not what the session has. Public routes (and
/// the gateway's own paths) are never synced, nor machine tokens (no active organisation).
fn org_sync_target(ctx: &Ctx, gw: &Settings, state: &SessionState) -> Option<clerk::OrgSyncTarget> {
    if gw.clerk.org_sync.is_empty() || ctx.is_public || ctx.preflight {
        return None;
    }
    let auth = state.auth().filter(|a| a.machine.is_none())?;
    gw.clerk
        .org_sync
        .target(&ctx.path)
        .filter(|target| target.must_activate(auth))
}

/// 403 `organization-mismatch` for a session that cannot be sent to activate the organisation.
fn org_mismatch(ctx: &mut Ctx, state: &SessionState) -> Decision {
    let mut log = std::mem::take(&mut ctx.log);
    log.grace = state.grace;
    let rejection = Rejection::Forbidden {
        reason: RefusalReason::OrganizationMismatch,
        page_load: ctx.page_load(),
    };
    let mut decision = super::decision::refuse(rejection, log);
    if let Outcome::Respond(plan) = &mut decision.outcome {
        super::decision::set_auth_status(plan, state.status());
    }
    decision.log.auth_status = state.status();
    super::decision::with_cleared_cookies(decision, std::mem::take(&mut ctx.clear_cookies))
}

/// The handshake that asks the Frontend API to activate `target` (Clerk's `organization_id`).
fn org_sync_redirect(
    ctx: &mut Ctx,
    gw: &Settings,
    cookies: &ClerkCookies,
    target: &clerk::OrgSyncTarget,
    state: &SessionState,
) -> Session {
    let (Some(pk), Some(base)) = (&gw.clerk.publishable, gw.clerk.fapi_base.as_deref()) else {
        return Next::Done(Box::new(org_mismatch(ctx, state)));
    };
    let params = ctx.handshake_params();
    let public = ctx.public.to_string();
    let handshake = clerk::HandshakeTarget {
        frontend_api_base: base,
        public_url: &public,
        suffixed: cookies.suffixed,
        reason_code: clerk::ACTIVE_ORGANIZATION_MISMATCH,
        dev_browser: clerk::dev_browser_for_handshake(
            pk.instance,
            params.dev_browser.as_deref(),
            cookies.dev_browser.as_deref(),
        ),
        session_token: cookies.session.as_deref(),
        organization_id: Some(target.organization_id_param()),
    };
    match clerk::handshake_redirect_to(&handshake, &ctx.random.bytes(), cookies.redirect_count) {
        Ok(plan) => handshake_response(ctx, plan, RefusalReason::OrganizationMismatch),
        Err(_) => Next::Done(Box::new(org_mismatch(ctx, state))),
    }
}

/// The handshake redirect as the session phase's answer.
fn handshake_response(ctx: &mut Ctx, plan: clerk::RedirectPlan, reason: RefusalReason) -> Session {
    let mut log = std::mem::take(&mut ctx.log);
    log.outcome = crate::refusal::LogOutcome::Handshake;
    log.reason = Some(reason);
    log.auth_status = AuthStatus::Handshake;
    Next::Done(Box::new(Decision {
        outcome: Outcome::Respond(browser_plan(plan)),
        log,
    }))
}
