//! Rule requirements (`org`, `role:`, `permission:`, `feature:`, `plan:`, `reverification:`,
//! `token:`, `scope:`), their parsing, and the check of a verified [`Auth`] against one rule's
//! requirements.

use super::entitlement::{any_granted, Entitlement};
use super::reverification::Reverification;
use super::route_error::{Located, PatternError};
use crate::auth::Auth;
use crate::token::{TokenType, TokenTypes};
use std::fmt;

/// One requirement of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    /// An active organisation.
    Organization,
    /// The active organisation role is one of these.
    Role(Vec<String>),
    /// The active organisation grants one of these permissions.
    Permission(Vec<String>),
    /// The session's `fea` claim grants one of these features.
    Feature(Vec<Entitlement>),
    /// The session's `pla` claim grants one of these plans.
    Plan(Vec<Entitlement>),
    /// A factor verified recently enough (the `fva` claim).
    Reverification(Reverification),
    /// The token is one of these types (`token:m2m|oauth`); without one, a route takes
    /// session tokens only.
    Token(TokenTypes),
    /// A machine token holding one of these scopes (a session never does).
    Scope(Vec<String>),
}

/// Why a signed-in session may not use a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forbidden {
    /// `missing-organization`: no active organisation.
    MissingOrganization,
    /// `missing-role`: the organisation role is none of the rule's.
    MissingRole,
    /// `missing-permission`: the organisation grants none of the rule's permissions.
    MissingPermission,
    /// `missing-feature`: the session has none of the rule's features.
    MissingFeature,
    /// `missing-plan`: the session has none of the rule's plans.
    MissingPlan,
    /// `missing-scope`: the token holds none of the rule's scopes (a session holds none).
    MissingScope,
    /// `reverification-required`: the user must verify again (the requirement not met).
    ReverificationRequired(Reverification),
}

impl Forbidden {
    /// The stable reason code.
    pub fn code(&self) -> &'static str {
        match self {
            Forbidden::MissingOrganization => "missing-organization",
            Forbidden::MissingRole => "missing-role",
            Forbidden::MissingPermission => "missing-permission",
            Forbidden::MissingFeature => "missing-feature",
            Forbidden::MissingPlan => "missing-plan",
            Forbidden::MissingScope => "missing-scope",
            Forbidden::ReverificationRequired(_) => "reverification-required",
        }
    }
}

impl fmt::Display for Forbidden {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

fn parse_values(v: &str) -> Result<Vec<String>, PatternError> {
    let vals: Vec<String> = v.split('|').map(|s| s.trim().to_string()).collect();
    if vals
        .iter()
        .any(|s| s.is_empty() || s.chars().any(|c| c.is_control() || c.is_whitespace()))
    {
        return Err(PatternError::EmptyRequirementValue);
    }
    Ok(vals)
}

fn parse_entitlements(v: &str) -> Result<Vec<Entitlement>, PatternError> {
    parse_values(v)?
        .iter()
        .map(|s| Entitlement::parse(s))
        .collect()
}

fn parse_token_types(v: &str) -> Result<TokenTypes, PatternError> {
    parse_values(v)?
        .iter()
        .map(|w| TokenType::parse(w).ok_or(PatternError::UnknownTokenType))
        .collect::<Result<Vec<_>, _>>()
        .map(|types| TokenTypes::of(&types))
}

fn parse_word(s: &str) -> Result<Requirement, PatternError> {
    if s.eq_ignore_ascii_case("org") || s.eq_ignore_ascii_case("organization") {
        return Ok(Requirement::Organization);
    }
    if let Some(v) = s.strip_prefix("role:") {
        return parse_values(v).map(Requirement::Role);
    }
    if let Some(v) = s.strip_prefix("permission:") {
        return parse_values(v).map(Requirement::Permission);
    }
    if let Some(v) = s.strip_prefix("feature:") {
        return parse_entitlements(v).map(Requirement::Feature);
    }
    if let Some(v) = s.strip_prefix("plan:") {
        return parse_entitlements(v).map(Requirement::Plan);
    }
    if let Some(v) = s.strip_prefix("reverification:") {
        return Reverification::parse(v.trim()).map(Requirement::Reverification);
    }
    if let Some(v) = s.strip_prefix("token:") {
        return parse_token_types(v).map(Requirement::Token);
    }
    if let Some(v) = s.strip_prefix("scope:") {
        return parse_values(v).map(Requirement::Scope);
    }
    Err(PatternError::UnknownRequirement)
}

/// Parses one requirement; an error names it.
pub(super) fn parse_requirement(s: &str) -> Result<Requirement, Located> {
    let s = s.trim();
    parse_word(s).map_err(|e| Located::at(e, s))
}

/// Clerk's `has()` normalisation of an asked role or permission: leading `org:` prefixes are
/// collapsed to exactly one (`admin` and `org:org:admin` both mean `org:admin`).
fn prefix_with_org(value: &str) -> String {
    let mut v = value;
    while let Some(rest) = v.strip_prefix("org:") {
        v = rest;
    }
    format!("org:{v}")
}

fn org_equal(required: &str, actual: &str) -> bool {
    actual == prefix_with_org(required)
}

fn needs_org(req: &Requirement) -> bool {
    matches!(
        req,
        Requirement::Organization | Requirement::Role(_) | Requirement::Permission(_)
    )
}

/// The first failure of one kind of requirement: `check` says whether a requirement holds
/// (`None`: not its kind).
fn first_failure(
    requirements: &[Requirement],
    check: impl Fn(&Requirement) -> Option<bool>,
    reason: Forbidden,
) -> Result<(), Forbidden> {
    match requirements.iter().any(|r| check(r) == Some(false)) {
        true => Err(reason),
        false => Ok(()),
    }
}

/// The token types a rule's requirements name: its `token:` requirements together
/// (`token:m2m,token:oauth` is `token:m2m|oauth`, as Clerk's `acceptsToken` array), or `None`
/// without one.
pub fn named_tokens(requirements: &[Requirement]) -> Option<TokenTypes> {
    requirements
        .iter()
        .filter_map(|r| match r {
            Requirement::Token(types) => Some(*types),
            _ => None,
        })
        .reduce(TokenTypes::union)
}

/// A machine token holding one of `wanted`; a session never does.
fn has_scope(auth: &Auth, wanted: &[String]) -> bool {
    auth.machine
        .as_ref()
        .is_some_and(|m| wanted.iter().any(|w| m.scopes.contains(w)))
}

/// Everything but reverification: scopes first, then an active organisation (organisation,
/// role and permission requirements need one), roles, permissions, features, plans. The token
/// type (`token:`) is the caller's to check, before (`rule::accepted_tokens`). A machine token
/// has no organisation, and its claims never grant a feature or plan.
pub(super) fn authorize_rights(requirements: &[Requirement], auth: &Auth) -> Result<(), Forbidden> {
    let scope_ok = |r: &Requirement| match r {
        Requirement::Scope(wanted) => Some(has_scope(auth, wanted)),
        _ => None,
    };
    first_failure(requirements, scope_ok, Forbidden::MissingScope)?;
    let session = auth.machine.is_none();
    let has_org = auth.org_id.as_deref().is_some_and(|o| !o.is_empty());
    if !has_org && requirements.iter().any(needs_org) {
        return Err(Forbidden::MissingOrganization);
    }
    let role = auth.org_role.as_deref().unwrap_or("");
    let role_ok = |r: &Requirement| match r {
        Requirement::Role(roles) => {
            Some(!role.is_empty() && roles.iter().any(|x| org_equal(x, role)))
        }
        _ => None,
    };
    first_failure(requirements, role_ok, Forbidden::MissingRole)?;
    let perm_ok = |r: &Requirement| match r {
        Requirement::Permission(perms) => Some(
            perms
                .iter()
                .any(|p| auth.org_permissions.iter().any(|g| org_equal(p, g))),
        ),
        _ => None,
    };
    first_failure(requirements, perm_ok, Forbidden::MissingPermission)?;
    let feature_ok = |r: &Requirement| match r {
        Requirement::Feature(wanted) => Some(session && any_granted(auth, "fea", wanted)),
        _ => None,
    };
    first_failure(requirements, feature_ok, Forbidden::MissingFeature)?;
    let plan_ok = |r: &Requirement| match r {
        Requirement::Plan(wanted) => Some(session && any_granted(auth, "pla", wanted)),
        _ => None,
    };
    first_failure(requirements, plan_ok, Forbidden::MissingPlan)
}

/// A `reverification:` requirement the session's factor ages do not meet.
pub(super) fn authorize_reverification(
    requirements: &[Requirement],
    auth: &Auth,
) -> Result<(), Forbidden> {
    requirements.iter().try_for_each(|r| match r {
        Requirement::Reverification(need) if !need.met_by(auth) => {
            Err(Forbidden::ReverificationRequired(*need))
        }
        _ => Ok(()),
    })
}
