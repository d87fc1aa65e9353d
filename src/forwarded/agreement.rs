//! The agreement rule between the two header families (`Forwarded` and `X-Forwarded-*`):
//! what one family says ([`Said`]) and the one value both give ([`agreed`]).

use super::issue::ForwardedError;

/// What one header family says about one value.
pub(super) enum Said<T> {
    /// The header is not there.
    Absent,
    /// The header is there but unusable (malformed, too long, an invalid value): noted.
    Unusable,
    /// The header is there, valid, without this parameter (a `Forwarded` element without
    /// `host=`).
    Silent,
    /// The header gives this value.
    Value(T),
}

impl<T> Said<T> {
    pub(super) fn from_result(
        result: Result<T, ForwardedError>,
        source: &'static str,
        note: &mut impl FnMut(&'static str, ForwardedError),
    ) -> Said<T> {
        match result {
            Ok(v) => Said::Value(v),
            Err(e) => {
                note(source, e);
                Said::Unusable
            }
        }
    }
}

/// The one value the two header families give. One family alone decides when it gives a
/// value. When both are there they must give the same value: anything else (different values,
/// one unusable or silent) means one of them came from the client, which could otherwise void
/// the proxy's header with a malformed prefix and supply the other family itself; that is a
/// `forwarded-conflict` (noted under `x_source`), and neither is used.
pub(super) fn agreed<T: PartialEq>(
    forwarded: Said<T>,
    x_forwarded: Said<T>,
    x_source: &'static str,
    note: &mut impl FnMut(&'static str, ForwardedError),
) -> Option<T> {
    match (forwarded, x_forwarded) {
        (Said::Value(a), Said::Absent) | (Said::Absent, Said::Value(a)) => Some(a),
        (Said::Value(a), Said::Value(b)) if a == b => Some(a),
        (Said::Absent, _) | (_, Said::Absent) => None,
        _ => {
            note(x_source, ForwardedError::Conflict);
            None
        }
    }
}
