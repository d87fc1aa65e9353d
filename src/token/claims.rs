//! The session claim set: typed once after the signature (`SessionClaims::from_payload`), then
//! checked against the policy and the clock on every request (`SessionClaims::check`). The typed
//! form is what the edge's verified-token cache keeps, so a cache hit re-runs only `check`.

use super::machine_token::{self, TokenType, TokenTypes};
use super::token_error::{Malformed, TokenError};
use super::Validation;
use crate::auth::Auth;
use crate::http::RenderedHeaders;
use serde_json::{Map, Value};

/// Latest timestamp accepted in `exp`/`nbf`/`iat` (9999-12-31T23:59:59Z): anything later is
/// not a time but an attempt to make a token immortal or to overflow arithmetic.
pub const MAX_TIMESTAMP: i64 = 253_402_300_799;

/// A session token's typed claims: what the verified-token cache keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionClaims {
    /// The session the claims describe.
    pub auth: Auth,
    /// `exp`, seconds since the epoch.
    pub exp: i64,
    /// `nbf`, seconds since the epoch, when present.
    pub nbf: Option<i64>,
    /// `iat`, seconds since the epoch, when present.
    pub iat: Option<i64>,
    /// `azp`, the authorised party, when present.
    pub azp: Option<String>,
    /// `iss`, when present.
    pub iss: Option<String>,
    /// `aud` as a list (a single string is one entry), when present.
    pub aud: Option<Vec<String>>,
    /// The header's `cat` named a JWT-template token.
    pub template: bool,
    /// The identity headers the origin gets for this token, rendered by the first request
    /// proxied with it (under the isolate's settings, which never change) and kept with it in
    /// the verified-token cache.
    pub identity: RenderedHeaders,
}

fn timestamp(map: &Map<String, Value>, name: &'static str) -> Result<Option<i64>, TokenError> {
    match map.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(v) if (0..=MAX_TIMESTAMP).contains(&v) => Ok(Some(v)),
            _ => Err(TokenError::Invalid(Malformed::Claim(name))),
        },
        Some(_) => Err(TokenError::Invalid(Malformed::Claim(name))),
    }
}

fn optional_string(
    map: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<String>, TokenError> {
    match map.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(TokenError::Invalid(Malformed::Claim(name))),
    }
}

fn audience(map: &Map<String, Value>) -> Result<Option<Vec<String>>, TokenError> {
    match map.get("aud") {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(vec![s.clone()])),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or(TokenError::Invalid(Malformed::Claim("aud"))),
        Some(_) => Err(TokenError::Invalid(Malformed::Claim("aud"))),
    }
}

fn subject(map: &Map<String, Value>) -> Result<String, TokenError> {
    match map.get("sub") {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        _ => Err(TokenError::Invalid(Malformed::Claim("sub"))),
    }
}

fn lenient_string(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_owned)
}

impl SessionClaims {
    /// Types the claims: `sub` a non-empty string, `exp` required, `exp`/`nbf`/`iat` integers
    /// in range, `azp`/`iss`/`sid`/`sts` strings when present, `aud` a string or string array,
    /// `act` an object when present. Organisation data never fails a token (see `org`).
    pub fn from_payload(map: Map<String, Value>) -> Result<SessionClaims, TokenError> {
        let user_id = subject(&map)?;
        let exp = timestamp(&map, "exp")?.ok_or(TokenError::Invalid(Malformed::Claim("exp")))?;
        let nbf = timestamp(&map, "nbf")?;
        let iat = timestamp(&map, "iat")?;
        let azp = optional_string(&map, "azp")?;
        let iss = optional_string(&map, "iss")?;
        let session_id = optional_string(&map, "sid")?;
        let session_status = optional_string(&map, "sts")?;
        let aud = audience(&map)?;
        let actor = match map.get("act") {
            None | Some(Value::Null) => None,
            Some(v @ Value::Object(_)) => Some(v.clone()),
            Some(_) => return Err(TokenError::Invalid(Malformed::Claim("act"))),
        };
        let factor_verification_age = match map.get("fva") {
            Some(Value::Array(pair)) => match (
                pair.first().and_then(Value::as_i64),
                pair.get(1).and_then(Value::as_i64),
                pair.len(),
            ) {
                (Some(a), Some(b), 2) => Some([a, b]),
                _ => None,
            },
            _ => None,
        };
        let org = org_from_claims(&map);
        let auth = Auth {
            user_id,
            session_id,
            session_status,
            org_id: org.id,
            org_role: org.role,
            org_slug: org.slug,
            org_permissions: org.permissions,
            actor,
            factor_verification_age,
            expires_at: exp,
            issued_at: iat,
            claims: map,
            machine: None,
        };
        Ok(SessionClaims {
            auth,
            exp,
            nbf,
            iat,
            azp,
            iss,
            aud,
            template: false,
            identity: RenderedHeaders::default(),
        })
    }

    /// The per-request checks: first the token class (a token without `sid`, or a JWT-template
    /// token, is not a session unless `SID_MISSING=allow`), then in Clerk's order where Clerk
    /// has them: `azp`, `exp`, `nbf`, `iat`; then edgegate's `iss`, `aud` and pending-session
    /// rule. `now_ms` is Unix ms.
    pub fn check(&self, v: &Validation, now_ms: i64) -> Result<(), TokenError> {
        // A machine token is never a session, whatever else holds (a cache hit included).
        if self.auth.machine.is_some() {
            return Err(TokenError::TypeMismatch);
        }
        if !v.allow_missing_sid && (self.template || self.auth.session_id.is_none()) {
            return Err(TokenError::TypeMismatch);
        }
        match &self.azp {
            Some(azp) => {
                // Compared exactly, as Clerk's `assertAuthorizedPartiesClaim` does.
                if !v.authorized_parties.is_empty()
                    && !v.authorized_parties.iter().any(|p| p == azp)
                {
                    return Err(TokenError::InvalidAuthorizedParties);
                }
            }
            None => {
                if !v.authorized_parties.is_empty() && !v.allow_missing_azp {
                    return Err(TokenError::InvalidAuthorizedParties);
                }
            }
        }
        self.check_time_and_pins(v, now_ms)?;
        if !v.pending_is_signed_in && self.auth.session_status.as_deref() == Some("pending") {
            return Err(TokenError::SessionPending);
        }
        Ok(())
    }

    /// `exp`, `nbf`, `iat` with the clock skew, then the `ISSUER` and `AUDIENCE` pins: the checks
    /// session and machine tokens share.
    fn check_time_and_pins(&self, v: &Validation, now_ms: i64) -> Result<(), TokenError> {
        let skew = v.clock_skew_ms;
        if self.exp.saturating_mul(1000) <= now_ms.saturating_sub(skew) {
            return Err(TokenError::Expired);
        }
        if let Some(nbf) = self.nbf {
            if nbf.saturating_mul(1000) > now_ms.saturating_add(skew) {
                return Err(TokenError::NotActiveYet);
            }
        }
        if let Some(iat) = self.iat {
            if iat.saturating_mul(1000) > now_ms.saturating_add(skew) {
                return Err(TokenError::IatInFuture);
            }
        }
        if let Some(issuer) = &v.issuer {
            if self.iss.as_deref() != Some(issuer.as_str()) {
                return Err(TokenError::InvalidIssuer);
            }
        }
        if let Some(audiences) = &v.audience {
            let ok = self
                .aud
                .as_ref()
                .is_some_and(|aud| aud.iter().any(|a| audiences.contains(a)));
            if !ok {
                return Err(TokenError::InvalidAudience);
            }
        }
        Ok(())
    }

    /// The token's type: a session, or the machine token's.
    pub fn token_type(&self) -> TokenType {
        self.auth.token_type()
    }

    /// The per-request checks for a route that accepts `accepts`: a token of another type is
    /// `token-type-mismatch`; a session gets [`SessionClaims::check`]; a machine token the
    /// time checks and the `ISSUER`/`AUDIENCE` pins (no `azp`, `sid` or pending rule: it is
    /// no browser's session).
    pub fn check_as(
        &self,
        accepts: TokenTypes,
        v: &Validation,
        now_ms: i64,
    ) -> Result<(), TokenError> {
        let token_type = self.token_type();
        if !accepts.contains(token_type) {
            return Err(TokenError::TypeMismatch);
        }
        match token_type {
            TokenType::Session => self.check(v, now_ms),
            TokenType::M2m | TokenType::OAuth => self.check_time_and_pins(v, now_ms),
        }
    }

    /// Types a machine token's claims (`token_type` from [`machine::classify`]): `sub`, `exp`,
    /// `nbf`, `iat`, `azp`, `iss`, `aud` as for a session, then its identity
    /// ([`machine::identity`]). Nothing of a session's (organisation, actor, factor ages) is
    /// read from it: an M2M token's other claims are whatever its creator put there.
    pub fn from_machine_payload(
        map: Map<String, Value>,
        token_type: TokenType,
    ) -> Result<SessionClaims, TokenError> {
        let user_id = subject(&map)?;
        let exp = timestamp(&map, "exp")?.ok_or(TokenError::Invalid(Malformed::Claim("exp")))?;
        let nbf = timestamp(&map, "nbf")?;
        let iat = timestamp(&map, "iat")?;
        let azp = optional_string(&map, "azp")?;
        let iss = optional_string(&map, "iss")?;
        let aud = audience(&map)?;
        let machine = machine_token::identity(token_type, &map)?;
        if machine.is_none() {
            return Err(TokenError::TypeMismatch);
        }
        let auth = Auth {
            user_id,
            session_id: None,
            session_status: None,
            org_id: None,
            org_role: None,
            org_slug: None,
            org_permissions: Vec::new(),
            actor: None,
            factor_verification_age: None,
            expires_at: exp,
            issued_at: iat,
            claims: map,
            machine,
        };
        Ok(SessionClaims {
            auth,
            exp,
            nbf,
            iat,
            azp,
            iss,
            aud,
            template: false,
            identity: RenderedHeaders::default(),
        })
    }

    /// True when every check but expiry passes (used by outage grace mode). `check` stops at
    /// the first failure, and expiry comes before `nbf`, `iat`, issuer, audience and pending
    /// status, so those are re-checked at the last instant the token was valid.
    pub fn only_expired(&self, v: &Validation, now_ms: i64) -> bool {
        if !matches!(self.check(v, now_ms), Err(TokenError::Expired)) {
            return false;
        }
        let last_valid_ms = self
            .exp
            .saturating_mul(1000)
            .saturating_add(v.clock_skew_ms)
            .saturating_sub(1);
        self.check(v, last_valid_ms.min(now_ms)).is_ok()
    }
}

struct Org {
    id: Option<String>,
    role: Option<String>,
    slug: Option<String>,
    permissions: Vec<String>,
}

/// Organisation data from v1 (`org_*`) or v2 (`v: 2`, compact `o`, `fea`) claims, parsed as
/// Clerk's `jwtPayloadParser` does, except that malformed `fea`/`per`/`fpm` give no permissions
/// instead of throwing.
fn org_from_claims(map: &Map<String, Value>) -> Org {
    if map.get("v").and_then(Value::as_i64) == Some(2) {
        let Some(o) = map.get("o").and_then(Value::as_object) else {
            return Org {
                id: None,
                role: None,
                slug: None,
                permissions: Vec::new(),
            };
        };
        let role = o
            .get("rol")
            .and_then(Value::as_str)
            .filter(|r| !r.is_empty())
            .map(|r| format!("org:{r}"));
        let permissions = v2_permissions(
            map.get("fea").and_then(Value::as_str),
            o.get("per").and_then(Value::as_str),
            o.get("fpm").and_then(Value::as_str),
        )
        .unwrap_or_default();
        Org {
            id: lenient_string(o.get("id")),
            role,
            slug: lenient_string(o.get("slg")),
            permissions,
        }
    } else {
        let permissions = match map.get("org_permissions") {
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        Org {
            id: lenient_string(map.get("org_id")),
            role: lenient_string(map.get("org_role")),
            slug: lenient_string(map.get("org_slug")),
            permissions,
        }
    }
}

/// `fea` is `scope:feature,...` (scopes containing `o` are organisation features); `per` is
/// `perm,...`; `fpm` is one decimal bitmask per organisation feature, least significant bit
/// first over `per`. Feature i with bit j set gives `org:<feature i>:<per j>`. `None` when any
/// part is malformed.
pub fn v2_permissions(
    fea: Option<&str>,
    per: Option<&str>,
    fpm: Option<&str>,
) -> Option<Vec<String>> {
    let (fea, per, fpm) = (fea?, per?, fpm?);
    if fea.trim().is_empty() || per.trim().is_empty() || fpm.trim().is_empty() {
        return Some(Vec::new());
    }
    let mut org_features = Vec::new();
    for item in fea.split(',') {
        let (scope, name) = item.trim().split_once(':')?;
        if name.is_empty() || name.contains(':') {
            return None;
        }
        if scope.contains('o') {
            org_features.push(name);
        }
    }
    let permissions: Vec<&str> = per.split(',').map(str::trim).collect();
    if permissions.iter().any(|p| p.is_empty()) {
        return None;
    }
    let masks = fpm
        .split(',')
        .map(|m| {
            let m = m.trim();
            if m.is_empty() || !m.bytes().all(|b| b.is_ascii_digit()) {
                None
            } else {
                m.parse::<u64>().ok()
            }
        })
        .collect::<Option<Vec<u64>>>()?;
    let mut out = Vec::new();
    for (feature, mask) in org_features.iter().zip(masks.iter()) {
        for (bit, perm) in permissions.iter().enumerate() {
            if bit < 64 && mask & (1u64 << bit) != 0 {
                out.push(format!("org:{feature}:{perm}"));
            }
        }
    }
    Some(out)
}
