//! The redirect-host allow-list (`ALLOWED_HOSTS`): which hosts a redirect may go to, its
//! default, and the URL a sign-in redirect returns to.

use super::host::parse_host;
use super::public_url::PublicUrl;

/// True when a redirect to `url` is allowed: its host name equals an allowed entry's
/// (case-insensitively) and so does its port, a portless entry meaning the URL scheme's default
/// port (`app.example.com` allows `https://app.example.com`, never `:4444`). Anything
/// unparsable is refused.
pub fn redirect_allowed(url: &PublicUrl, allowed_hosts: &[String]) -> bool {
    let default = url.scheme.default_port();
    let port = url.port.unwrap_or(default);
    allowed_hosts
        .iter()
        .any(|entry| match parse_host(entry.trim()) {
            Ok(allowed) => allowed.name == url.host && allowed.port.unwrap_or(default) == port,
            Err(_) => false,
        })
}

/// True when `url` is an absolute http(s) URL whose host is allowed.
pub fn redirect_url_allowed(url: &str, allowed_hosts: &[String]) -> bool {
    PublicUrl::from_request_url(url).is_some_and(|u| redirect_allowed(&u, allowed_hosts))
}

/// The default `ALLOWED_HOSTS`: the request's own host and the hosts of `AUTHORIZED_PARTIES`
/// (origins such as `https://app.example.com`); unparsable parties are left out.
pub fn default_allowed_hosts(own_host: &str, authorized_parties: &[String]) -> Vec<String> {
    let mut out = vec![own_host.to_string()];
    for party in authorized_parties {
        if let Some(u) = PublicUrl::from_request_url(party.trim()) {
            let a = u.authority();
            if !out.contains(&a) {
                out.push(a);
            }
        }
    }
    out
}

/// The URL a sign-in redirect may return to: the derived public URL when its host is allowed,
/// otherwise the request's own URL (a spoofed host never lands in a redirect). The allowed hosts
/// are asked for only when the derived URL is not the request's own (most requests: no trusted
/// forwarded header changed it).
pub fn redirect_target(
    derived: &PublicUrl,
    own: &PublicUrl,
    allowed_hosts: impl FnOnce() -> Vec<String>,
) -> PublicUrl {
    if derived != own && redirect_allowed(derived, &allowed_hosts()) {
        derived.clone()
    } else {
        own.clone()
    }
}
