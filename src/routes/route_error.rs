//! Configuration errors of `PUBLIC_ROUTES`, `PROTECTED_ROUTES` and `ROUTE_RULES`: a stable code
//! per problem, and a message naming the entry, the offending fragment and the fix. Patterns and
//! requirement words are not secrets, so messages quote them.

use std::fmt;

/// Why a pattern or a rule is not valid configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatternError {
    /// `pattern-empty`: an empty pattern.
    Empty,
    /// `pattern-not-absolute`: the pattern does not start with `/`.
    NotAbsolute,
    /// `pattern-invalid-character`: a character not allowed in a pattern's literal text.
    InvalidCharacter,
    /// `pattern-unsupported-syntax`: path-to-regexp syntax edgegate does not take (a `*`, `+` or
    /// `?` not after a `:name`, `{}` groups, regex groups other than `(.*)`, ...).
    UnsupportedSyntax,
    /// `pattern-wildcard-not-last`: `(.*)` anywhere but at the end.
    WildcardNotLast,
    /// `pattern-empty-param-name`: a `:` without a parameter name.
    EmptyParamName,
    /// `pattern-adjacent-params`: two parameters with no literal text between them.
    AdjacentParams,
    /// `pattern-not-canonical`: literal text not in canonical form, so it could never match.
    NotCanonical,
    /// `rule-missing-requirements`: a rule without `=` or without requirements.
    MissingRequirements,
    /// `rule-unknown-requirement`: a requirement other than `org` (or `organization`), `role:`,
    /// `permission:`, `feature:`, `plan:`, `reverification:`, `token:` or `scope:`.
    UnknownRequirement,
    /// `rule-empty-requirement-value`: an empty role, permission, feature or plan, or one with
    /// whitespace or control characters.
    EmptyRequirementValue,
    /// `rule-unknown-scope`: a feature or plan scope other than `org:` (`o:`, `organization:`) or
    /// `user:` (`u:`).
    UnknownScope,
    /// `rule-invalid-reverification`: a `reverification:` value that is neither a preset nor
    /// `<minutes>m:<level>`.
    InvalidReverification,
    /// `rule-unknown-token-type`: a `token:` value other than `session`, `m2m` or `oauth`.
    UnknownTokenType,
    /// `rule-scope-without-machine-token`: a `scope:` that no token could meet: its rule's
    /// `token:` names no machine type, or no rule names one (sessions hold no scopes).
    ScopeWithoutMachineToken,
}

impl PatternError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            PatternError::Empty => "pattern-empty",
            PatternError::NotAbsolute => "pattern-not-absolute",
            PatternError::InvalidCharacter => "pattern-invalid-character",
            PatternError::UnsupportedSyntax => "pattern-unsupported-syntax",
            PatternError::WildcardNotLast => "pattern-wildcard-not-last",
            PatternError::EmptyParamName => "pattern-empty-param-name",
            PatternError::AdjacentParams => "pattern-adjacent-params",
            PatternError::NotCanonical => "pattern-not-canonical",
            PatternError::MissingRequirements => "rule-missing-requirements",
            PatternError::UnknownRequirement => "rule-unknown-requirement",
            PatternError::EmptyRequirementValue => "rule-empty-requirement-value",
            PatternError::UnknownScope => "rule-unknown-scope",
            PatternError::InvalidReverification => "rule-invalid-reverification",
            PatternError::UnknownTokenType => "rule-unknown-token-type",
            PatternError::ScopeWithoutMachineToken => "rule-scope-without-machine-token",
        }
    }

    /// How to fix it, for the setting's message.
    pub fn hint(&self) -> &'static str {
        match self {
            PatternError::Empty => "write a path pattern such as `/admin/:path*`",
            PatternError::NotAbsolute => "a pattern starts with `/`",
            PatternError::InvalidCharacter => {
                "percent-encode it as a canonical path has it (a space is `%20`)"
            }
            PatternError::UnsupportedSyntax => {
                "write a wildcard as `(.*)` (`/admin(.*)`) or `/:path*` (whole segments), a \
                 segment as `:name`; `*`, `+` and `?` only follow a `:name`"
            }
            PatternError::WildcardNotLast => "`(.*)` must end the pattern",
            PatternError::EmptyParamName => "name the parameter, e.g. `:id`",
            PatternError::AdjacentParams => "put literal text between two parameters",
            PatternError::NotCanonical => {
                "write the canonical form: no `//`, `.` or `..` segment, unreserved characters \
                 unescaped, other escapes in uppercase hex"
            }
            PatternError::MissingRequirements => {
                "write `<pattern>=<requirement>[,<requirement>...]`, e.g. `/admin(.*)=role:admin`"
            }
            PatternError::UnknownRequirement => KNOWN_REQUIREMENTS,
            PatternError::EmptyRequirementValue => {
                "give a value without spaces, e.g. `role:admin` or `feature:reports`"
            }
            PatternError::UnknownScope => {
                "a scope is `org:` or `user:` (`feature:org:reports`), or leave it out to accept \
                 either"
            }
            PatternError::InvalidReverification => {
                "write a preset (strict, strict_mfa, moderate, lax) or `<minutes>m:<level>` with \
                 level first_factor, second_factor or multi_factor, e.g. `10m:multi_factor`"
            }
            PatternError::UnknownTokenType => {
                "a token type is session, m2m or oauth (`token:m2m|oauth`); API keys and opaque \
                 tokens need Clerk's Backend API, which edgegate does not call"
            }
            PatternError::ScopeWithoutMachineToken => {
                "only machine tokens hold scopes: let the route take them, e.g. \
                 `/api/jobs(.*)=token:m2m,scope:jobs`"
            }
        }
    }
}

/// The hint of `rule-unknown-requirement`: every requirement word there is.
pub const KNOWN_REQUIREMENTS: &str = "known requirements are org, role:, permission:, feature:, \
     plan:, reverification:, token:, scope:";

/// Longest quoted fragment in a message.
const MAX_QUOTED: usize = 80;

/// `text` in backticks, cut at [`MAX_QUOTED`] characters, control characters shown as `?`.
fn quoted(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(MAX_QUOTED)
        .map(|c| if c.is_control() || c == '`' { '?' } else { c })
        .collect();
    if text.chars().nth(MAX_QUOTED).is_some() {
        out.push_str("...");
    }
    format!("`{out}`")
}

/// A pattern or requirement error with the fragment it is about (the offending character or
/// requirement), before it is placed in a setting's entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// What is wrong.
    pub error: PatternError,
    /// The offending fragment, when there is a narrower one than the entry.
    pub fragment: Option<String>,
}

impl From<PatternError> for Located {
    fn from(error: PatternError) -> Self {
        Located {
            error,
            fragment: None,
        }
    }
}

impl Located {
    /// An error about this fragment.
    pub fn at(error: PatternError, fragment: &str) -> Located {
        Located {
            error,
            fragment: Some(fragment.to_owned()),
        }
    }
}

/// A configuration error naming the setting, the (1-based) entry, the entry's pattern and the
/// offending fragment, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteConfigError {
    /// `PUBLIC_ROUTES`, `PROTECTED_ROUTES` or `ROUTE_RULES`.
    pub setting: &'static str,
    /// The entry's position, from 1.
    pub entry: usize,
    /// The entry's pattern text (for a rule, the part before `=`).
    pub pattern: String,
    /// The offending fragment (a character, a requirement), when narrower than the pattern.
    pub fragment: Option<String>,
    /// What is wrong with the entry.
    pub error: PatternError,
}

impl RouteConfigError {
    /// An error of entry `entry` (pattern `pattern`) of `setting`.
    pub fn new(setting: &'static str, entry: usize, pattern: &str, e: Located) -> Self {
        RouteConfigError {
            setting,
            entry,
            pattern: pattern.trim().to_owned(),
            fragment: e.fragment,
            error: e.error,
        }
    }

    /// The error's code.
    pub fn code(&self) -> &'static str {
        self.error.code()
    }

    /// The message without the setting's name: ``entry 1 (`/admin*`): pattern-unsupported-syntax
    /// `*`: write a wildcard as ...``.
    pub fn problem(&self) -> String {
        let fragment = self
            .fragment
            .as_deref()
            .map(|f| format!(" {}", quoted(f)))
            .unwrap_or_default();
        format!(
            "entry {} ({}): {}{fragment}: {}",
            self.entry,
            quoted(&self.pattern),
            self.error.code(),
            self.error.hint()
        )
    }
}

impl fmt::Display for RouteConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.setting, self.problem())
    }
}
