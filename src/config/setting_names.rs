//! The names of the settings: every one the gateway reads ([`SETTING_NAMES`]), each also a
//! constant of the same name that its reader reads it by, and Clerk's names accepted for some of
//! them ([`ALIASES`]). A name is written once, here.

/// Declares each name as a constant spelling itself and lists them all in [`SETTING_NAMES`], in
/// order.
macro_rules! setting_names {
    ($($name:ident),* $(,)?) => {
        $(
            #[doc = concat!("`", stringify!($name), "`.")]
            pub const $name: &str = stringify!($name);
        )*
        /// Every setting the gateway reads, Clerk's names for some of them last (the edge looks
        /// each up once per isolate).
        pub const SETTING_NAMES: &[&str] = &[$($name),*];
    };
}

setting_names!(
    CLERK_JWT_KEY,
    AUTHORIZED_PARTIES,
    ORIGIN_URL,
    PUBLIC_ROUTES,
    PROTECTED_ROUTES,
    ROUTE_RULES,
    SIGN_IN_URL,
    CLOCK_SKEW_MS,
    ISSUER,
    AUDIENCE,
    AZP_MISSING,
    SID_MISSING,
    PENDING_SESSIONS,
    MAX_TOKEN_BYTES,
    PUBLISHABLE_KEY,
    FRONTEND_API_URL,
    OUTAGE_GRACE_SECONDS,
    ORGANIZATION_PATTERNS,
    PERSONAL_ACCOUNT_PATTERNS,
    TRUST_FORWARDED,
    ALLOWED_HOSTS,
    UPSTREAM_TIMEOUT_MS,
    ORIGIN_ASSERTION_SECRET,
    FORWARD_CLAIMS,
    FORWARD_TOKEN,
    STRIP_REQUEST_HEADERS,
    CORS_PREFLIGHT,
    LOG_REQUESTS,
    AUTH_STATUS_HEADER,
    JWKS_URL,
    IS_SATELLITE,
    DOMAIN,
    SATELLITE_AUTO_SYNC,
    SATELLITE_DOMAINS,
    // Clerk's names for the same settings (ALIASES).
    CLERK_PUBLISHABLE_KEY,
    CLERK_SIGN_IN_URL,
    CLERK_PROXY_URL,
    CLERK_FRONTEND_API,
    CLERK_IS_SATELLITE,
    CLERK_DOMAIN,
    CLERK_SATELLITE_AUTO_SYNC,
);

/// Clerk's environment names accepted for edgegate's settings where they mean the same. A
/// setting given under both names is a problem.
pub const ALIASES: &[(&str, &str)] = &[
    (PUBLISHABLE_KEY, CLERK_PUBLISHABLE_KEY),
    (SIGN_IN_URL, CLERK_SIGN_IN_URL),
    (FRONTEND_API_URL, CLERK_PROXY_URL),
    (FRONTEND_API_URL, CLERK_FRONTEND_API),
    (IS_SATELLITE, CLERK_IS_SATELLITE),
    (DOMAIN, CLERK_DOMAIN),
    (SATELLITE_AUTO_SYNC, CLERK_SATELLITE_AUTO_SYNC),
];
