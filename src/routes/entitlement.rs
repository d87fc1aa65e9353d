//! `feature:` and `plan:` requirements: Clerk Billing entitlements from the session token's `fea`
//! and `pla` claims, checked as Clerk's `has({ feature })` / `has({ plan })` do.
//!
//! A claim is a comma-separated list of `<scope>:<name>`, scope `u` (the user), `o` (the active
//! organisation) or `ou`/`uo` (both); other scopes are ignored, and an element without `:` makes
//! the whole claim unusable (fail closed). A requirement `feature:reports` is met by either scope,
//! `feature:org:reports` (also `o:`, `organization:`) only by the organisation's and
//! `feature:user:reports` (also `u:`) only by the user's.

use super::route_error::PatternError;
use crate::auth::Auth;
use serde_json::Value;

/// Whose entitlement a requirement accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The user's or the active organisation's.
    Any,
    /// The active organisation's only.
    Organization,
    /// The user's only.
    User,
}

/// One feature or plan a requirement accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entitlement {
    /// Whose it must be.
    pub scope: Scope,
    /// The feature's or plan's key.
    pub name: String,
}

impl Entitlement {
    /// Parses `name`, `org:name` or `user:name` (Clerk's spellings of the scope: `o`, `org`,
    /// `organization`, `u`, `user`).
    pub fn parse(value: &str) -> Result<Entitlement, PatternError> {
        let (scope, name) = match value.split_once(':') {
            None => (Scope::Any, value),
            Some(("o" | "org" | "organization", name)) => (Scope::Organization, name),
            Some(("u" | "user", name)) => (Scope::User, name),
            Some(_) => return Err(PatternError::UnknownScope),
        };
        if name.is_empty() || name.contains(':') {
            return Err(PatternError::EmptyRequirementValue);
        }
        Ok(Entitlement {
            scope,
            name: name.to_owned(),
        })
    }

    /// True when `claim` (the `fea` or `pla` value) grants this entitlement.
    pub fn granted_by(&self, claim: &str) -> bool {
        let Some(items) = scoped_items(claim) else {
            return false;
        };
        items.iter().any(|(org, user, name)| {
            *name == self.name
                && match self.scope {
                    Scope::Any => *org || *user,
                    Scope::Organization => *org,
                    Scope::User => *user,
                }
        })
    }
}

/// `(organisation, user, name)` per claim element; `None` when an element has no `:`.
fn scoped_items(claim: &str) -> Option<Vec<(bool, bool, &str)>> {
    claim
        .split(',')
        .map(|part| {
            let (scope, name) = part.trim().split_once(':')?;
            let (org, user) = match scope {
                "o" => (true, false),
                "u" => (false, true),
                "ou" | "uo" => (true, true),
                _ => (false, false),
            };
            Some((org, user, name))
        })
        .collect()
}

/// True when the session's `claim` (`fea` or `pla`) grants one of `wanted`. A missing, empty or
/// non-string claim grants nothing.
pub fn any_granted(auth: &Auth, claim: &str, wanted: &[Entitlement]) -> bool {
    let Some(value) = auth.claims.get(claim).and_then(Value::as_str) else {
        return false;
    };
    !value.is_empty() && wanted.iter().any(|e| e.granted_by(value))
}
