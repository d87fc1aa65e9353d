//! The route table: `PUBLIC_ROUTES` or `PROTECTED_ROUTES`, `ROUTE_RULES`, and the `SIGN_IN_URL`
//! path kept public.

use super::reader::Reader;
use super::setting_names as name;
use crate::routes::RouteTable;

/// `PUBLIC_ROUTES` or `PROTECTED_ROUTES` (not both) and `ROUTE_RULES`, with the `SIGN_IN_URL`
/// path (when on this host) public unless a rule names it (`routes::outranks_exemption`); an
/// invalid table is a problem and reads as empty.
pub(super) fn read_routes<F: Fn(&str) -> Option<String>>(
    r: &mut Reader<'_, F>,
    sign_in_url: Option<&str>,
) -> RouteTable {
    let public = r.raw(name::PUBLIC_ROUTES).unwrap_or_default();
    let rules = r.raw(name::ROUTE_RULES).unwrap_or_default();
    let protected = r.raw(name::PROTECTED_ROUTES);
    if protected.is_some() && !public.is_empty() {
        r.problem(
            name::PROTECTED_ROUTES,
            "set together with PUBLIC_ROUTES: set one of them (with PROTECTED_ROUTES every \
             other path is public; with PUBLIC_ROUTES every other path needs a session)",
        );
    }
    let table = RouteTable::from_settings(&public, &rules).and_then(|mut t| {
        if let Some(raw) = &protected {
            t.set_protected_routes(crate::routes::parse_protected_routes(raw)?);
        }
        Ok(t)
    });
    // Only separators would make every path public: fail closed.
    if protected
        .as_deref()
        .is_some_and(|raw| raw.split([',', '\n']).all(|p| p.trim().is_empty()))
    {
        r.problem(
            name::PROTECTED_ROUTES,
            "lists no pattern (it would make every path public): list the protected patterns \
             or remove it",
        );
    }
    let mut routes = table.unwrap_or_else(|e| {
        r.problem(e.setting, e.problem());
        // One problem per setting, every setting at once: the other table may be wrong too.
        let other = match e.setting {
            name::PUBLIC_ROUTES => RouteTable::from_settings("", &rules).err(),
            name::ROUTE_RULES => RouteTable::from_settings(&public, "").err(),
            _ => None,
        };
        if let Some(o) = other.filter(|o| o.setting != e.setting) {
            r.problem(o.setting, o.problem());
        }
        RouteTable::default()
    });
    if let Some(path) = sign_in_url.filter(|u| u.starts_with('/')) {
        let path_only = path.split(['?', '#']).next().unwrap_or(path);
        if routes.add_always_public(path_only).is_err() {
            r.problem(name::SIGN_IN_URL, "path is not usable");
        }
    }
    routes
}
