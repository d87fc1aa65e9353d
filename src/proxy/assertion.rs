//! The origin assertion, `X-Edgegate-Assertion`: its claims and its HS256 signature (the proxy
//! module's documentation gives the claims and what an origin checks).

use super::RequestFacts;
use crate::token::MachineIdentity;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Map, Value};
use sha2::Sha256;

/// How long an origin assertion is valid, in seconds.
pub const ASSERTION_TTL_SECS: i64 = 60;

/// The assertion's `token_type`, `machine_id`, `client_id` and `scopes` of a machine token.
fn machine_claims(m: &MachineIdentity, c: &mut Map<String, Value>) {
    if let Some(id) = &m.machine_id {
        c.insert("machine_id".into(), json!(id));
    }
    if let Some(id) = &m.client_id {
        c.insert("client_id".into(), json!(id));
    }
    c.insert("scopes".into(), json!(m.scopes));
}

/// The claims of the origin assertion (see the module documentation).
pub fn assertion_claims(facts: &RequestFacts<'_>, audience: &str) -> Map<String, Value> {
    let mut c = Map::new();
    c.insert("iss".into(), json!("edgegate"));
    c.insert("aud".into(), json!(audience));
    c.insert("iat".into(), json!(facts.now));
    c.insert(
        "exp".into(),
        json!(facts.now.saturating_add(ASSERTION_TTL_SECS)),
    );
    c.insert("jti".into(), json!(facts.request_id));
    c.insert("htm".into(), json!(facts.method));
    c.insert("htu".into(), json!(facts.path_and_query));
    c.insert("auth_status".into(), json!(facts.auth_status().as_str()));
    if let Some(auth) = facts.auth {
        c.insert("token_type".into(), json!(auth.token_type().code()));
        if let Some(user) = auth.user() {
            c.insert("sub".into(), json!(user));
        }
        if let Some(m) = &auth.machine {
            machine_claims(m, &mut c);
        }
        let optional = [
            ("sid", auth.session_id.as_deref()),
            ("org_id", auth.org_id.as_deref()),
            ("org_role", auth.org_role.as_deref()),
            ("org_slug", auth.org_slug.as_deref()),
            ("act", auth.actor_id()),
        ];
        for (n, v) in optional {
            if let Some(v) = v {
                c.insert(n.into(), json!(v));
            }
        }
        if !auth.org_permissions.is_empty() {
            c.insert("org_permissions".into(), json!(auth.org_permissions));
        }
        if let Some(fva) = auth.factor_verification_age {
            c.insert("fva".into(), json!(fva));
        }
        // Clerk's features and plans, as a session carries them (never a machine token's).
        let session = auth.machine.is_none();
        for claim in ["fea", "pla"] {
            if let Some(v @ Value::String(_)) = auth.claims.get(claim).filter(|_| session) {
                c.insert(claim.into(), v.clone());
            }
        }
        if facts.grace {
            c.insert("grace".into(), json!(true));
        }
    } else if let Some(reason) = facts.signed_out_reason {
        c.insert("auth_reason".into(), json!(reason.code()));
    }
    c
}

/// Signs the assertion. `None` only if the HMAC cannot be keyed (never for HMAC-SHA256).
pub fn assertion(facts: &RequestFacts<'_>, audience: &str, secret: &[u8]) -> Option<String> {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload =
        URL_SAFE_NO_PAD.encode(Value::Object(assertion_claims(facts, audience)).to_string());
    let signing_input = format!("{header}.{payload}");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).ok()?;
    mac.update(signing_input.as_bytes());
    let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    Some(format!("{signing_input}.{sig}"))
}
