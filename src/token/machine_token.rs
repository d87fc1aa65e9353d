//! Machine tokens: what marks a JWT signed by the instance as one of Clerk's machine tokens
//! (M2M or OAuth access token) rather than a user's session, and what such a token says.
//!
//! A token's type is read from the token itself ([`classify`]), as Clerk's `getMachineTokenType`
//! does: an M2M token has a `mch_` subject (and no `cat`, or the M2M category), an OAuth access
//! token has `typ: at+jwt` (or `application/at+jwt`). Beyond Clerk's test, edgegate also takes
//! Clerk's machine token ids (`jti` `mt_`/`oat_`) and a `client_id` claim on a token without
//! `sid` as marks of a machine token: such a token that is neither an M2M nor an OAuth token is
//! no session either ([`is_machine_payload`]). A `scopes` claim alone is not taken as a mark:
//! JWT templates for Hasura or Supabase often carry one.
//!
//! Opaque machine tokens (API keys `ak_`, opaque M2M `mt_` and OAuth `oat_` tokens) can only be
//! verified by Clerk's Backend API, which edgegate never calls ([`is_opaque_machine_token`]).

use super::jws::{Header, IGNORED_CATEGORY};
use super::token_error::{Malformed, TokenError};
use serde::Serialize;
use serde_json::{Map, Value};

/// Subjects of Clerk's machine identities.
pub const MACHINE_SUBJECT_PREFIX: &str = "mch_";
/// Token ids (`jti`) of Clerk's M2M and OAuth access tokens.
pub const MACHINE_TOKEN_ID_PREFIXES: &[&str] = &["mt_", "oat_"];
/// Prefixes of Clerk's opaque machine tokens: M2M tokens, OAuth access tokens, API keys.
pub const OPAQUE_TOKEN_PREFIXES: &[&str] = &["mt_", "oat_", "ak_"];
/// The `cat` of Clerk's M2M JWTs.
pub const M2M_CATEGORY: &str = "cl_B7d4PD333AAA";

/// The kinds of token a route can accept, named as Clerk's `TokenType` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum TokenType {
    /// `session_token`: a user's session.
    #[serde(rename = "session_token")]
    Session,
    /// `m2m_token`: a machine-to-machine token (a `mch_` subject).
    #[serde(rename = "m2m_token")]
    M2m,
    /// `oauth_token`: an OAuth access token (`typ: at+jwt`) an OAuth client holds for a user.
    #[serde(rename = "oauth_token")]
    OAuth,
}

impl TokenType {
    /// Every token type, in the order docs list them.
    pub const ALL: [TokenType; 3] = [TokenType::Session, TokenType::M2m, TokenType::OAuth];

    /// Clerk's name, as `X-Auth-Token-Type` and the assertion's `token_type` carry it.
    pub fn code(&self) -> &'static str {
        match self {
            TokenType::Session => "session_token",
            TokenType::M2m => "m2m_token",
            TokenType::OAuth => "oauth_token",
        }
    }

    /// A `token:` rule value: `session`, `m2m`, `oauth`, or Clerk's names (`session_token`,
    /// `m2m_token`, `oauth_token`).
    pub fn parse(word: &str) -> Option<TokenType> {
        match word {
            "session" | "session_token" => Some(TokenType::Session),
            "m2m" | "m2m_token" => Some(TokenType::M2m),
            "oauth" | "oauth_token" => Some(TokenType::OAuth),
            _ => None,
        }
    }

    fn bit(self) -> u8 {
        match self {
            TokenType::Session => 1,
            TokenType::M2m => 2,
            TokenType::OAuth => 4,
        }
    }
}

/// A set of token types: what a route accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenTypes(u8);

impl TokenTypes {
    /// Session tokens only: every route without a `token:` rule, every public path.
    pub const SESSION: TokenTypes = TokenTypes(1);
    /// No token type at all (rules whose `token:` requirements exclude one another).
    pub const NONE: TokenTypes = TokenTypes(0);

    /// The set of these types.
    pub fn of(types: &[TokenType]) -> TokenTypes {
        TokenTypes(types.iter().fold(0, |acc, t| acc | t.bit()))
    }
    /// True when `t` is in the set.
    pub fn contains(self, t: TokenType) -> bool {
        self.0 & t.bit() != 0
    }
    /// The types in both sets.
    pub fn intersect(self, other: TokenTypes) -> TokenTypes {
        TokenTypes(self.0 & other.0)
    }
    /// The types in either set.
    pub fn union(self, other: TokenTypes) -> TokenTypes {
        TokenTypes(self.0 | other.0)
    }
    /// True when a machine token type is in the set.
    pub fn any_machine(self) -> bool {
        self.contains(TokenType::M2m) || self.contains(TokenType::OAuth)
    }
}

/// What a verified machine token says about its holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MachineIdentity {
    /// `m2m_token` or `oauth_token`.
    pub token_type: TokenType,
    /// An M2M token's subject: the machine (`mch_...`).
    pub machine_id: Option<String>,
    /// An OAuth access token's `client_id`: the OAuth application.
    pub client_id: Option<String>,
    /// The token's scopes (M2M: `scopes` split on spaces, else `aud`; OAuth: `scp`, else
    /// `scope` split on spaces).
    pub scopes: Vec<String>,
}

/// Clerk's JWT shape test (`isJwtFormat`): three non-empty base64url segments.
fn is_jwt_format(token: &str) -> bool {
    let mut segments = 0;
    for segment in token.split('.') {
        segments += 1;
        if segment.is_empty()
            || !segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return false;
        }
    }
    segments == 3
}

/// True for one of Clerk's opaque machine tokens (`mt_`, `oat_`, `ak_` without a JWT's shape):
/// only Clerk's Backend API can say whether it is valid.
pub fn is_opaque_machine_token(token: &str) -> bool {
    OPAQUE_TOKEN_PREFIXES.iter().any(|p| token.starts_with(p)) && !is_jwt_format(token)
}

/// The token's type, from its header and payload: `None` for a token that carries a machine
/// mark but is neither a well-formed M2M nor OAuth token, or a `cat` of a class edgegate does
/// not know (refused as `token-type-mismatch` everywhere). JWT templates are sessions here;
/// their `cat` is checked with the session policy.
pub fn classify(header: &Header, payload: &Map<String, Value>) -> Option<TokenType> {
    let m2m_subject =
        string_claim(payload, "sub").is_some_and(|s| s.starts_with(MACHINE_SUBJECT_PREFIX));
    let cat = header.cat.as_deref();
    if header.access_token {
        // Clerk stamps no class on OAuth access tokens; a session's or M2M's class is a
        // contradiction.
        let plain = matches!(cat, None | Some(IGNORED_CATEGORY));
        return (plain && !m2m_subject).then_some(TokenType::OAuth);
    }
    if m2m_subject {
        // As Clerk's `verifyM2MJwt`: no `cat` (tokens minted before categories) or the M2M one.
        return matches!(cat, None | Some(M2M_CATEGORY)).then_some(TokenType::M2m);
    }
    if super::jws::category(header) == super::jws::Category::Other || is_machine_payload(payload) {
        return None;
    }
    Some(TokenType::Session)
}

fn string_list(value: &Value, name: &'static str) -> Result<Vec<String>, TokenError> {
    let bad = || TokenError::Invalid(Malformed::Claim(name));
    match value {
        Value::String(s) => split_scopes(s).ok_or_else(bad),
        // One scope per item: an empty one, or one with a space, would read as none or as two
        // once `X-Auth-Scopes` joins them with spaces (RFC 6749's scope-token has neither).
        Value::Array(items) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .filter(|s| {
                        !s.is_empty() && !s.chars().any(|c| c.is_whitespace() || c.is_control())
                    })
                    .map(str::to_owned)
                    .ok_or_else(bad)
            })
            .collect(),
        _ => Err(bad()),
    }
}

/// A space-separated scope list; any other whitespace or a control character is refused, so the
/// list reads the same to an origin that splits `X-Auth-Scopes` on any whitespace.
fn split_scopes(s: &str) -> Option<Vec<String>> {
    if s.chars()
        .any(|c| c != ' ' && (c.is_whitespace() || c.is_control()))
    {
        return None;
    }
    Some(
        s.split(' ')
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect(),
    )
}

fn scopes_string(
    payload: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<Vec<String>>, TokenError> {
    match payload.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => split_scopes(s)
            .map(Some)
            .ok_or(TokenError::Invalid(Malformed::Claim(name))),
        Some(_) => Err(TokenError::Invalid(Malformed::Claim(name))),
    }
}

/// The identity a machine token of type `token_type` carries; a scope or `client_id` claim of
/// the wrong type is `token-invalid`. `None` for a session token.
pub fn identity(
    token_type: TokenType,
    payload: &Map<String, Value>,
) -> Result<Option<MachineIdentity>, TokenError> {
    match token_type {
        TokenType::Session => Ok(None),
        TokenType::M2m => {
            let scopes = match scopes_string(payload, "scopes")? {
                Some(scopes) => scopes,
                None => match payload.get("aud") {
                    None | Some(Value::Null) => Vec::new(),
                    Some(aud) => string_list(aud, "aud")?,
                },
            };
            Ok(Some(MachineIdentity {
                token_type,
                machine_id: string_claim(payload, "sub").map(str::to_owned),
                client_id: None,
                scopes,
            }))
        }
        TokenType::OAuth => {
            let scopes = match payload.get("scp") {
                Some(v @ Value::Array(_)) => string_list(v, "scp")?,
                Some(Value::Null) | None => scopes_string(payload, "scope")?.unwrap_or_default(),
                Some(_) => return Err(TokenError::Invalid(Malformed::Claim("scp"))),
            };
            let client_id = match payload.get("client_id") {
                None | Some(Value::Null) => None,
                Some(Value::String(c)) => Some(c.clone()),
                Some(_) => return Err(TokenError::Invalid(Malformed::Claim("client_id"))),
            };
            Ok(Some(MachineIdentity {
                token_type,
                machine_id: None,
                client_id,
                scopes,
            }))
        }
    }
}

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
    use super::{classify, is_machine_payload, is_opaque_machine_token, TokenType, TokenTypes};
    use crate::keys::Alg;
    use crate::token::Header;
    use serde_json::{json, Map, Value};

    fn header(cat: Option<&str>, access_token: bool) -> Header {
        Header {
            alg: Alg::Rs256,
            kid: None,
            cat: cat.map(str::to_owned),
            access_token,
        }
    }

    #[test]
    fn the_type_comes_from_the_token() {
        let m2m = payload(json!({"sub": "mch_1", "scopes": "a"}));
        let user = payload(json!({"sub": "user_1", "sid": "sess_1"}));
        let oauth = payload(json!({"sub": "user_1", "client_id": "c"}));
        let cases = [
            (header(None, false), &m2m, Some(TokenType::M2m)),
            (
                header(Some("cl_B7d4PD333AAA"), false),
                &m2m,
                Some(TokenType::M2m),
            ),
            (header(Some("cl_B7d4PD111AAA"), false), &m2m, None),
            (header(Some("cl_I7d4PD111III"), false), &m2m, None),
            (header(None, true), &oauth, Some(TokenType::OAuth)),
            (
                header(Some("cl_I7d4PD111III"), true),
                &oauth,
                Some(TokenType::OAuth),
            ),
            (header(Some("cl_B7d4PD333AAA"), true), &oauth, None),
            (header(None, true), &m2m, None),
            (header(None, false), &oauth, None),
            (header(None, false), &user, Some(TokenType::Session)),
            (
                header(Some("cl_B7d4PD222AAA"), false),
                &user,
                Some(TokenType::Session),
            ),
            (header(Some("cl_B7d4PD333AAA"), false), &user, None),
            (header(Some("cl_X"), false), &user, None),
        ];
        for (i, (h, p, want)) in cases.iter().enumerate() {
            assert_eq!(classify(h, p), *want, "case {i}");
        }
    }

    #[test]
    fn opaque_tokens_are_told_by_prefix_and_shape() {
        for t in [
            "mt_abc",
            "oat_abc",
            "ak_abc",
            "ak_a.b",
            "mt_a.b.c.d",
            "mt_a..c",
        ] {
            assert!(is_opaque_machine_token(t), "{t}");
        }
        for t in [
            "mt_a.b.c",
            "eyJ.eyJ.sig",
            "user_abc",
            "MT_abc",
            "",
            "xmt_abc",
        ] {
            assert!(!is_opaque_machine_token(t), "{t}");
        }
    }

    #[test]
    fn token_type_sets() {
        let m = TokenTypes::of(&[TokenType::M2m, TokenType::OAuth]);
        assert!(m.any_machine() && !m.contains(TokenType::Session));
        assert!(!TokenTypes::SESSION.any_machine());
        assert_eq!(m.intersect(TokenTypes::SESSION), TokenTypes::NONE);
        for t in TokenType::ALL {
            assert_eq!(TokenType::parse(t.code()), Some(t));
        }
        assert_eq!(TokenType::parse("api_key"), None);
    }

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
