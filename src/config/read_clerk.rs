//! Clerk and the handshake: `SIGN_IN_URL`, `PUBLISHABLE_KEY`, `FRONTEND_API_URL`,
//! `OUTAGE_GRACE_SECONDS`, organisation sync, and the satellite settings checked against them.

use super::reader::Reader;
use super::setting_names as name;
use super::settings::MAX_OUTAGE_GRACE_SECONDS;
use crate::clerk::PublishableKey;
use crate::web_url::is_loopback_host;

/// What the Clerk reader found.
pub(super) struct ClerkRead {
    pub(super) sign_in_url: Option<String>,
    /// `PUBLISHABLE_KEY` was given (valid or not).
    pub(super) publishable_given: bool,
    pub(super) publishable: Option<PublishableKey>,
    /// `FRONTEND_API_URL` (or `CLERK_PROXY_URL`, `CLERK_FRONTEND_API`) was given.
    pub(super) frontend_api_given: bool,
    pub(super) fapi_base: Option<String>,
    pub(super) outage_grace_seconds: i64,
    pub(super) org_sync: crate::clerk::OrgSync,
}

/// Clerk and the handshake: `SIGN_IN_URL`, `PUBLISHABLE_KEY`, `FRONTEND_API_URL`,
/// `OUTAGE_GRACE_SECONDS`, the organisation-sync patterns, and the Frontend API they name.
pub(super) fn read_clerk<F: Fn(&str) -> Option<String>>(r: &mut Reader<'_, F>) -> ClerkRead {
    let sign_in_url = read_sign_in_url(r);
    let publishable_key = r.raw(name::PUBLISHABLE_KEY);
    if let Some(pk) = &publishable_key {
        if !(pk.starts_with("pk_test_") || pk.starts_with("pk_live_")) {
            r.problem(
                name::PUBLISHABLE_KEY,
                "must start with pk_test_ or pk_live_",
            );
        }
    }
    let frontend_api_url = r.raw(name::FRONTEND_API_URL).and_then(|v| {
        let u = r.url(name::FRONTEND_API_URL, &v, true)?;
        if u.scheme() == "http" && !is_loopback_host(&u) {
            r.problem(
                name::FRONTEND_API_URL,
                "must be https (http only on loopback)",
            );
            return None;
        }
        Some(u)
    });
    let outage_grace_seconds = r.int(name::OUTAGE_GRACE_SECONDS, 0, 0, MAX_OUTAGE_GRACE_SECONDS);
    let org_sync = read_org_sync(r);
    let publishable = publishable_key.as_deref().and_then(|pk| {
        let parsed = PublishableKey::parse(pk);
        if parsed.is_none() && (pk.starts_with("pk_test_") || pk.starts_with("pk_live_")) {
            r.problem(name::PUBLISHABLE_KEY, "not a valid Clerk publishable key");
        }
        parsed
    });
    let fapi_base =
        crate::clerk::frontend_api_base(frontend_api_url.as_ref(), publishable.as_ref());
    ClerkRead {
        sign_in_url,
        publishable_given: publishable_key.is_some(),
        publishable,
        frontend_api_given: frontend_api_url.is_some(),
        fapi_base,
        outage_grace_seconds,
        org_sync,
    }
}

/// `SIGN_IN_URL`: an absolute http(s) URL, or a path on this host (starting with one `/`).
fn read_sign_in_url<F: Fn(&str) -> Option<String>>(r: &mut Reader<'_, F>) -> Option<String> {
    let v = r.raw(name::SIGN_IN_URL)?;
    if v.starts_with('/') && !v.starts_with("//") && !v.contains('\\') {
        // A path on this host: resolved against the public URL per request.
        let valid = !v.bytes().any(|b| b.is_ascii_control() || b == b' ');
        if !valid {
            r.problem(
                name::SIGN_IN_URL,
                "path contains spaces or control characters",
            );
            return None;
        }
        Some(v)
    } else {
        r.url(name::SIGN_IN_URL, &v, true).map(|u| u.to_string())
    }
}

/// The publishable key, on a production satellite with its own Frontend API host as Clerk's
/// `parsePublishableKey` gives it there (`clerk.<DOMAIN>`).
pub(super) fn with_satellite_frontend_api(
    pk: Option<PublishableKey>,
    satellite: &crate::clerk::SatelliteSettings,
) -> Option<PublishableKey> {
    let mut pk = pk?;
    if let (true, crate::clerk::Instance::Production, Some(domain)) = (
        satellite.is_satellite,
        pk.instance,
        satellite.domain.as_deref(),
    ) {
        pk.satellite_frontend_api = Some(format!("clerk.{domain}"));
    }
    Some(pk)
}

/// `IS_SATELLITE`, `DOMAIN`, `SATELLITE_AUTO_SYNC` and `SATELLITE_DOMAINS` (see
/// `clerk::satellite`), checked against the Clerk settings as Clerk's `authenticateRequest`
/// checks them. Returns the settings and, on a production satellite without a proxy URL, its
/// Frontend API (`https://clerk.<DOMAIN>`).
pub(super) fn read_satellite<F: Fn(&str) -> Option<String>>(
    r: &mut Reader<'_, F>,
    clerk: &ClerkRead,
) -> (crate::clerk::SatelliteSettings, Option<String>) {
    let input = crate::clerk::SatelliteInput {
        is_satellite: r.bool(name::IS_SATELLITE, false),
        domain: r.raw(name::DOMAIN),
        auto_sync: r.bool(name::SATELLITE_AUTO_SYNC, false),
        satellite_domains: r.list(name::SATELLITE_DOMAINS),
        publishable_given: clerk.publishable_given,
        instance: clerk.publishable.as_ref().map(|pk| pk.instance),
        frontend_api_given: clerk.frontend_api_given,
        sign_in_url: clerk.sign_in_url.as_deref(),
    };
    match crate::clerk::SatelliteSettings::from_settings(&input) {
        Ok(s) => {
            let fapi = s.frontend_api_base(input.instance, input.frontend_api_given);
            (s, fapi)
        }
        Err(problems) => {
            for (setting, problem) in problems {
                r.problem(setting, problem);
            }
            (crate::clerk::SatelliteSettings::default(), None)
        }
    }
}

/// `ORGANIZATION_PATTERNS` and `PERSONAL_ACCOUNT_PATTERNS` (see `clerk::org_sync`); invalid
/// patterns are problems naming the entry and fragment, and read as none.
fn read_org_sync<F: Fn(&str) -> Option<String>>(r: &mut Reader<'_, F>) -> crate::clerk::OrgSync {
    let org = r.raw(name::ORGANIZATION_PATTERNS);
    let personal = r.raw(name::PERSONAL_ACCOUNT_PATTERNS);
    crate::clerk::OrgSync::from_settings(org.as_deref(), personal.as_deref()).unwrap_or_else(
        |problems| {
            for (setting, problem) in problems {
                r.problem(setting, problem);
            }
            crate::clerk::OrgSync::default()
        },
    )
}
