//! Phases `authorise` and `plan`: with the session settled, the gateway's own paths, CORS
//! preflights, the route's rules, and then either the proxy plan or the refusal.

use super::decision::{self, Decision, Outcome};
use super::facts::Ctx;
use super::key_state::KeyState;
use super::own_paths;
use super::session::{self, SessionState};
use crate::config::PreflightMode;
use crate::config::Settings;
use crate::proxy::{self, PlanRequest, ProxyPlan, Upstream};
use crate::response::{self, AuthStatus, RefusalReason, Rejection};
use crate::routes::{self, Access, Forbidden};
use crate::token::TokenError;

/// The decision for a request whose session is settled.
pub fn decide(
    mut ctx: Ctx,
    gw: &Settings,
    keys: &KeyState,
    state: &SessionState,
    fapi: crate::clerk::FapiStatus,
) -> Decision {
    let auth_status = state.status();
    ctx.log.auth_status = auth_status;
    ctx.log.grace = state.grace;
    ctx.log.token_type = state.auth().map(|auth| auth.token_type().code());
    if ctx.gateway_own {
        let inbound = ctx.inbound();
        return own_paths::gateway_path(
            &inbound,
            gw,
            keys,
            &ctx.path,
            state.claims.as_ref().map(|c| &c.auth).map_err(|r| *r),
            auth_status,
            ctx.log.clone(),
            fapi,
            &ctx.public,
        );
    }
    if ctx.preflight {
        return preflight(ctx, gw);
    }
    let clear = std::mem::take(&mut ctx.clear_cookies);
    decision::with_cleared_cookies(authorise(ctx, gw, state, auth_status), clear)
}

fn preflight(mut ctx: Ctx, gw: &Settings) -> Decision {
    match gw.proxy.preflight {
        PreflightMode::PassToOrigin => {
            ctx.log.outcome = crate::refusal::LogOutcome::ProxyPreflight;
            // A preflight carries no token by design: planned as a request without one.
            let tokenless = session::signed_out(TokenError::Missing);
            let plan = plan_for(&ctx, gw, &tokenless, AuthStatus::SignedOut);
            Decision {
                outcome: Outcome::Proxy(plan),
                log: ctx.log,
            }
        }
        PreflightMode::AnswerAtEdge => {
            ctx.log.outcome = crate::refusal::LogOutcome::Preflight;
            let mut plan = decision::json_plan(204, serde_json::Value::Null, AuthStatus::SignedOut);
            plan.body = String::new();
            plan.headers.retain(|(n, _)| n != "Content-Type");
            Decision {
                outcome: Outcome::Respond(plan),
                log: ctx.log,
            }
        }
    }
}

/// Whether a satellite's sign-in return asks for a sync: not when the sync itself has just
/// stopped (its loop guard, or the Frontend API down), since asking again would restart it.
fn sync_after_sign_in(reason: &RefusalReason) -> bool {
    !matches!(
        reason,
        RefusalReason::Session(
            crate::clerk::Reason::RedirectLoop | crate::clerk::Reason::SatelliteNeedsSyncing
        )
    )
}

fn authorise(
    mut ctx: Ctx,
    gw: &Settings,
    state: &SessionState,
    auth_status: AuthStatus,
) -> Decision {
    match verdict(&mut ctx, gw, state) {
        Err(rejection) => {
            let mut d = decision::refuse(rejection, ctx.log);
            if let Outcome::Respond(plan) = &mut d.outcome {
                // A 403 is a signed-in (or grace) session that lacks a right.
                decision::set_auth_status(plan, auth_status);
            }
            d
        }
        Ok(()) => {
            ctx.log.outcome = crate::refusal::LogOutcome::Proxy;
            let plan = plan_for(&ctx, gw, state, auth_status);
            Decision {
                outcome: Outcome::Proxy(plan),
                log: ctx.log,
            }
        }
    }
}

/// Whether the route lets this session through: `Ok` to proxy, else the refusal.
fn verdict(ctx: &mut Ctx, gw: &Settings, state: &SessionState) -> Result<(), Rejection> {
    let access = if ctx.is_public {
        Access::Public
    } else {
        gw.routes.classify(&ctx.path)
    };
    match (&access, &state.claims) {
        (Access::Public, _) => Ok(()),
        (Access::Protected { .. }, Err(reason)) => Err(signed_out(ctx, gw, reason)),
        (Access::Protected { rules }, Ok(claims))
            if !routes::accepted_tokens(rules).contains(claims.token_type()) =>
        {
            // A session on a route for machine tokens only (the session phase refuses every
            // other mismatch before the signature). No sign-in redirect: signing in again
            // would not help.
            Err(Rejection::Unauthenticated {
                reason: TokenError::TypeMismatch.into(),
                page_load: ctx.page_load(),
                sign_in: None,
            })
        }
        (Access::Protected { rules }, Ok(claims)) => routes::authorize_all(rules, &claims.auth)
            .map_err(|forbidden| match forbidden {
                Forbidden::ReverificationRequired(need) => Rejection::ReverificationRequired {
                    need,
                    page_load: ctx.page_load(),
                },
                _ => Rejection::Forbidden {
                    reason: RefusalReason::Forbidden(forbidden),
                    page_load: ctx.page_load(),
                },
            }),
    }
}

/// The refusal of a protected route without a session: for a page load, the sign-in redirect
/// (with the way back) when there is a sign-in page to send it to.
fn signed_out(ctx: &mut Ctx, gw: &Settings, reason: &RefusalReason) -> Rejection {
    let page_load = ctx.page_load();
    // A refused handshake's parameters must not come back from sign-in: they would be
    // refused again and sign the visitor out again, forever.
    let mut back = crate::clerk::without_handshake_params(&ctx.public.to_string());
    if gw.clerk.satellite.is_satellite {
        // Clerk's `createRedirect`: the browser back from the primary's sign-in syncs.
        let marked = if sync_after_sign_in(reason) {
            crate::clerk::sign_in_return_url(&back)
        } else {
            crate::clerk::unsynced_return_url(&back)
        };
        back = marked.unwrap_or(back);
    }
    // The sign-in page itself, protected by an explicit rule: a redirect to it would
    // loop, so the visitor gets the 401 page.
    let sign_in = gw
        .clerk
        .page_sign_in_url()
        .filter(|_| !gw.sign_in_is_here(&ctx.public, &ctx.path))
        .map(|target| own_paths::sign_in_target(&target, &ctx.public))
        .map(|target| response::sign_in_location(&target, &back))
        .map(|location| {
            let dev_browser = dev_browser_token(ctx, gw);
            let public = ctx.public.to_string();
            crate::clerk::sign_in_with_dev_browser(location, &public, dev_browser.as_deref())
        });
    Rejection::Unauthenticated {
        reason: *reason,
        page_load,
        sign_in,
    }
}

/// The proxy plan for the request in `ctx`.
fn plan_for(ctx: &Ctx, gw: &Settings, state: &SessionState, auth_status: AuthStatus) -> ProxyPlan {
    let request = PlanRequest {
        method: &ctx.req.method,
        headers: &ctx.req.headers,
        auth: state.auth(),
        identity: state.claims.as_ref().ok().map(|c| &c.identity),
        public: &ctx.public,
        path: &ctx.path,
        query: ctx.query.as_deref(),
        request_id: &ctx.request_id,
        now_ms: ctx.now_ms,
        auth_status,
        signed_out_reason: state.claims.as_ref().err().copied(),
    };
    let upstream = Upstream {
        origin: &gw.proxy.origin,
        settings: &gw.proxy.headers,
        timeout_ms: gw.proxy.upstream_timeout_ms,
    };
    proxy::proxy_plan(&request, &upstream)
}

/// The development instance's dev-browser token for a sign-in redirect: from the query, else
/// the cookie (as Clerk's middleware hands it to `createRedirect`); none on production.
fn dev_browser_token(ctx: &mut Ctx, gw: &Settings) -> Option<String> {
    let pk = gw.clerk.publishable.as_ref()?;
    let cookies = ctx.clerk_cookies(pk);
    crate::clerk::dev_browser_for_handshake(
        pk.instance,
        ctx.handshake_params().dev_browser.as_deref(),
        cookies.dev_browser.as_deref(),
    )
    .map(str::to_owned)
}
