//! The parsed routing settings and the classification of a canonical path.

use super::path::{canonical_path, PathError};
use super::pattern::Pattern;
use super::route_error::RouteConfigError;
use super::rule::accepted_tokens;
use super::rule::{parse_public_routes, parse_route_rules, Rule};
use crate::token::TokenTypes;

/// What a canonical path needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access<'a> {
    /// No session needed (identity is still forwarded when a valid one comes along).
    Public,
    /// A signed-in session that satisfies every listed rule.
    Protected {
        /// The rules that match the path (none: any signed-in session will do).
        rules: Vec<&'a Rule>,
    },
}

/// The parsed routing settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteTable {
    /// `PUBLIC_ROUTES`.
    pub public: Vec<Pattern>,
    /// `ROUTE_RULES`.
    pub rules: Vec<Rule>,
    /// `PROTECTED_ROUTES`, when set: only these (and rule routes) need a session.
    pub protected: Option<Vec<Pattern>>,
    always_public: Vec<Pattern>,
}

/// Paths that name no page: a rule matching any of them covers paths at large (`/(.*)`,
/// `/:path+`, `/:locale/(.*)`) rather than naming the sign-in page.
const UNRELATED_PATHS: &[&str] = &[
    "/",
    "/edgegate-unrelated",
    "/edgegate-unrelated/edgegate-unrelated",
    "/edgegate-unrelated/edgegate-unrelated/edgegate-unrelated",
];

/// True when one of the rules matching the sign-in page names it rather than covering paths at
/// large: such an explicit rule outranks the page's implicit exemption (`/login(.*)=role:admin`
/// protects `/login`), while a broad rule (one that also matches an unrelated path, such as
/// `/(.*)=org` or `/:path+=org`) leaves the page public, or no one could sign in.
pub fn outranks_exemption(rules: &[&Rule]) -> bool {
    rules.iter().any(|r| {
        !UNRELATED_PATHS
            .iter()
            .any(|p| r.pattern.matches_ignore_case(p))
    })
}

impl RouteTable {
    /// A table of these patterns and rules, with no always-public path.
    pub fn new(public: Vec<Pattern>, rules: Vec<Rule>) -> RouteTable {
        RouteTable {
            public,
            rules,
            protected: None,
            always_public: Vec::new(),
        }
    }

    /// Parses `PUBLIC_ROUTES` and `ROUTE_RULES`.
    pub fn from_settings(
        public_routes: &str,
        route_rules: &str,
    ) -> Result<RouteTable, RouteConfigError> {
        Ok(RouteTable::new(
            parse_public_routes(public_routes)?,
            parse_route_rules(route_rules)?,
        ))
    }

    /// Switches to protected-routes mode (`PROTECTED_ROUTES`): a path matching none of
    /// `patterns` (case-insensitively, so `/ADMIN` cannot dodge `/admin(.*)`) and no rule is
    /// public; `PUBLIC_ROUTES` is then not consulted.
    pub fn set_protected_routes(&mut self, patterns: Vec<Pattern>) {
        self.protected = Some(patterns);
    }

    /// Makes one path public unless a `ROUTE_RULES` rule names it ([`outranks_exemption`]; the
    /// sign-in page on this host). The path is canonicalised first; an unusable path is refused.
    pub fn add_always_public(&mut self, path: &str) -> Result<(), PathError> {
        let canonical = canonical_path(path)?;
        self.always_public.push(Pattern::exact(&canonical));
        Ok(())
    }

    /// True for a path added with [`RouteTable::add_always_public`] (the sign-in page).
    pub fn is_always_public(&self, canonical: &str) -> bool {
        self.always_public.iter().any(|p| p.matches(canonical))
    }

    /// Classifies a canonical path.
    pub fn classify(&self, canonical: &str) -> Access<'_> {
        let rules: Vec<&Rule> = self
            .rules
            .iter()
            .filter(|r| r.pattern.matches_ignore_case(canonical))
            .collect();
        // The sign-in page's test first: the rule probes run for that one path only.
        let public = if rules.is_empty() {
            self.is_always_public(canonical) || self.is_public_without_rules(canonical)
        } else {
            self.is_always_public(canonical) && !outranks_exemption(&rules)
        };
        if public {
            return Access::Public;
        }
        Access::Protected { rules }
    }

    /// The token types a canonical path accepts: session tokens on a public path and on a
    /// protected one without `token:` rules, else what its rules' `token:` requirements name
    /// together ([`accepted_tokens`]).
    pub fn accepted_tokens(&self, canonical: &str) -> TokenTypes {
        match self.classify(canonical) {
            Access::Public => TokenTypes::SESSION,
            Access::Protected { rules } => accepted_tokens(&rules),
        }
    }

    /// For a path no rule matches: public by `PROTECTED_ROUTES` (matching none) when it is set,
    /// else by `PUBLIC_ROUTES` (matching one, case-sensitively).
    fn is_public_without_rules(&self, canonical: &str) -> bool {
        match &self.protected {
            Some(protected) => !protected.iter().any(|p| p.matches_ignore_case(canonical)),
            None => self.public.iter().any(|p| p.matches(canonical)),
        }
    }
}
