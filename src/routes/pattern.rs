//! Clerk `createRouteMatcher`-style patterns (path-to-regexp v6 syntax, non-strict mode) and
//! their matching against canonical paths.
//!
//! A pattern is literal text, `:name` (one segment's text, one or more characters other than
//! `/`; it may sit inside a segment), `:name?` (optional), `:name*` (zero or more segments),
//! `:name+` (one or more segments) and a trailing `(.*)` (anything, including nothing). As in
//! path-to-regexp, a `/` or `.` just before a `:name` with a modifier belongs to the parameter:
//! `/files/:path*` matches `/files` and `/files/a/b`, `/user/:id?` matches `/user` and `/user/1`.
//! One trailing `/` on the path is tolerated (non-strict mode).

use super::path::{hex_val, is_unreserved};
use super::route_error::{Located, PatternError};

/// How many times a parameter repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Modifier {
    /// `:name`: exactly once.
    One,
    /// `:name?`: zero or one time.
    Optional,
    /// `:name*`: zero or more times.
    ZeroOrMore,
    /// `:name+`: one or more times.
    OneOrMore,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Lit(String),
    /// A parameter; `prefix` (`/` or `.`) is part of each repetition.
    Param {
        prefix: Option<u8>,
        modifier: Modifier,
    },
    Wild,
}

/// A compiled route pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    source: String,
    toks: Vec<Tok>,
}

fn is_literal_char(b: u8) -> bool {
    is_unreserved(b) || matches!(b, b'!' | b'$' | b'&' | b'\'' | b'@' | b'/' | b'%')
}

fn is_syntax_char(b: u8) -> bool {
    matches!(
        b,
        b'(' | b')' | b'*' | b'+' | b'?' | b'{' | b'}' | b'[' | b']' | b'^' | b'|' | b'\\'
    )
}

/// The pattern being read: tokens so far and the pending literal text.
#[derive(Default)]
struct Reader {
    toks: Vec<Tok>,
    lit: String,
}

impl Reader {
    fn flush(&mut self) {
        if !self.lit.is_empty() {
            self.toks.push(Tok::Lit(std::mem::take(&mut self.lit)));
        }
    }

    /// Reads `:name` and its modifier from `after_colon`; returns the rest.
    fn param<'s>(&mut self, after_colon: &'s str) -> Result<&'s str, Located> {
        let name_len = after_colon
            .bytes()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
            .count();
        if name_len == 0 {
            return Err(Located::at(PatternError::EmptyParamName, ":"));
        }
        let rest = after_colon.get(name_len..).unwrap_or("");
        let (modifier, rest) = match rest.as_bytes().first() {
            Some(b'?') => (Modifier::Optional, rest.get(1..).unwrap_or("")),
            Some(b'*') => (Modifier::ZeroOrMore, rest.get(1..).unwrap_or("")),
            Some(b'+') => (Modifier::OneOrMore, rest.get(1..).unwrap_or("")),
            // `:name(...)` is a parameter with its own regex in path-to-regexp: not supported,
            // since reading it as `:name` then `(.*)` would need a character `/x/` lacks.
            Some(b'(') => {
                let name = after_colon.get(..=name_len).unwrap_or("");
                return Err(Located::at(
                    PatternError::UnsupportedSyntax,
                    &format!(":{name}"),
                ));
            }
            _ => (Modifier::One, rest),
        };
        let prefix = match (modifier, self.lit.as_bytes().last()) {
            (Modifier::One, _) => None,
            (_, Some(&p @ (b'/' | b'.'))) => {
                self.lit.pop();
                Some(p)
            }
            _ => None,
        };
        self.flush();
        if prefix.is_none() && matches!(self.toks.last(), Some(Tok::Param { .. })) {
            let name = after_colon.get(..name_len).unwrap_or("");
            return Err(Located::at(
                PatternError::AdjacentParams,
                &format!(":{name}"),
            ));
        }
        self.toks.push(Tok::Param { prefix, modifier });
        Ok(rest)
    }

    /// Reads one token from `rest`; returns what follows it.
    fn token<'s>(&mut self, rest: &'s str) -> Result<&'s str, Located> {
        if let Some(after) = rest.strip_prefix("(.*)") {
            if !after.is_empty() {
                return Err(Located::at(PatternError::WildcardNotLast, "(.*)"));
            }
            self.flush();
            self.toks.push(Tok::Wild);
            return Ok(after);
        }
        let Some(c) = rest.chars().next() else {
            return Ok(rest);
        };
        if c == ':' {
            return self.param(rest.get(1..).unwrap_or(""));
        }
        let fragment = c.to_string();
        let b = u8::try_from(c).unwrap_or(0x80);
        if is_syntax_char(b) {
            return Err(Located::at(PatternError::UnsupportedSyntax, &fragment));
        }
        if !c.is_ascii() || !is_literal_char(b) {
            return Err(Located::at(PatternError::InvalidCharacter, &fragment));
        }
        self.lit.push(c);
        Ok(rest.get(c.len_utf8()..).unwrap_or(""))
    }
}

impl Pattern {
    /// Parses one pattern (see the module documentation for the syntax).
    pub fn parse(s: &str) -> Result<Pattern, PatternError> {
        Pattern::parse_located(s).map_err(|e| e.error)
    }

    /// [`Pattern::parse`], with the offending fragment of an error.
    pub(super) fn parse_located(s: &str) -> Result<Pattern, Located> {
        let s = s.trim();
        if s.is_empty() {
            return Err(PatternError::Empty.into());
        }
        if !s.starts_with('/') {
            return Err(PatternError::NotAbsolute.into());
        }
        let mut reader = Reader::default();
        let mut rest = s;
        while !rest.is_empty() {
            rest = reader.token(rest)?;
        }
        reader.flush();
        if !source_is_canonical(s) {
            return Err(PatternError::NotCanonical.into());
        }
        Ok(Pattern {
            source: s.to_string(),
            toks: reader.toks,
        })
    }

    /// A pattern matching exactly one canonical path (no parameters, no wildcard).
    pub fn exact(canonical: &str) -> Pattern {
        Pattern {
            source: canonical.to_string(),
            toks: vec![Tok::Lit(canonical.to_string())],
        }
    }

    /// The pattern's text.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Case-sensitive match of a canonical path.
    pub fn matches(&self, path: &str) -> bool {
        self.match_with(path.as_bytes(), false)
    }

    /// ASCII case-insensitive match of a canonical path.
    pub fn matches_ignore_case(&self, path: &str) -> bool {
        self.match_with(path.as_bytes(), true)
    }

    fn match_with(&self, path: &[u8], fold: bool) -> bool {
        let n = path.len();
        // reach[i]: the tokens so far can consume exactly path[..i].
        let mut reach = vec![false; n + 1];
        if let Some(first) = reach.first_mut() {
            *first = true;
        }
        for tok in &self.toks {
            reach = match tok {
                Tok::Lit(l) => step_literal(path, &reach, l.as_bytes(), fold),
                Tok::Param { prefix, modifier } => step_param(path, &reach, *prefix, *modifier),
                Tok::Wild => step_wild(&reach),
            };
        }
        let at_end = reach.get(n).copied().unwrap_or(false);
        let before_trailing_slash =
            n > 0 && path.get(n - 1) == Some(&b'/') && reach.get(n - 1).copied().unwrap_or(false);
        at_end || before_trailing_slash
    }
}

fn step_literal(path: &[u8], reach: &[bool], lit: &[u8], fold: bool) -> Vec<bool> {
    let mut next = vec![false; reach.len()];
    for (i, _) in reach.iter().enumerate().filter(|(_, r)| **r) {
        let Some(slice) = path.get(i..i + lit.len()) else {
            continue;
        };
        let eq = if fold {
            slice.eq_ignore_ascii_case(lit)
        } else {
            slice == lit
        };
        if eq {
            if let Some(slot) = next.get_mut(i + lit.len()) {
                *slot = true;
            }
        }
    }
    next
}

fn step_wild(reach: &[bool]) -> Vec<bool> {
    let mut next = vec![false; reach.len()];
    if let Some(start) = reach.iter().position(|r| *r) {
        for slot in next.iter_mut().skip(start) {
            *slot = true;
        }
    }
    next
}

fn step_param(path: &[u8], reach: &[bool], prefix: Option<u8>, modifier: Modifier) -> Vec<bool> {
    let repeat = matches!(modifier, Modifier::ZeroOrMore | Modifier::OneOrMore);
    let mut next = segments(path, reach, prefix, repeat);
    if matches!(modifier, Modifier::Optional | Modifier::ZeroOrMore) {
        for (slot, r) in next.iter_mut().zip(reach) {
            *slot |= *r;
        }
    }
    next
}

/// Where one (or, with `repeat`, one or more) `prefix` + segment text (one or more characters
/// other than `/`) can end, starting from the reached positions. One linear sweep: a position is
/// a start when reached (or, repeating, when a repetition ended there).
fn segments(path: &[u8], reach: &[bool], prefix: Option<u8>, repeat: bool) -> Vec<bool> {
    let n = path.len();
    let mut ends = vec![false; n + 1];
    let mut content_from = vec![false; n + 1];
    let mut active = false;
    for (k, &c) in path.iter().enumerate() {
        let start = reach.get(k).copied().unwrap_or(false)
            || (repeat && ends.get(k).copied().unwrap_or(false));
        match prefix {
            None if start => active = true,
            Some(p) if start && c == p => {
                if let Some(slot) = content_from.get_mut(k + 1) {
                    *slot = true;
                }
            }
            _ => {}
        }
        if content_from.get(k).copied().unwrap_or(false) {
            active = true;
        }
        if c == b'/' {
            active = false;
        } else if active {
            if let Some(slot) = ends.get_mut(k + 1) {
                *slot = true;
            }
        }
    }
    ends
}

/// Literal text must be in canonical form, or the pattern could never match: no `//`, no `.`
/// or `..` segment, `%` escapes with uppercase hex for bytes that stay encoded.
fn source_is_canonical(s: &str) -> bool {
    if s.contains("//") || s.split('/').any(|seg| seg == "." || seg == "..") {
        return false;
    }
    let b = s.as_bytes();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            let (Some(&h), Some(&l)) = (b.get(i + 1), b.get(i + 2)) else {
                return false;
            };
            let (Some(hv), Some(lv)) = (hex_val(h), hex_val(l)) else {
                return false;
            };
            let v = (hv << 4) | lv;
            if h.is_ascii_lowercase()
                || l.is_ascii_lowercase()
                || is_unreserved(v)
                || matches!(v, b'/' | b'\\' | 0x00..=0x1F | 0x7F)
            {
                return false;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    true
}
