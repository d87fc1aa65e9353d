//! [`Settings::from_settings`]: one reader over every group of settings, then the
//! [`Settings`] assembled from what the group readers found, or every problem.

use super::read_clerk::{read_clerk, read_satellite, with_satellite_frontend_api};
use super::read_keys::{read_jwks_url, read_keys_and_validation};
use super::read_proxy::{read_proxy, read_reporting};
use super::read_routes::read_routes;
use super::reader::{ConfigError, Reader};
use super::settings::{ClerkSettings, HostSettings, OriginSettings, Settings, TokenSettings};
use std::rc::Rc;

impl Settings {
    /// Reads and validates every setting, one reader per group (keys and validation, Clerk and
    /// the handshake, satellites, the proxy, routes, key refresh). On failure returns every
    /// problem found (so health can list them all), each naming its setting.
    pub fn from_settings<F: Fn(&str) -> Option<String>>(
        lookup: &F,
    ) -> Result<Settings, Vec<ConfigError>> {
        let mut r = Reader {
            lookup,
            problems: Vec::new(),
        };
        let core = read_keys_and_validation(&mut r);
        let clerk = read_clerk(&mut r);
        let (satellite, satellite_fapi) = read_satellite(&mut r, &clerk);
        let proxy = read_proxy(&mut r, core.origin_url);
        let routes = read_routes(&mut r, clerk.sign_in_url.as_deref());
        let fapi_base = satellite_fapi.or(clerk.fapi_base);
        let jwks = read_jwks_url(&mut r, fapi_base.as_deref());
        let reporting = read_reporting(&mut r);
        let party_hosts =
            crate::forwarded::default_allowed_hosts("", &core.validation.authorized_parties)
                .into_iter()
                .filter(|h| !h.is_empty())
                .collect();

        match (core.keys, proxy.origin) {
            (Some(keys), Some((origin, headers))) if r.problems.is_empty() => Ok(Settings {
                tokens: TokenSettings {
                    validation: core.validation,
                    embedded_keys: keys,
                },
                clerk: ClerkSettings {
                    publishable: with_satellite_frontend_api(clerk.publishable, &satellite),
                    fapi_base,
                    sign_in_url: clerk.sign_in_url,
                    outage_grace_seconds: clerk.outage_grace_seconds,
                    org_sync: clerk.org_sync,
                    satellite,
                },
                proxy: OriginSettings {
                    origin: Rc::new(origin),
                    headers,
                    upstream_timeout_ms: proxy.upstream_timeout_ms,
                    preflight: proxy.preflight,
                },
                hosts: HostSettings {
                    trust_forwarded: proxy.trust_forwarded,
                    allowed: proxy.allowed_hosts,
                    party_hosts,
                },
                routes,
                jwks,
                reporting,
                warnings: Vec::new(),
            }),
            _ => Err(r.problems),
        }
    }
}
