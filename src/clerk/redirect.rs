//! The handshake redirect: the 307 to the Frontend API, its state cookie and loop counter.

use super::auth_reason::Reason;
use super::names::{
    CLERK_API_VERSION, DEV_BROWSER, MAX_HANDSHAKE_REDIRECTS, REDIRECT_COUNT_COOKIE,
    REDIRECT_COUNT_MAX_AGE_S, STATE_MAX_AGE_S, STATE_NAME,
};
use super::org_sync::ORGANIZATION_ID_PARAM;
use super::publishable_key::Instance;
use super::query::{rewrite_url, HANDSHAKE_PARAMS};
use crate::token_source::SESSION_COOKIE;

use crate::web_url::WebUrl as Url;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// A response the edge builds as it is: status, `Location`, extra headers, `Set-Cookie`s (one
/// header each, in order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectPlan {
    /// The HTTP status (307).
    pub status: u16,
    /// The `Location` header.
    pub location: String,
    /// Other headers, in order.
    pub headers: Vec<(&'static str, String)>,
    /// `Set-Cookie` values, in order.
    pub set_cookies: Vec<String>,
}

pub(crate) fn handshake_headers() -> Vec<(&'static str, String)> {
    vec![
        ("Cache-Control", "no-store".to_owned()),
        ("X-Edgegate-Auth-Status", "handshake".to_owned()),
    ]
}

pub(crate) fn clear_cookie(name: &str) -> String {
    format!("{name}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax")
}

/// Length of the random input of a state value (base64url → 43 characters).
pub const STATE_RANDOM_BYTES: usize = 32;

/// The state value made from the caller's random bytes.
pub fn state_value(random: &[u8; STATE_RANDOM_BYTES]) -> String {
    URL_SAFE_NO_PAD.encode(random)
}

/// Why a handshake redirect could not be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirectError {
    /// `redirect_count` reached [`MAX_HANDSHAKE_REDIRECTS`]: signed out, `redirect-loop`.
    RedirectLoop,
    /// The public URL or the Frontend API base is not an absolute http(s) URL.
    BadUrl,
}

/// What a handshake redirect carries (see [`handshake_redirect`]); `reason_code` is sent as
/// `__clerk_hs_reason`, `organization_id` (organisation sync, see
/// [`OrgSyncTarget`](super::OrgSyncTarget)) is appended last, as Clerk's
/// `buildRedirectToHandshake` does, and may be empty (the personal account).
#[derive(Debug, Clone, Copy)]
pub struct HandshakeTarget<'a> {
    /// The Frontend API base.
    pub frontend_api_base: &'a str,
    /// The validated public URL.
    pub public_url: &'a str,
    /// `suffixed_cookies`.
    pub suffixed: bool,
    /// `__clerk_hs_reason`.
    pub reason_code: &'a str,
    /// `__clerk_db_jwt` (development instances only).
    pub dev_browser: Option<&'a str>,
    /// `__session`: the current session cookie's token.
    pub session_token: Option<&'a str>,
    /// `organization_id`: the organisation to activate, empty for the personal account.
    pub organization_id: Option<&'a str>,
}

/// The 307 to `<FAPI>/v1/client/handshake`. `public_url` MUST be the validated public URL (the
/// gateway's forwarded-header rules and `ALLOWED_HOSTS`), never a client-chosen host.
///
/// `redirect_url` is the public URL without any handshake parameter and the dev-browser token,
/// with `__edgegate_hs_state=<state>` added; `suffixed_cookies` and `__clerk_hs_reason` follow;
/// `__clerk_db_jwt` is added for development instances that have one. No `format=nonce`: the
/// Frontend API then answers with the handshake token itself. Set-Cookie: the state cookie
/// (HttpOnly, Secure, SameSite=Lax, Path=/, 5 minutes) and `__clerk_redirect_count` + 1 (3 s).
#[allow(clippy::too_many_arguments)]
pub fn handshake_redirect(
    frontend_api_base: &str,
    public_url: &str,
    suffixed: bool,
    reason: Reason,
    dev_browser: Option<&str>,
    session_token: Option<&str>,
    random: &[u8; STATE_RANDOM_BYTES],
    redirect_count: u32,
) -> Result<RedirectPlan, RedirectError> {
    let target = HandshakeTarget {
        frontend_api_base,
        public_url,
        suffixed,
        reason_code: reason.code(),
        dev_browser,
        session_token,
        organization_id: None,
    };
    handshake_redirect_to(&target, random, redirect_count)
}

/// [`handshake_redirect`] for a [`HandshakeTarget`] (any reason code, an organisation to
/// activate).
pub fn handshake_redirect_to(
    target: &HandshakeTarget<'_>,
    random: &[u8; STATE_RANDOM_BYTES],
    redirect_count: u32,
) -> Result<RedirectPlan, RedirectError> {
    if redirect_count >= MAX_HANDSHAKE_REDIRECTS {
        return Err(RedirectError::RedirectLoop);
    }
    let public = http_url(target.public_url).ok_or(RedirectError::BadUrl)?;
    let mut fapi = http_url(target.frontend_api_base).ok_or(RedirectError::BadUrl)?;
    fapi.set_query(None);
    fapi.set_fragment(None);
    let path = format!("{}/v1/client/handshake", fapi.path().trim_end_matches('/'));
    fapi.set_path(&path);

    let state = state_value(random);
    let redirect_url = rewrite_url(&public, HANDSHAKE_PARAMS, Some((STATE_NAME, &state)));
    // In the order of Clerk's `buildRedirectToHandshake`, without `format=nonce` (the
    // handshake token comes back in the URL, never through a nonce lookup).
    fapi.append_pair("redirect_url", &redirect_url);
    fapi.append_pair("__clerk_api_version", CLERK_API_VERSION);
    fapi.append_pair(
        "suffixed_cookies",
        if target.suffixed { "true" } else { "false" },
    );
    fapi.append_pair("__clerk_hs_reason", target.reason_code);
    if let Some(token) = target.session_token.filter(|t| !t.is_empty()) {
        fapi.append_pair(SESSION_COOKIE, token);
    }
    if let Some(db) = target.dev_browser.filter(|d| !d.is_empty()) {
        fapi.append_pair(DEV_BROWSER, db);
    }
    if let Some(org) = target.organization_id {
        fapi.append_pair(ORGANIZATION_ID_PARAM, org);
    }
    Ok(RedirectPlan {
        status: 307,
        location: fapi.into(),
        headers: handshake_headers(),
        set_cookies: vec![
            format!(
                "{STATE_NAME}={state}; Path=/; Max-Age={STATE_MAX_AGE_S}; HttpOnly; Secure; SameSite=Lax"
            ),
            redirect_count_cookie(redirect_count.saturating_add(1)),
        ],
    })
}

/// The redirect-loop counter cookie set to `count` (3 s, as Clerk's).
pub(crate) fn redirect_count_cookie(count: u32) -> String {
    format!(
        "{REDIRECT_COUNT_COOKIE}={count}; Path=/; Max-Age={REDIRECT_COUNT_MAX_AGE_S}; HttpOnly; Secure; SameSite=Lax"
    )
}

pub(crate) fn http_url(s: &str) -> Option<Url> {
    Url::parse(s).ok()
}

/// Development instances only: the dev-browser token goes to the handshake.
pub fn dev_browser_for_handshake<'a>(
    instance: Instance,
    query: Option<&'a str>,
    cookie: Option<&'a str>,
) -> Option<&'a str> {
    match instance {
        Instance::Development => query.or(cookie).filter(|d| !d.is_empty()),
        Instance::Production => None,
    }
}

/// Clerk's `createRedirect` on a development instance: a sign-in page on another host or port
/// than the request's gets the dev-browser token (`__clerk_db_jwt`), so that the sign-in
/// continues this development browser instead of starting another. `location` is returned as
/// it is otherwise (same host and port, no token, or a URL that does not parse).
pub fn sign_in_with_dev_browser(
    location: String,
    public: &str,
    dev_browser: Option<&str>,
) -> String {
    let Some(token) = dev_browser.filter(|t| !t.is_empty()) else {
        return location;
    };
    let (Some(mut target), Some(public)) = (http_url(&location), http_url(public)) else {
        return location;
    };
    let same_origin = target.host_str() == public.host_str()
        && target.port_or_default() == public.port_or_default();
    if same_origin {
        return location;
    }
    target.append_pair(DEV_BROWSER, token);
    target.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUBLIC: &str = "https://app.example.com/dashboard?tab=1";

    #[test]
    fn a_cross_origin_sign_in_gets_the_dev_browser_token() {
        let out = sign_in_with_dev_browser(
            "https://accounts.example.com/sign-in?redirect_url=x#frag".into(),
            PUBLIC,
            Some("dvb_1&2"),
        );
        assert_eq!(
            out,
            "https://accounts.example.com/sign-in?redirect_url=x&__clerk_db_jwt=dvb_1%262#frag"
        );
    }

    #[test]
    fn another_port_is_another_origin_and_the_default_port_is_not() {
        let other_port =
            sign_in_with_dev_browser("https://app.example.com:8443/s".into(), PUBLIC, Some("d"));
        assert_eq!(
            other_port,
            "https://app.example.com:8443/s?__clerk_db_jwt=d"
        );
        let same =
            sign_in_with_dev_browser("https://app.example.com:443/s".into(), PUBLIC, Some("d"));
        assert_eq!(same, "https://app.example.com:443/s");
    }

    #[test]
    fn no_token_or_an_unparsable_url_changes_nothing() {
        let loc = "https://accounts.example.com/sign-in".to_owned();
        assert_eq!(sign_in_with_dev_browser(loc.clone(), PUBLIC, None), loc);
        assert_eq!(sign_in_with_dev_browser(loc.clone(), PUBLIC, Some("")), loc);
        assert_eq!(
            sign_in_with_dev_browser("/sign-in".into(), PUBLIC, Some("d")),
            "/sign-in"
        );
    }
}
