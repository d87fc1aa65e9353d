//! Phase `handshake`: a browser coming back from Clerk's Frontend API with `__clerk_handshake`
//! (query parameter, else cookie). A resolved handshake answers with the redirect that plants
//! the session. A refused one signs out, and clears the handshake's cookies of, only a request
//! that could have started a handshake (a page load without a Bearer token): a crafted link must
//! neither sign a request out nor wipe a handshake in progress, and a leftover handshake cookie
//! must not sign out every fetch a page makes. Any other request goes on with its Bearer token or
//! session cookie, the refusal logged.

use super::decision::{browser_plan, Decision, Next, Outcome};
use super::facts::Ctx;
use crate::clerk::{self, HandshakeError, HandshakeRequest, HandshakeResolution, Reason};
use crate::config::Settings;
use crate::keys::KeySet;
use crate::refusal::LogOutcome;
use crate::response::AuthStatus;
use crate::token::{Candidates, TokenError};
use crate::web_url::WebUrl as Url;

/// Where the handshake phase left the request: go on to the session (no handshake, or a refused
/// one, recorded in the context), wait for the token's signature check, or answer with the
/// resolved handshake's redirect.
pub type Handshake = Next<(), HandshakeCheck>;

/// What a handshake waits on: its token's signature checked with the current candidate key.
pub struct HandshakeCheck {
    /// The keys that could have signed the token, the current one first.
    pub candidates: Candidates,
    /// The request's public URL, which the resolution redirects back to.
    pub public: Url,
}

/// Starts the phase.
pub fn begin(ctx: &mut Ctx, gw: &Settings, keys: &KeySet) -> Handshake {
    let Some(pk) = &gw.clerk.publishable else {
        return Next::Go(());
    };
    let cookies = ctx.clerk_cookies(pk);
    let params = ctx.handshake_params();
    let Some(token) = params.handshake.as_deref().or(cookies.handshake.as_deref()) else {
        return Next::Go(());
    };
    let public = ctx.public.to_string();
    let request = HandshakeRequest {
        public_url: &public,
        token,
        state_cookie: cookies.state.as_deref(),
        state_param: params.state.as_deref(),
    };
    match clerk::begin_handshake(&request, keys, clerk::HANDSHAKE_MAX_TOKEN_BYTES) {
        Ok((candidates, public)) => Next::Wait(HandshakeCheck { candidates, public }),
        Err(resolution) => settle(ctx, resolution),
    }
}

/// Takes the answer to the current candidate's check: the next candidate, or the resolution.
pub fn answer(
    ctx: &mut Ctx,
    gw: &Settings,
    keys: &KeySet,
    check: HandshakeCheck,
    verified: bool,
) -> Handshake {
    let HandshakeCheck { candidates, public } = check;
    if !verified {
        return match candidates.next(keys) {
            Some(candidates) => Next::Wait(HandshakeCheck { candidates, public }),
            None => settle(
                ctx,
                clerk::handshake_refusal(Reason::HandshakeInvalid(HandshakeError::Token(
                    TokenError::InvalidSignature,
                ))),
            ),
        };
    }
    let mut resolution = clerk::finish_handshake(
        candidates.into_prepared(),
        &public,
        gw.tokens.validation.clock_skew_ms,
        ctx.now_ms,
    );
    if let (true, HandshakeResolution::Redirect { plan, .. }) =
        (gw.clerk.satellite.is_satellite, &mut resolution)
    {
        clerk::strip_synced_after_handshake(plan);
    }
    settle(ctx, resolution)
}

fn settle(ctx: &mut Ctx, resolution: HandshakeResolution) -> Handshake {
    match resolution {
        HandshakeResolution::Redirect { plan, dropped } => {
            Next::Done(Box::new(resolved(ctx, plan, &dropped)))
        }
        HandshakeResolution::Refused {
            reason,
            clear_cookies,
        } => {
            let could_handshake = ctx.bearer.is_none()
                && clerk::is_eligible(
                    &ctx.req.method,
                    ctx.req.headers.get("sec-fetch-dest"),
                    ctx.req.headers.get("accept"),
                );
            if could_handshake {
                ctx.clear_cookies = clear_cookies;
                ctx.handshake_refused = Some(reason);
            } else if ctx.bearer.is_some() {
                ctx.log.detail = Some("handshake-refused-bearer-used".into());
            } else {
                // A leftover handshake cookie must not sign out every fetch a page makes: the
                // request goes on with its session cookie, as Clerk's does.
                ctx.log.detail = Some("handshake-refused-ignored".into());
            }
            Next::Go(())
        }
    }
}

/// The resolved handshake's redirect, logged with the cookies the resolution dropped.
fn resolved(
    ctx: &mut Ctx,
    plan: clerk::RedirectPlan,
    dropped: &[clerk::DroppedCookie],
) -> Decision {
    let mut log = std::mem::take(&mut ctx.log);
    log.outcome = LogOutcome::HandshakeResolved;
    log.auth_status = AuthStatus::Handshake;
    log.dropped_cookies = dropped
        .iter()
        .map(|d| format!("{}:{}", d.name.as_deref().unwrap_or("?"), d.reason))
        .collect();
    Decision {
        outcome: Outcome::Respond(browser_plan(plan)),
        log,
    }
}
