//! Phase `handshake`: a browser coming back from Clerk's Frontend API with `__clerk_handshake`
//! (query parameter, else cookie). A resolved handshake answers with the redirect that plants
//! the session. A refused one signs out, and clears the handshake's cookies of, only a request
//! that could have started a handshake (a page load without a Bearer token): a crafted link must
//! neither sign a request out nor wipe a handshake in progress, and a leftover handshake cookie
//! must not sign out every fetch a page makes. Any other request goes on with its Bearer token or
//! session cookie, the refusal logged.

use super::facts::Ctx;
use crate::clerk::{self, HandshakeError, HandshakeRequest, HandshakeResolution, Reason};
use crate::config::Settings;
use crate::keys::KeySet;
use crate::token::{Candidates, TokenError};
use crate::web_url::WebUrl as Url;

/// Where the handshake phase left the request.
pub enum Handshake {
    /// No handshake, or a refused one (recorded in the context): go on to the session.
    Continue,
    /// Resolved: answer with this redirect.
    Resolved(clerk::RedirectPlan, Vec<clerk::DroppedCookie>),
    /// The token needs its signature checked with the current candidate.
    Verify(Candidates, Url),
}

/// Starts the phase.
pub fn begin(ctx: &mut Ctx, gw: &Settings, keys: &KeySet) -> Handshake {
    let Some(pk) = &gw.clerk.publishable else {
        return Handshake::Continue;
    };
    let cookies = ctx.clerk_cookies(pk);
    let params = ctx.handshake_params();
    let Some(token) = params.handshake.as_deref().or(cookies.handshake.as_deref()) else {
        return Handshake::Continue;
    };
    let public = ctx.public.to_string();
    let request = HandshakeRequest {
        public_url: &public,
        token,
        state_cookie: cookies.state.as_deref(),
        state_param: params.state.as_deref(),
    };
    match clerk::begin_handshake(&request, keys, clerk::HANDSHAKE_MAX_TOKEN_BYTES) {
        Ok((candidates, url)) => Handshake::Verify(candidates, url),
        Err(resolution) => settle(ctx, resolution),
    }
}

/// Takes the answer to the current candidate's check: the next candidate, or the resolution.
pub fn answer(
    ctx: &mut Ctx,
    gw: &Settings,
    keys: &KeySet,
    candidates: Candidates,
    public: Url,
    verified: bool,
) -> Handshake {
    if !verified {
        return match candidates.next(keys) {
            Some(next) => Handshake::Verify(next, public),
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
        HandshakeResolution::Redirect { plan, dropped } => Handshake::Resolved(plan, dropped),
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
            Handshake::Continue
        }
    }
}
