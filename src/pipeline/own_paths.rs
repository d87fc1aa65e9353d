//! The gateway's own paths under [`GATEWAY_PREFIX`]: `/__edgegate/health`, `/__edgegate/session`
//! and the www/ pages served from the ASSETS binding. Read-only: a method other than GET or
//! HEAD is refused.

use super::decision::{json_plan, refuse, Decision, Inbound, Outcome};
use super::key_state::KeyState;
use crate::auth::Auth;
use crate::clerk::FapiStatus;
use crate::config::Settings;
use crate::forwarded::PublicUrl;
use crate::log::LogRecord;
use crate::response::{self, AuthStatus, RefusalReason, Rejection};
use serde_json::{json, Value};

/// The gateway's own path prefix; every other path belongs to the origin.
pub const GATEWAY_PREFIX: &str = "/__edgegate";

/// Each key's label, fingerprint, algorithm and source (`embedded` or `fetched`), for health.
fn key_details(state: &KeyState) -> Vec<serde_json::Value> {
    state
        .keys
        .keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            json!({
                "kid": k.label(),
                "fingerprint": format!("sha256:{}", k.fingerprint),
                "alg": k.alg().as_str(),
                "source": if state.is_embedded(i) { "embedded" } else { "fetched" },
            })
        })
        .collect()
}

/// The JWKS refresh as this isolate knows it (`null` when `JWKS_URL` is off).
fn jwks_health(gw: &Settings, state: &KeyState) -> serde_json::Value {
    let Some(source) = &gw.jwks else {
        return serde_json::Value::Null;
    };
    let r = &state.refresh;
    json!({
        "url": source.url,
        "kv_bound": r.kv_bound,
        "keys_fetched_at": r.keys_fetched_at_ms,
        "last_refresh_at": r.last_attempt.as_ref().map(|(at, _)| *at),
        "last_refresh_result": r.last_attempt.as_ref().map(|(_, res)| res.as_str()),
        "last_pickup_at": r.last_pickup.map(|(at, _)| at),
        "last_pickup_ok": r.last_pickup.map(|(_, ok)| ok),
    })
}

/// The URL the edge fetches from ASSETS for a www/ path.
pub fn asset_url(request_url: &str, path: &str) -> String {
    match crate::web_url::WebUrl::parse(request_url) {
        Ok(u) => format!("{}{}", u.origin(), path),
        Err(_) => format!("http://assets.invalid{path}"),
    }
}

/// The session as `/__edgegate/session` shows it: the CLI's `auth` fields plus `expires_at`.
/// Built by hand rather than through `Serialize`, which would add a second JSON code path to
/// the worker.
pub fn session_json(auth: &Auth) -> Value {
    json!({
        "user_id": auth.user_id,
        "session_id": auth.session_id,
        "session_status": auth.session_status,
        "org_id": auth.org_id,
        "org_role": auth.org_role,
        "org_slug": auth.org_slug,
        "org_permissions": auth.org_permissions,
        "actor": auth.actor,
        "factor_verification_age": auth.factor_verification_age,
        "expires_at": auth.expires_at,
        "name": display_name(&auth.claims),
        "email": string_claim(&auth.claims, &["email", "email_address", "primary_email_address"]),
    })
}

/// The first of `names` that is a non-empty string claim (trimmed).
fn string_claim(claims: &serde_json::Map<String, Value>, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| {
        claims
            .get(*n)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    })
}

/// A person's name from the session token, when its customised claims carry one (`name`,
/// `full_name`, or `first_name` and `last_name`); Clerk's default token has none.
fn display_name(claims: &serde_json::Map<String, Value>) -> Option<String> {
    string_claim(claims, &["name", "full_name"]).or_else(|| {
        let parts: Vec<String> = [&["first_name"][..], &["last_name"][..]]
            .iter()
            .filter_map(|n| string_claim(claims, n))
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    })
}

/// Where the session page's "Sign in" goes, with `redirect_url` back to the page:
/// [`Settings::sign_in_page`], or `None`.
pub(crate) fn session_page_sign_in(gw: &Settings, public: &PublicUrl) -> Option<String> {
    let target = sign_in_target(&gw.clerk.sign_in_page()?, public);
    let page = public.with_path_and_query("/__edgegate/");
    Some(response::sign_in_location(&target, &page.to_string()))
}

/// `SIGN_IN_URL` as an absolute URL: a path is resolved against the public origin.
pub(crate) fn sign_in_target(configured: &str, public: &PublicUrl) -> String {
    if configured.starts_with('/') {
        format!("{}{}", public.origin(), configured)
    } else {
        configured.to_owned()
    }
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn gateway_path(
    inbound: &Inbound<'_>,
    gw: &Settings,
    keys: &KeyState,
    path: &str,
    session: Result<&Auth, RefusalReason>,
    auth_status: AuthStatus,
    log: LogRecord,
    fapi_status: FapiStatus,
    public: &PublicUrl,
) -> Decision {
    let readable = inbound.method == "GET" || inbound.method == "HEAD";
    if !readable {
        return refuse(
            Rejection::MethodNotAllowed {
                reason: RefusalReason::MethodNotAllowed,
            },
            log,
        );
    }
    match path {
        "/__edgegate/health" => health(gw, keys, auth_status, log, fapi_status),
        "/__edgegate/session" => session_answer(gw, session, auth_status, log, public),
        _ => asset(inbound, path, auth_status, log),
    }
}

/// `/__edgegate/health` with valid settings: the keys, the JWKS refresh, the Frontend API's
/// state as last probed, and the warnings.
fn health(
    gw: &Settings,
    state: &KeyState,
    auth_status: AuthStatus,
    mut log: LogRecord,
    fapi: FapiStatus,
) -> Decision {
    log.outcome = crate::refusal::LogOutcome::Health;
    let body = json!({
        "valid": true,
        "version": env!("CARGO_PKG_VERSION"),
        "keys": state.keys.labels(),
        "key_details": key_details(state),
        "jwks": jwks_health(gw, state),
        "algorithms": state.keys.keys.iter().map(|k| k.alg().as_str()).collect::<Vec<_>>(),
        "trust_forwarded": gw.hosts.trust_forwarded,
        "frontend_api": gw.clerk.fapi_base.as_ref().map(|_| match fapi {
            FapiStatus::Up => "reachable",
            FapiStatus::Down => "unreachable",
            FapiStatus::Unknown => "unknown",
        }),
        "outage_grace_seconds": gw.clerk.outage_grace_seconds,
        "warnings": gw.warnings,
    });
    Decision {
        outcome: Outcome::Respond(json_plan(200, body, auth_status)),
        log,
    }
}

/// `/__edgegate/session`: the session's fields, or 401 with where to sign in.
fn session_answer(
    gw: &Settings,
    session: Result<&Auth, RefusalReason>,
    auth_status: AuthStatus,
    mut log: LogRecord,
    public: &PublicUrl,
) -> Decision {
    let reason = match session {
        Ok(auth) => {
            log.outcome = crate::refusal::LogOutcome::Session;
            return Decision {
                outcome: Outcome::Respond(json_plan(200, session_json(auth), auth_status)),
                log,
            };
        }
        Err(reason) => reason,
    };
    let mut d = refuse(
        Rejection::Unauthenticated {
            reason,
            page_load: false,
            sign_in: None,
        },
        log,
    );
    // The session page links its signed-out state to the sign-in page: in the body as
    // `sign_in_url` (null when there is none to link to) and in a header.
    let target = session_page_sign_in(gw, public);
    if let Outcome::Respond(plan) = &mut d.outcome {
        if let Ok(Value::Object(mut body)) = serde_json::from_str(&plan.body) {
            body.insert("sign_in_url".to_owned(), json!(target));
            plan.body = Value::Object(body).to_string();
        }
        if let Some(target) = target {
            plan.headers
                .push(("X-Edgegate-Sign-In-Url".to_owned(), target));
        }
    }
    d
}

/// A www/ page, fetched from ASSETS (`/__edgegate/` is the session page).
fn asset(
    inbound: &Inbound<'_>,
    path: &str,
    auth_status: AuthStatus,
    mut log: LogRecord,
) -> Decision {
    log.outcome = crate::refusal::LogOutcome::Asset;
    let rest = path.strip_prefix(GATEWAY_PREFIX).unwrap_or("/");
    let asset = if rest.is_empty() || rest == "/" {
        "/index.html".to_owned()
    } else {
        rest.to_owned()
    };
    Decision {
        outcome: Outcome::Asset {
            url: asset_url(inbound.url, &asset),
            auth_status,
        },
        log,
    }
}

#[cfg(test)]
mod session_page_tests {
    use super::{display_name, session_page_sign_in, string_claim};
    use crate::config::Settings;
    use crate::forwarded::PublicUrl;
    use serde_json::{json, Map, Value};

    // A P-256 public key (SPKI, base64 body alone): any valid key will do here.
    const KEY: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEDXLyql56nUopIKgTUdQiRoDIECoooGQIADqW9OaKy6daYrBbKS4WxaHeJFIMwBGJMCz7Vr9skEEM1ofdy2mrjw==";

    fn settings(extra: &[(&str, &str)]) -> Settings {
        let lookup = |name: &str| {
            extra
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
                .or_else(|| match name {
                    "CLERK_JWT_KEY" => Some(KEY.to_owned()),
                    "AUTHORIZED_PARTIES" => Some("https://app.example.com".to_owned()),
                    "ORIGIN_URL" => Some("http://127.0.0.1:9000".to_owned()),
                    _ => None,
                })
        };
        Settings::from_settings(&lookup).expect("settings")
    }

    fn public() -> PublicUrl {
        PublicUrl::from_request_url("https://app.example.com/__edgegate/session").expect("url")
    }

    const BACK: &str = "redirect_url=https%3A%2F%2Fapp.example.com%2F__edgegate%2F";

    #[test]
    fn sign_in_url_first_then_the_account_portal_then_none() {
        let pk = format!("pk_live_{}", "Y2xlcmsuZXhhbXBsZS5jb20k"); // clerk.example.com$
        let both = settings(&[
            ("SIGN_IN_URL", "https://login.example.com/in"),
            ("PUBLISHABLE_KEY", &pk),
        ]);
        assert_eq!(
            session_page_sign_in(&both, &public()).as_deref(),
            Some(format!("https://login.example.com/in?{BACK}").as_str())
        );
        let path = settings(&[("SIGN_IN_URL", "/sign-in")]);
        assert_eq!(
            session_page_sign_in(&path, &public()).as_deref(),
            Some(format!("https://app.example.com/sign-in?{BACK}").as_str())
        );
        let key_only = settings(&[("PUBLISHABLE_KEY", &pk)]);
        assert_eq!(
            session_page_sign_in(&key_only, &public()).as_deref(),
            Some(format!("https://accounts.example.com/sign-in?{BACK}").as_str())
        );
        assert_eq!(session_page_sign_in(&settings(&[]), &public()), None);
    }

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn name_and_email_come_from_custom_claims_when_present() {
        assert_eq!(
            display_name(&claims(json!({"name": " Ada Lovelace "}))).as_deref(),
            Some("Ada Lovelace")
        );
        assert_eq!(
            display_name(&claims(
                json!({"first_name": "Ada", "last_name": "Lovelace"})
            ))
            .as_deref(),
            Some("Ada Lovelace")
        );
        assert_eq!(
            display_name(&claims(json!({"first_name": "Ada"}))).as_deref(),
            Some("Ada")
        );
        assert_eq!(
            display_name(&claims(json!({"name": 7, "full_name": ""}))),
            None
        );
        assert_eq!(display_name(&claims(json!({"sub": "user_2abc"}))), None);
        let c = claims(json!({"email": "", "primary_email_address": "ada@example.com"}));
        assert_eq!(
            string_claim(&c, &["email", "email_address", "primary_email_address"]).as_deref(),
            Some("ada@example.com")
        );
    }
}
