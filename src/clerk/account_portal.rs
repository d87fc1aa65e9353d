//! Clerk's Account Portal: the hosted sign-in page of an instance, found from its Frontend API
//! host the way Clerk's SDKs find it (`buildAccountsBaseUrl` in `@clerk/shared`, which
//! `createRedirect` uses when no sign-in URL is configured). The session page links to it when
//! `SIGN_IN_URL` is not set.

use super::publishable_key::PublishableKey;

/// `https://<Account Portal host>` for a Frontend API host. As in Clerk: the first
/// `clerk.accountsstage.` becomes `accountsstage.` (staging); then the first `clerk.` becomes
/// `accounts.`, taking a following `accounts.` with it (`clerk.accounts.` is one match). So
/// `clerk.example.com` (production) gives `https://accounts.example.com` and
/// `foo-bar-12.clerk.accounts.dev` (development) gives `https://foo-bar-12.accounts.dev`.
pub fn accounts_base_url(frontend_api: &str) -> String {
    let host = replace_first(frontend_api, "clerk.accountsstage.", "accountsstage.");
    let host = match host.find("clerk.") {
        Some(at) if host[at..].starts_with("clerk.accounts.") => {
            replace_at(&host, at, "clerk.accounts.".len(), "accounts.")
        }
        Some(at) => replace_at(&host, at, "clerk.".len(), "accounts."),
        None => host,
    };
    format!("https://{host}")
}

/// The Account Portal's sign-in page for the instance a publishable key names.
pub fn account_portal_sign_in_url(pk: &PublishableKey) -> String {
    format!("{}/sign-in", accounts_base_url(&pk.frontend_api))
}

fn replace_first(s: &str, from: &str, to: &str) -> String {
    match s.find(from) {
        Some(at) => replace_at(s, at, from.len(), to),
        None => s.to_owned(),
    }
}

/// `s` with the `len` bytes at `at` replaced by `to` (`at` and `at + len` are the ends of an
/// ASCII match found by `find`, so both are char boundaries).
fn replace_at(s: &str, at: usize, len: usize, to: &str) -> String {
    let mut out = String::with_capacity(s.len() + to.len());
    out.push_str(&s[..at]);
    out.push_str(to);
    out.push_str(&s[at + len..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;

    fn key(prefix: &str, host: &str) -> PublishableKey {
        let pk = format!("{prefix}{}", STANDARD.encode(format!("{host}$")));
        PublishableKey::parse(&pk).expect("publishable key")
    }

    #[test]
    fn frontend_api_hosts_map_to_the_account_portal_as_in_clerk() {
        // Clerk's own cases (buildAccountsBaseUrl.spec.ts) and the two instance kinds.
        for (fapi, accounts) in [
            (
                "one-two-three.clerk.accountsstage.dev",
                "https://one-two-three.accountsstage.dev",
            ),
            (
                "one-two-three.clerk.accounts.dev",
                "https://one-two-three.accounts.dev",
            ),
            ("clerk.accounts.example.com", "https://accounts.example.com"),
            ("clerk.example.com", "https://accounts.example.com"),
            (
                "foo-bar-12.clerk.accounts.dev",
                "https://foo-bar-12.accounts.dev",
            ),
            (
                "clerk.shop.example.co.uk",
                "https://accounts.shop.example.co.uk",
            ),
            // No `clerk.` anywhere (a custom Frontend API host): left as it is.
            ("auth.example.com", "https://auth.example.com"),
        ] {
            assert_eq!(accounts_base_url(fapi), accounts, "{fapi}");
        }
    }

    #[test]
    fn sign_in_url_from_production_and_development_keys() {
        assert_eq!(
            account_portal_sign_in_url(&key("pk_live_", "clerk.example.com")),
            "https://accounts.example.com/sign-in"
        );
        assert_eq!(
            account_portal_sign_in_url(&key("pk_test_", "foo-bar-12.clerk.accounts.dev")),
            "https://foo-bar-12.accounts.dev/sign-in"
        );
        // The key's host is lower-cased when parsed, so the portal host is too.
        assert_eq!(
            account_portal_sign_in_url(&key("pk_live_", "Clerk.Example.com")),
            "https://accounts.example.com/sign-in"
        );
    }

    #[test]
    fn only_the_first_match_is_replaced() {
        assert_eq!(
            accounts_base_url("clerk.clerk.example.com"),
            "https://accounts.clerk.example.com"
        );
    }
}
