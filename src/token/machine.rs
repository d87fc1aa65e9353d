//! Machine tokens: what marks a JWT signed by the instance as one of Clerk's machine tokens
//! (M2M or OAuth access token) rather than a user's session, read from the payload. The header
//! marks (`typ: at+jwt`, a machine `cat`) are read in [`super::jws`].
//!
//! Clerk's own test (`isMachineJwt`) looks at `typ` and a `mch_` subject only; edgegate also
//! refuses Clerk's machine token ids and a `client_id` claim on a token without `sid` (an OAuth
//! access token's shape; no session token carries one). A `scopes` claim alone is not taken as
//! a mark: JWT templates for Hasura or Supabase often carry one.

use serde_json::{Map, Value};

/// Subjects of Clerk's machine identities.
pub const MACHINE_SUBJECT_PREFIX: &str = "mch_";
/// Token ids (`jti`) of Clerk's M2M and OAuth access tokens.
pub const MACHINE_TOKEN_ID_PREFIXES: &[&str] = &["mt_", "oat_"];

fn starts_with_ignore_case(value: &str, prefix: &str) -> bool {
    value
        .get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

fn string_claim<'a>(payload: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    payload.get(name).and_then(Value::as_str)
}

/// True when the payload is a machine token's: a `mch_` subject, an `mt_`/`oat_` token id, or
/// `client_id` without a `sid`.
pub fn is_machine_payload(payload: &Map<String, Value>) -> bool {
    if string_claim(payload, "sub")
        .is_some_and(|s| starts_with_ignore_case(s, MACHINE_SUBJECT_PREFIX))
    {
        return true;
    }
    if string_claim(payload, "jti").is_some_and(|j| {
        MACHINE_TOKEN_ID_PREFIXES
            .iter()
            .any(|p| starts_with_ignore_case(j, p))
    }) {
        return true;
    }
    let has_sid = payload.get("sid").is_some_and(|v| !v.is_null());
    !has_sid && payload.contains_key("client_id")
}

#[cfg(test)]
mod tests {
    use super::is_machine_payload;
    use serde_json::{json, Map, Value};

    fn payload(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn machine_marks() {
        for p in [
            json!({"sub": "mch_2vYV", "sid": "sess_1"}),
            json!({"sub": "MCH_x"}),
            json!({"sub": "user_1", "sid": "sess_1", "jti": "mt_abc"}),
            json!({"sub": "user_1", "sid": "sess_1", "jti": "oat_abc"}),
            json!({"sub": "user_1", "client_id": "client_1"}),
            json!({"sub": "user_1", "sid": null, "client_id": "client_1"}),
        ] {
            assert!(is_machine_payload(&payload(p.clone())), "{p}");
        }
    }

    #[test]
    fn session_payloads_are_not_machine() {
        for p in [
            json!({"sub": "user_1", "sid": "sess_1"}),
            json!({"sub": "user_1", "sid": "sess_1", "jti": "abc"}),
            json!({"sub": "user_mch_1", "sid": "sess_1"}),
            json!({"sub": "user_1", "sid": "sess_1", "client_id": "x"}),
            json!({"handshake": []}),
            json!({"sub": 5}),
            json!({"sub": "user_1", "scopes": "a b"}),
        ] {
            assert!(!is_machine_payload(&payload(p.clone())), "{p}");
        }
    }
}
