//! Parsing the `PUBLIC_ROUTES`, `PROTECTED_ROUTES` and `ROUTE_RULES` settings.

use super::error::{Located, PatternError, RouteConfigError};
use super::pattern::Pattern;
use super::requirement::{parse_requirement, Requirement};

/// A `ROUTE_RULES` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The paths the rule applies to (matched case-insensitively).
    pub pattern: Pattern,
    /// What a session needs there; every requirement must hold.
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
    Ok(Rule {
        pattern,
        requirements,
    })
}

/// Parses `ROUTE_RULES` (see the module documentation for the format).
pub fn parse_route_rules(raw: &str) -> Result<Vec<Rule>, RouteConfigError> {
    entries(raw, &[';', '\n'])
        .into_iter()
        .map(|(entry, s)| {
            let pattern = s.split_once('=').map_or(s.as_str(), |(p, _)| p);
            parse_rule(&s).map_err(|e| RouteConfigError::new("ROUTE_RULES", entry, pattern, e))
        })
        .collect()
}
