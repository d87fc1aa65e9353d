//! Reading one setting through a [`Lookup`]: the [`Reader`] (trimmed values, Clerk's alias
//! names, booleans, integers in a range, choices, lists, URLs) that collects every problem as a
//! [`ConfigError`], and [`parse_bool`].

use super::setting_names as name;
use super::setting_names::ALIASES;
use crate::web_url::{UrlError, WebUrl as Url};
use std::fmt;

/// A settings lookup as the wasm's callers pass it: the worker's entry and the deployment check
/// (`crate::deploy_check`) both call the settings parser with this one type, so that the wasm
/// holds one copy of the parser rather than one per closure type (about 14 KB gzipped).
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// One invalid or missing setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The setting's name.
    pub setting: &'static str,
    /// What is wrong with it (never its value).
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.setting, self.problem)
    }
}

pub(super) struct Reader<'a, F: Fn(&str) -> Option<String>> {
    pub(super) lookup: &'a F,
    pub(super) problems: Vec<ConfigError>,
}

impl<F: Fn(&str) -> Option<String>> Reader<'_, F> {
    fn one(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// The setting under its own name or one of Clerk's ([`ALIASES`]); two of them set is a
    /// problem (the own name wins).
    pub(super) fn raw(&mut self, name: &'static str) -> Option<String> {
        let mut found: Vec<(&'static str, String)> = Vec::new();
        if let Some(v) = self.one(name) {
            found.push((name, v));
        }
        for (own, alias) in ALIASES {
            if *own == name {
                if let Some(v) = self.one(alias) {
                    // CLERK_FRONTEND_API is a host; FRONTEND_API_URL a URL.
                    let v = if *alias == name::CLERK_FRONTEND_API && !v.contains("://") {
                        format!("https://{v}")
                    } else {
                        v
                    };
                    found.push((alias, v));
                }
            }
        }
        if found.len() > 1 {
            let names: Vec<&str> = found.iter().map(|(n, _)| *n).collect();
            self.problem(
                name,
                format!("set more than once, as {}: keep one", names.join(" and ")),
            );
        }
        found.into_iter().next().map(|(_, v)| v)
    }

    pub(super) fn problem(&mut self, setting: &'static str, problem: impl Into<String>) {
        self.problems.push(ConfigError {
            setting,
            problem: problem.into(),
        });
    }

    pub(super) fn required(&mut self, name: &'static str) -> Option<String> {
        let v = self.raw(name);
        if v.is_none() {
            self.problem(name, "required but not set");
        }
        v
    }

    pub(super) fn bool(&mut self, name: &'static str, default: bool) -> bool {
        match self.raw(name) {
            None => default,
            Some(v) => parse_bool(&v).unwrap_or_else(|| {
                self.problem(name, "must be true or false");
                default
            }),
        }
    }

    pub(super) fn int(&mut self, name: &'static str, default: i64, min: i64, max: i64) -> i64 {
        match self.raw(name) {
            None => default,
            Some(v) => match v.parse::<i64>() {
                Ok(n) if (min..=max).contains(&n) => n,
                _ => {
                    self.problem(name, format!("must be an integer from {min} to {max}"));
                    default
                }
            },
        }
    }

    pub(super) fn choice(
        &mut self,
        name: &'static str,
        choices: &[&'static str],
    ) -> Option<&'static str> {
        let v = self.raw(name)?;
        let found = choices.iter().find(|c| c.eq_ignore_ascii_case(&v)).copied();
        if found.is_none() {
            self.problem(name, format!("must be one of: {}", choices.join(", ")));
        }
        found
    }

    pub(super) fn list(&mut self, name: &'static str) -> Vec<String> {
        self.raw(name)
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    pub(super) fn url(&mut self, name: &'static str, value: &str, allow_path: bool) -> Option<Url> {
        // A non-ASCII host stays refused (NON_ASCII_HOST).
        match Url::parse_encoding_non_ascii(value) {
            Ok(u) => {
                if !allow_path && (u.query().is_some() || u.fragment().is_some()) {
                    self.problem(name, "must not have a query or fragment");
                    return None;
                }
                if u.has_credentials() {
                    self.problem(name, "must not contain credentials");
                    return None;
                }
                Some(u)
            }
            Err(_) if !value.is_ascii() => {
                self.problem(name, NON_ASCII_HOST);
                None
            }
            Err(UrlError::Scheme | UrlError::Invalid) => {
                self.problem(name, "must be an absolute http(s) URL");
                None
            }
        }
    }
}

/// URLs are ASCII (src/web_url.rs): a host with other characters goes in its punycode form.
pub(super) const NON_ASCII_HOST: &str =
    "must be ASCII: write a non-ASCII host in its xn-- (punycode) form, as browsers send it";

/// A boolean setting's value: `true`/`1`/`yes`/`on` or `false`/`0`/`no`/`off`, any case;
/// `None` for anything else.
pub fn parse_bool(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}
