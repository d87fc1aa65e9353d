//! Route rules: parsing the `PUBLIC_ROUTES`, `PROTECTED_ROUTES` and `ROUTE_RULES` settings,
//! and checking a verified session against the rules that match a path.

use super::pattern::Pattern;
use super::requirement::{
    authorize_reverification, authorize_rights, named_tokens, parse_requirement, Forbidden,
    Requirement,
};
use super::route_error::{Located, PatternError, RouteConfigError};
use crate::auth::Auth;
use crate::token::{TokenType, TokenTypes};

/// A `ROUTE_RULES` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The paths the rule applies to (matched case-insensitively).
    pub pattern: Pattern,
    /// What a token needs there; every requirement must hold (several `token:` are one any-of
    /// set, see [`Rule::token_types`]).
    pub requirements: Vec<Requirement>,
}

fn entries(raw: &str, seps: &[char]) -> Vec<(usize, String)> {
    raw.split(|c| seps.contains(&c))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .enumerate()
        .map(|(i, s)| (i + 1, s.to_string()))
        .collect()
}

/// Comma- or newline-separated patterns of `setting`.
fn parse_patterns(setting: &'static str, raw: &str) -> Result<Vec<Pattern>, RouteConfigError> {
    entries(raw, &[',', '\n'])
        .into_iter()
        .map(|(entry, s)| {
            Pattern::parse_located(&s).map_err(|e| RouteConfigError::new(setting, entry, &s, e))
        })
        .collect()
}

/// Parses `PUBLIC_ROUTES` (comma- or newline-separated patterns).
pub fn parse_public_routes(raw: &str) -> Result<Vec<Pattern>, RouteConfigError> {
    parse_patterns("PUBLIC_ROUTES", raw)
}

/// Parses `PROTECTED_ROUTES` (comma- or newline-separated patterns).
pub fn parse_protected_routes(raw: &str) -> Result<Vec<Pattern>, RouteConfigError> {
    parse_patterns("PROTECTED_ROUTES", raw)
}

/// One `<pattern>=<requirement>[,<requirement>...]` entry.
fn parse_rule(s: &str) -> Result<Rule, Located> {
    let (pat, reqs) = s
        .split_once('=')
        .ok_or(Located::from(PatternError::MissingRequirements))?;
    let pattern = Pattern::parse_located(pat)?;
    let requirements = reqs
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(parse_requirement)
        .collect::<Result<Vec<_>, _>>()?;
    if requirements.is_empty() {
        return Err(PatternError::MissingRequirements.into());
    }
    let rule = Rule {
        pattern,
        requirements,
    };
    match (scope_text(&rule), rule.token_types()) {
        (Some(scope), Some(types)) if !types.any_machine() => {
            Err(Located::at(PatternError::ScopeWithoutMachineToken, &scope))
        }
        _ => Ok(rule),
    }
}

/// The rule's first `scope:` requirement as written, when it has one.
fn scope_text(rule: &Rule) -> Option<String> {
    rule.requirements.iter().find_map(|r| match r {
        Requirement::Scope(values) => Some(format!("scope:{}", values.join("|"))),
        _ => None,
    })
}

/// A `scope:` rule without `token:` of its own can only be met where another rule lets machine
/// tokens in; with no rule naming a machine type, it is a route nothing can use.
fn check_scopes_reachable(rules: &[Rule]) -> Result<(), RouteConfigError> {
    let machines_somewhere = rules
        .iter()
        .any(|r| r.token_types().is_some_and(|t| t.any_machine()));
    if machines_somewhere {
        return Ok(());
    }
    let stranded = rules
        .iter()
        .enumerate()
        .find_map(|(i, r)| scope_text(r).map(|scope| (i + 1, r, scope)));
    match stranded {
        Some((entry, rule, scope)) => Err(RouteConfigError::new(
            "ROUTE_RULES",
            entry,
            rule.pattern.as_str(),
            Located::at(PatternError::ScopeWithoutMachineToken, &scope),
        )),
        None => Ok(()),
    }
}

/// Parses `ROUTE_RULES` (see the module documentation for the format).
pub fn parse_route_rules(raw: &str) -> Result<Vec<Rule>, RouteConfigError> {
    entries(raw, &[';', '\n'])
        .into_iter()
        .map(|(entry, s)| {
            let pattern = s.split_once('=').map_or(s.as_str(), |(p, _)| p);
            parse_rule(&s).map_err(|e| RouteConfigError::new("ROUTE_RULES", entry, pattern, e))
        })
        .collect::<Result<Vec<_>, _>>()
        .and_then(|rules| check_scopes_reachable(&rules).map(|()| rules))
}

impl Rule {
    /// The token types this rule names (`token:` requirements together), or `None` without one.
    pub fn token_types(&self) -> Option<TokenTypes> {
        named_tokens(&self.requirements)
    }
}

/// The token types the matching `rules` accept together: every rule that names types must
/// accept the token, so the types are those all such rules name; with no `token:` requirement,
/// session tokens only.
pub fn accepted_tokens(rules: &[&Rule]) -> TokenTypes {
    let mut named = rules.iter().filter_map(|r| r.token_types()).peekable();
    if named.peek().is_none() {
        return TokenTypes::SESSION;
    }
    named.fold(TokenTypes::of(&TokenType::ALL), TokenTypes::intersect)
}

/// Checks one rule: an active organisation first, then roles, permissions, features, plans, and
/// reverification last (asking someone to verify again is pointless when they lack a right).
pub fn authorize(rule: &Rule, auth: &Auth) -> Result<(), Forbidden> {
    authorize_rights(&rule.requirements, auth)?;
    authorize_reverification(&rule.requirements, auth)
}

/// Checks every rule in order, rights first across all rules and then reverification; the first
/// failure is the reason.
pub fn authorize_all(rules: &[&Rule], auth: &Auth) -> Result<(), Forbidden> {
    rules
        .iter()
        .try_for_each(|r| authorize_rights(&r.requirements, auth))?;
    rules
        .iter()
        .try_for_each(|r| authorize_reverification(&r.requirements, auth))
}
