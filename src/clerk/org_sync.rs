//! Organisation sync: Clerk's `organizationSyncOptions` for every origin. A page load whose path
//! names an organisation (`ORGANIZATION_PATTERNS`, e.g. `/orgs/:slug, /orgs/:slug/(.*)`) that is
//! not the session's active one, or that names the personal account
//! (`PERSONAL_ACCOUNT_PATTERNS`, e.g. `/me, /me/(.*)`) while an organisation is active, starts a
//! handshake that asks the Frontend API to activate it (`organization_id=<id or slug>`, empty for
//! the personal account), as Clerk's `HandshakeService` does. A request that cannot be redirected
//! (an API call, a POST, a Bearer token) is refused with `organization-mismatch` instead.
//!
//! Patterns are the route grammar of [`crate::routes::Pattern`], matched case-insensitively as
//! Clerk's path-to-regexp matcher does. An organisation pattern names `:slug` or `:id` once, as a
//! whole path segment; the segments before it are literal text or `:name`, so the captured value
//! is always the path's segment at that position.

use super::grace::FapiStatus;
use super::names::MAX_HANDSHAKE_REDIRECTS;
use crate::auth::Auth;
use crate::routes::Pattern;

/// The `__clerk_hs_reason` of an activation handshake: Clerk's `active-organization-mismatch`.
pub const ACTIVE_ORGANIZATION_MISMATCH: &str = "active-organization-mismatch";
/// The Frontend API's handshake parameter naming the organisation to activate (id or slug;
/// empty for the personal account), appended after Clerk's other parameters.
pub const ORGANIZATION_ID_PARAM: &str = "organization_id";
/// The setting of organisation patterns.
pub const ORGANIZATION_PATTERNS: &str = "ORGANIZATION_PATTERNS";
/// The setting of personal-account patterns.
pub const PERSONAL_ACCOUNT_PATTERNS: &str = "PERSONAL_ACCOUNT_PATTERNS";

/// How a URL names an organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgRef {
    /// `:id`: the organisation's id (`org_...`), compared with the token's `org_id` / `o.id`.
    Id(String),
    /// `:slug`: the organisation's slug, compared with the token's `org_slug` / `o.slg`.
    Slug(String),
}

/// What a request's path asks to be active.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgSyncTarget {
    /// The organisation the path names.
    Organization(OrgRef),
    /// The personal account (no active organisation).
    PersonalAccount,
}

impl OrgSyncTarget {
    /// True when the session's active organisation is not the one asked for (Clerk's
    /// `handleMaybeOrganizationSyncHandshake`): another id or slug (or none active), or any
    /// organisation active where the personal account is asked for. Values compare exactly.
    pub fn must_activate(&self, auth: &Auth) -> bool {
        match self {
            OrgSyncTarget::Organization(OrgRef::Id(id)) => auth.org_id.as_deref() != Some(id),
            OrgSyncTarget::Organization(OrgRef::Slug(s)) => auth.org_slug.as_deref() != Some(s),
            OrgSyncTarget::PersonalAccount => auth.org_id.is_some(),
        }
    }

    /// The value of [`ORGANIZATION_ID_PARAM`]: the id or slug, empty for the personal account.
    pub fn organization_id_param(&self) -> &str {
        match self {
            OrgSyncTarget::Organization(OrgRef::Id(v) | OrgRef::Slug(v)) => v,
            OrgSyncTarget::PersonalAccount => "",
        }
    }
}

/// The parameter an organisation pattern captures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Capture {
    Id,
    Slug,
}

/// A compiled organisation pattern: the pattern, and the path segment its `:slug` / `:id` is.
#[derive(Debug, Clone, PartialEq, Eq)]
struct OrgPattern {
    pattern: Pattern,
    segment: usize,
    capture: Capture,
}

impl OrgPattern {
    fn target(&self, path: &str) -> Option<OrgRef> {
        if !self.pattern.matches_ignore_case(path) {
            return None;
        }
        let raw = path
            .split('/')
            .nth(self.segment)
            .filter(|v| !v.is_empty())?;
        // The path is canonical (escapes kept); the claims hold the decoded slug or id.
        let value = percent_encoding::percent_decode_str(raw)
            .decode_utf8()
            .ok()?;
        Some(match self.capture {
            Capture::Id => OrgRef::Id(value.into_owned()),
            Capture::Slug => OrgRef::Slug(value.into_owned()),
        })
    }
}

/// `ORGANIZATION_PATTERNS` and `PERSONAL_ACCOUNT_PATTERNS`, compiled. Empty: no sync.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrgSync {
    organization: Vec<OrgPattern>,
    personal: Vec<Pattern>,
}

/// Why an organisation pattern is refused (beyond the route grammar's own errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgPatternError {
    /// `org-pattern-no-parameter`: neither `:slug` nor `:id`.
    NoParameter,
    /// `org-pattern-two-parameters`: `:slug` or `:id` more than once, or both.
    TwoParameters,
    /// `org-pattern-parameter-not-segment`: `:slug` / `:id` with a modifier, a regex, or other
    /// text in its segment.
    ParameterNotSegment,
    /// `org-pattern-variable-prefix`: a segment before `:slug` / `:id` that is neither literal
    /// text nor a plain `:name`.
    VariablePrefix,
}

impl OrgPatternError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            OrgPatternError::NoParameter => "org-pattern-no-parameter",
            OrgPatternError::TwoParameters => "org-pattern-two-parameters",
            OrgPatternError::ParameterNotSegment => "org-pattern-parameter-not-segment",
            OrgPatternError::VariablePrefix => "org-pattern-variable-prefix",
        }
    }

    fn hint(&self) -> &'static str {
        match self {
            OrgPatternError::NoParameter => {
                "name the organisation with `:slug` or `:id`, e.g. `/orgs/:slug`"
            }
            OrgPatternError::TwoParameters => "use one `:slug` or one `:id` per pattern",
            OrgPatternError::ParameterNotSegment => {
                "give `:slug` / `:id` a whole segment of its own, e.g. `/orgs/:slug/(.*)`"
            }
            OrgPatternError::VariablePrefix => {
                "before `:slug` / `:id`, use literal segments or plain `:name` segments only"
            }
        }
    }
}

/// A setting problem: the setting's name and the message.
pub type SettingProblem = (&'static str, String);

impl OrgSync {
    /// Compiles the two settings (comma- or newline-separated patterns; unset or empty: none).
    /// Every problem names its setting, entry and fragment.
    pub fn from_settings(
        organization: Option<&str>,
        personal: Option<&str>,
    ) -> Result<OrgSync, Vec<SettingProblem>> {
        let mut problems = Vec::new();
        let org = parse_list(ORGANIZATION_PATTERNS, organization.unwrap_or(""));
        let personal = parse_list(PERSONAL_ACCOUNT_PATTERNS, personal.unwrap_or(""));
        let mut sync = OrgSync::default();
        match org {
            Ok(patterns) => {
                for (entry, pattern) in patterns.into_iter().enumerate() {
                    match org_pattern(pattern) {
                        Ok(p) => sync.organization.push(p),
                        Err((e, source, fragment)) => problems.push((
                            ORGANIZATION_PATTERNS,
                            problem(entry + 1, &source, e, &fragment),
                        )),
                    }
                }
            }
            Err(p) => problems.push(p),
        }
        match personal {
            Ok(patterns) => sync.personal = patterns,
            Err(p) => problems.push(p),
        }
        if problems.is_empty() {
            Ok(sync)
        } else {
            Err(problems)
        }
    }

    /// No pattern configured.
    pub fn is_empty(&self) -> bool {
        self.organization.is_empty() && self.personal.is_empty()
    }

    /// What the canonical `path` asks to be active (Clerk's `OrganizationMatcher.findTarget`):
    /// the first organisation pattern that matches, else the personal account when a
    /// personal-account pattern matches, else nothing.
    pub fn target(&self, path: &str) -> Option<OrgSyncTarget> {
        if let Some(org) = self.organization.iter().find_map(|p| p.target(path)) {
            return Some(OrgSyncTarget::Organization(org));
        }
        self.personal
            .iter()
            .any(|p| p.matches_ignore_case(path))
            .then_some(OrgSyncTarget::PersonalAccount)
    }
}

/// The route grammar's parser (its errors name the entry and fragment), under this setting's
/// name.
fn parse_list(setting: &'static str, raw: &str) -> Result<Vec<Pattern>, SettingProblem> {
    crate::routes::parse_protected_routes(raw).map_err(|mut e| {
        e.setting = setting;
        (setting, e.problem())
    })
}

fn problem(entry: usize, source: &str, e: OrgPatternError, fragment: &str) -> String {
    format!(
        "entry {entry} (`{source}`): {} `{fragment}`: {}",
        e.code(),
        e.hint()
    )
}

type OrgPatternFailure = (OrgPatternError, String, String);

/// The parameter name of each `:name` in a segment.
fn param_names(segment: &str) -> impl Iterator<Item = &str> {
    segment.split(':').skip(1).map(|after| {
        let len = after
            .bytes()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
            .count();
        after.get(..len).unwrap_or("")
    })
}

fn is_plain_segment(segment: &str) -> bool {
    let literal = !segment.contains([':', '(']);
    let plain_param = segment.strip_prefix(':').is_some_and(|n| {
        !n.is_empty() && n.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
    });
    literal || plain_param
}

fn org_pattern(pattern: Pattern) -> Result<OrgPattern, OrgPatternFailure> {
    let source = pattern.as_str().to_owned();
    let fail = |e: OrgPatternError, fragment: &str| (e, source.clone(), fragment.to_owned());
    let mut found: Option<(usize, Capture)> = None;
    for (index, segment) in source.split('/').enumerate() {
        let capture = match segment {
            ":slug" => Some(Capture::Slug),
            ":id" => Some(Capture::Id),
            _ => None,
        };
        if capture.is_none() && param_names(segment).any(|n| n == "slug" || n == "id") {
            return Err(fail(OrgPatternError::ParameterNotSegment, segment));
        }
        match (capture, found) {
            (Some(_), Some(_)) => return Err(fail(OrgPatternError::TwoParameters, segment)),
            (Some(c), None) => found = Some((index, c)),
            (None, None) if !is_plain_segment(segment) => {
                return Err(fail(OrgPatternError::VariablePrefix, segment))
            }
            _ => {}
        }
    }
    let (segment, capture) = found.ok_or_else(|| fail(OrgPatternError::NoParameter, &source))?;
    Ok(OrgPattern {
        pattern,
        segment,
        capture,
    })
}

/// The facts the organisation-sync decision needs about a request whose path asks for another
/// organisation than the session's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrgSyncRequest {
    /// A handshake could fix it: a page load ([`is_eligible`](super::is_eligible)) carrying
    /// Clerk's cookies, with a publishable key and a Frontend API to send it to.
    pub redirectable: bool,
    /// [`ClerkCookies::redirect_count`](super::ClerkCookies::redirect_count).
    pub redirect_count: u32,
    /// Outage grace is on: a handshake is preceded by the (cached) outage check.
    pub check_outage_first: bool,
    /// What the Frontend API looks like now.
    pub fapi_status: FapiStatus,
}

/// Why a redirectable page load is refused rather than sent to activate the organisation.
/// Clerk's middleware goes on with the session unchanged here and leaves the check to the app;
/// a gateway cannot leave it (the loop counter is a cookie the client sets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgSyncStopped {
    /// Three handshakes in a row did not activate it (the organisation does not exist or the
    /// user is not a member, or the client sent the counter itself).
    Loop,
    /// The Frontend API is down (outage grace's check).
    FrontendApiUnreachable,
}

impl OrgSyncStopped {
    /// The log line's `detail`.
    pub fn code(&self) -> &'static str {
        match self {
            OrgSyncStopped::Loop => "organization-sync-loop",
            OrgSyncStopped::FrontendApiUnreachable => "organization-sync-frontend-api-unreachable",
        }
    }
}

/// What to do with a signed-in request whose path asks for another organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgSyncDecision {
    /// Redirect to the handshake with [`ORGANIZATION_ID_PARAM`].
    Activate,
    /// Run the outage check, record it, and decide again.
    NeedOutageCheck,
    /// Refuse: 403 `organization-mismatch` (API calls, POSTs, Bearer tokens are never
    /// redirected; a page load when the handshake was stopped, and why).
    Refuse(Option<OrgSyncStopped>),
}

/// The organisation-sync decision: a request that cannot be redirected is refused; a page load
/// is redirected unless three handshakes already ran in a row (the loop guard) or, with outage
/// grace on, the Frontend API is down: then it is refused too, never served with the session's
/// other organisation.
pub fn org_sync_decision(request: &OrgSyncRequest) -> OrgSyncDecision {
    if !request.redirectable {
        return OrgSyncDecision::Refuse(None);
    }
    if request.redirect_count >= MAX_HANDSHAKE_REDIRECTS {
        return OrgSyncDecision::Refuse(Some(OrgSyncStopped::Loop));
    }
    match request.fapi_status {
        FapiStatus::Down => OrgSyncDecision::Refuse(Some(OrgSyncStopped::FrontendApiUnreachable)),
        FapiStatus::Unknown if request.check_outage_first => OrgSyncDecision::NeedOutageCheck,
        _ => OrgSyncDecision::Activate,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sync(org: &str, personal: &str) -> OrgSync {
        OrgSync::from_settings(Some(org), Some(personal)).unwrap_or_default()
    }

    fn auth(org_id: Option<&str>, org_slug: Option<&str>) -> Auth {
        Auth {
            user_id: "user_1".into(),
            session_id: None,
            session_status: None,
            org_id: org_id.map(str::to_owned),
            org_role: None,
            org_slug: org_slug.map(str::to_owned),
            org_permissions: Vec::new(),
            actor: None,
            factor_verification_age: None,
            expires_at: 0,
            issued_at: None,
            claims: serde_json::Map::new(),
            machine: None,
        }
    }

    fn slug(s: &str) -> Option<OrgSyncTarget> {
        Some(OrgSyncTarget::Organization(OrgRef::Slug(s.into())))
    }

    #[test]
    fn slug_patterns_capture_the_segment() {
        let s = sync("/orgs/:slug, /orgs/:slug/(.*)", "/me, /me/(.*)");
        assert_eq!(s.target("/orgs/acme"), slug("acme"));
        assert_eq!(s.target("/orgs/acme/"), slug("acme"));
        assert_eq!(s.target("/orgs/acme/settings/x"), slug("acme"));
        assert_eq!(
            s.target("/ORGS/Acme/x"),
            slug("Acme"),
            "case-insensitive, value kept"
        );
        assert_eq!(s.target("/orgs"), None);
        assert_eq!(s.target("/orgs/"), None);
        assert_eq!(s.target("/organisations/acme"), None);
        assert_eq!(s.target("/me"), Some(OrgSyncTarget::PersonalAccount));
        assert_eq!(
            s.target("/me/profile"),
            Some(OrgSyncTarget::PersonalAccount)
        );
        assert_eq!(s.target("/mee"), None);
        assert_eq!(s.target("/"), None);
    }

    #[test]
    fn id_patterns_and_plain_prefix_params() {
        let s = sync("/app/:any/orgs/:id/(.*)", "");
        assert_eq!(
            s.target("/app/x/orgs/org_123/billing"),
            Some(OrgSyncTarget::Organization(OrgRef::Id("org_123".into())))
        );
        assert_eq!(
            s.target("/app/x/orgs/org_123"),
            None,
            "needs the trailing part"
        );
    }

    #[test]
    fn organisation_patterns_win_over_personal_ones() {
        let s = sync("/orgs/:slug(.*)", "/orgs/(.*)");
        assert!(s.is_empty(), "`:slug(.*)` is refused");
        let s = sync("/u/:slug", "/u/(.*)");
        assert_eq!(s.target("/u/acme"), slug("acme"));
        assert_eq!(s.target("/u/acme/x"), Some(OrgSyncTarget::PersonalAccount));
    }

    fn codes(org: &str) -> Vec<String> {
        OrgSync::from_settings(Some(org), None)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|(setting, msg)| format!("{setting}: {msg}"))
            .collect()
    }

    #[test]
    fn invalid_patterns_name_the_setting_and_the_fragment() {
        let one = |org: &str| codes(org).join("\n");
        assert!(one("/orgs/all").contains("org-pattern-no-parameter"));
        assert!(one("/orgs/:slug/:id").contains("org-pattern-two-parameters `:id`"));
        assert!(one("/orgs/:slug?").contains("org-pattern-parameter-not-segment `:slug?`"));
        assert!(one("/orgs/team-:slug").contains("`team-:slug`"));
        assert!(one("/orgs/:rest*/:slug").contains("org-pattern-variable-prefix `:rest*`"));
        assert!(one("/a, /orgs/:slug*x").contains("ORGANIZATION_PATTERNS: entry 1"));
        let grammar = one("/orgs/:slug, /orgs/{x}");
        assert!(grammar.starts_with("ORGANIZATION_PATTERNS: "), "{grammar}");
        assert!(grammar.contains("entry 2"), "{grammar}");
        assert!(grammar.contains("pattern-unsupported-syntax"), "{grammar}");
        let personal = OrgSync::from_settings(None, Some("me"));
        let problems = personal.err().unwrap_or_default();
        assert_eq!(problems.len(), 1);
        assert!(problems
            .iter()
            .all(|(s, m)| *s == PERSONAL_ACCOUNT_PATTERNS && m.contains("pattern-not-absolute")));
        assert_eq!(OrgSync::from_settings(None, None), Ok(OrgSync::default()));
    }

    #[test]
    fn must_activate_follows_clerk() {
        let beta = auth(Some("org_beta"), Some("beta"));
        let none = auth(None, None);
        let acme = OrgSyncTarget::Organization(OrgRef::Slug("acme".into()));
        assert!(acme.must_activate(&beta));
        assert!(acme.must_activate(&none));
        assert!(!OrgSyncTarget::Organization(OrgRef::Slug("beta".into())).must_activate(&beta));
        assert!(!OrgSyncTarget::Organization(OrgRef::Id("org_beta".into())).must_activate(&beta));
        assert!(OrgSyncTarget::Organization(OrgRef::Id("beta".into())).must_activate(&beta));
        assert!(OrgSyncTarget::PersonalAccount.must_activate(&beta));
        assert!(!OrgSyncTarget::PersonalAccount.must_activate(&none));
        assert_eq!(acme.organization_id_param(), "acme");
        assert_eq!(OrgSyncTarget::PersonalAccount.organization_id_param(), "");
    }

    #[test]
    fn decisions() {
        let base = OrgSyncRequest {
            redirectable: true,
            redirect_count: 0,
            check_outage_first: false,
            fapi_status: FapiStatus::Unknown,
        };
        let d = |r: OrgSyncRequest| org_sync_decision(&r);
        assert_eq!(d(base), OrgSyncDecision::Activate);
        assert_eq!(
            d(OrgSyncRequest {
                redirectable: false,
                ..base
            }),
            OrgSyncDecision::Refuse(None)
        );
        assert_eq!(
            d(OrgSyncRequest {
                redirect_count: 2,
                ..base
            }),
            OrgSyncDecision::Activate
        );
        assert_eq!(
            d(OrgSyncRequest {
                redirect_count: 3,
                ..base
            }),
            OrgSyncDecision::Refuse(Some(OrgSyncStopped::Loop))
        );
        assert_eq!(
            d(OrgSyncRequest {
                check_outage_first: true,
                ..base
            }),
            OrgSyncDecision::NeedOutageCheck
        );
        assert_eq!(
            d(OrgSyncRequest {
                check_outage_first: true,
                fapi_status: FapiStatus::Up,
                ..base
            }),
            OrgSyncDecision::Activate
        );
        assert_eq!(
            d(OrgSyncRequest {
                fapi_status: FapiStatus::Down,
                ..base
            }),
            OrgSyncDecision::Refuse(Some(OrgSyncStopped::FrontendApiUnreachable))
        );
        assert_eq!(
            d(OrgSyncRequest {
                redirectable: false,
                redirect_count: 9,
                ..base
            }),
            OrgSyncDecision::Refuse(None),
            "an API call is refused even after the loop"
        );
    }
}
