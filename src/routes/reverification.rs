//! `reverification:` requirements: how recently the session's user verified a factor, from the
//! token's `fva` claim (`[minutes since first factor, minutes since second factor]`, `-1` for a
//! factor group the user has not enabled), checked as Clerk's `has({ reverification })` does,
//! with Clerk's presets.

use super::route_error::PatternError;
use crate::auth::Auth;

/// The factor(s) a reverification needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// `first_factor`: a password, code or link.
    FirstFactor,
    /// `second_factor`: the second factor (the first, for a user without one).
    SecondFactor,
    /// `multi_factor`: both (the first alone, for a user without a second factor).
    MultiFactor,
}

impl Level {
    /// Clerk's name of the level.
    pub fn as_str(&self) -> &'static str {
        match self {
            Level::FirstFactor => "first_factor",
            Level::SecondFactor => "second_factor",
            Level::MultiFactor => "multi_factor",
        }
    }
}

/// A reverification requirement: `level` verified less than `after_minutes` ago.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reverification {
    /// Which factor(s).
    pub level: Level,
    /// How recent, in minutes (more than 0).
    pub after_minutes: u32,
}

impl Reverification {
    /// Parses a preset (`strict`: 10 minutes second factor, `strict_mfa`: 10 minutes multi
    /// factor, `moderate`: 60 minutes second factor, `lax`: 1440 minutes second factor) or
    /// `<minutes>m:<level>` (`10m:multi_factor`).
    pub fn parse(value: &str) -> Result<Reverification, PatternError> {
        let preset = |after_minutes, level| {
            Ok(Reverification {
                level,
                after_minutes,
            })
        };
        match value {
            "strict" => return preset(10, Level::SecondFactor),
            "strict_mfa" => return preset(10, Level::MultiFactor),
            "moderate" => return preset(60, Level::SecondFactor),
            "lax" => return preset(1_440, Level::SecondFactor),
            _ => {}
        }
        let (minutes, level) = value
            .split_once(':')
            .ok_or(PatternError::InvalidReverification)?;
        let minutes = minutes.strip_suffix('m').unwrap_or(minutes);
        let after_minutes = match minutes.parse::<u32>() {
            Ok(n) if n > 0 && minutes.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => return Err(PatternError::InvalidReverification),
        };
        let level = match level {
            "first_factor" => Level::FirstFactor,
            "second_factor" => Level::SecondFactor,
            "multi_factor" => Level::MultiFactor,
            _ => return Err(PatternError::InvalidReverification),
        };
        Ok(Reverification {
            level,
            after_minutes,
        })
    }

    /// True when the session's `fva` meets the requirement. No `fva`, an age other than `-1` or
    /// a non-negative number, or neither factor enabled: not met (fail closed).
    pub fn met_by(&self, auth: &Auth) -> bool {
        let Some([first, second]) = auth.factor_verification_age else {
            return false;
        };
        let valid = |age: i64| age == -1 || age >= 0;
        if !valid(first) || !valid(second) || (first == -1 && second == -1) {
            return false;
        }
        let fresh = |age: i64| age != -1 && i64::from(self.after_minutes) > age;
        match self.level {
            Level::FirstFactor => fresh(first),
            // Without a second factor, the first stands in; without a first, the second alone.
            Level::SecondFactor if second == -1 => fresh(first),
            Level::SecondFactor => fresh(second),
            Level::MultiFactor if second == -1 => fresh(first),
            Level::MultiFactor => fresh(first) && fresh(second),
        }
    }
}
