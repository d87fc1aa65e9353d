//! Outage grace: whether a just-expired session may pass while the Frontend API is down, and the
//! per-isolate probe memory.

use super::names::PROBE_CACHE_MS;

use crate::token::{SessionClaims, Validation};

/// What Clerk's Frontend API looks like from here (see [`OutageProbe`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FapiStatus {
    /// Not checked recently.
    Unknown,
    /// Checked recently: it answered with a status other than 5xx.
    Up,
    /// Checked recently: the check failed, timed out or got a 5xx.
    Down,
}

/// Whether an expired session may be accepted because Clerk is down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraceDecision {
    /// Grace would apply if the Frontend API is down: check it, then decide again.
    NeedOutageCheck,
    /// Accept the session until `until_ms` (= (exp + grace) * 1000).
    Accept {
        /// Unix ms.
        until_ms: i64,
    },
    /// Grace does not apply.
    No,
}

/// Outage grace: only when `outage_grace_seconds` > 0, the token failed solely for expiry
/// (`SessionClaims::only_expired`: every other check passes), `now_ms` is before
/// `exp + grace`, and for cookie sessions (`client_uat` is `Some`) client_uat is > 0 and not later
/// than the token's `iat` (no sign-out since). Then: Frontend API unknown → check it; down →
/// accept; up → no (the normal handshake happens).
pub fn grace_applies(
    claims: &SessionClaims,
    validation: &Validation,
    outage_grace_seconds: i64,
    client_uat: Option<i64>,
    now_ms: i64,
    fapi: FapiStatus,
) -> GraceDecision {
    if outage_grace_seconds <= 0 || !claims.only_expired(validation, now_ms) {
        return GraceDecision::No;
    }
    if let Some(uat) = client_uat {
        if uat <= 0 || claims.iat.is_some_and(|iat| iat < uat) {
            return GraceDecision::No;
        }
    }
    let until_ms = claims
        .exp
        .saturating_add(outage_grace_seconds)
        .saturating_mul(1000);
    if now_ms >= until_ms {
        return GraceDecision::No;
    }
    match fapi {
        FapiStatus::Unknown => GraceDecision::NeedOutageCheck,
        FapiStatus::Up => GraceDecision::No,
        FapiStatus::Down => GraceDecision::Accept { until_ms },
    }
}

pub use crate::machine::ProbeResult;

/// Connection failure, timeout or 5xx → down; any other status → up.
pub fn classify_probe(result: ProbeResult) -> FapiStatus {
    match result {
        ProbeResult::ConnectFailed | ProbeResult::TimedOut => FapiStatus::Down,
        ProbeResult::Status(s) if (500..=599).contains(&s) => FapiStatus::Down,
        ProbeResult::Status(_) => FapiStatus::Up,
    }
}

/// The per-isolate memory of the last outage check, valid [`PROBE_CACHE_MS`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutageProbe {
    last: Option<(FapiStatus, i64)>,
}

impl OutageProbe {
    /// A probe memory with no check recorded.
    pub fn new() -> OutageProbe {
        OutageProbe::default()
    }

    /// Up/Down when checked within the last 30 s (a clock going backwards counts as stale),
    /// else `Unknown`.
    pub fn status(&self, now_ms: i64) -> FapiStatus {
        match self.last {
            Some((status, at)) if now_ms >= at && now_ms.saturating_sub(at) < PROBE_CACHE_MS => {
                status
            }
            _ => FapiStatus::Unknown,
        }
    }

    /// Records a check and returns its classification.
    pub fn record(&mut self, result: ProbeResult, now_ms: i64) -> FapiStatus {
        let status = classify_probe(result);
        self.last = Some((status, now_ms));
        status
    }
}
