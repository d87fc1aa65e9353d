//! Which group a normalised header name belongs to for the request and response plans
//! ([`NameClass`]): hop-by-hop, replaced by the gateway, the gateway's own, or one of the few
//! the plans read by name.

/// What a normalised header name is to the plans, found by one lookup rather than a scan of
/// each list in turn: this runs for every header of every request and response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NameClass {
    /// `Connection`: hop-by-hop, kept on a 101.
    Connection,
    /// `Upgrade`: hop-by-hop, kept on a 101 and on a WebSocket upgrade.
    Upgrade,
    /// Another hop-by-hop header: `Keep-Alive`, `TE`, `Trailer(s)`, `Transfer-Encoding`, any
    /// `Proxy-*`.
    HopByHop,
    /// An inbound header the gateway replaces with its own value: `Host`, `Forwarded`,
    /// `X-Forwarded-For`/`-Host`/`-Proto`/`-Port`, `X-Real-IP`, `X-Request-Id`.
    Replaced,
    /// `X-Auth-*`: the identity headers the gateway sets.
    AuthIdentity,
    /// `X-Edgegate-*`: the gateway's own.
    GatewayOwn,
    /// `Authorization`.
    Authorization,
    /// `Cookie`.
    Cookie,
    /// `Referer`.
    Referer,
    /// `Vary`.
    Vary,
    /// `Location`.
    Location,
    /// Any other name.
    Other,
}

impl NameClass {
    pub(super) fn of(normalized: &str) -> NameClass {
        match Self::exact(normalized) {
            NameClass::Other if normalized.starts_with("x-auth-") => NameClass::AuthIdentity,
            NameClass::Other if normalized.starts_with("x-edgegate-") => NameClass::GatewayOwn,
            NameClass::Other if normalized.starts_with("proxy-") => NameClass::HopByHop,
            class => class,
        }
    }

    /// The names of a class, found by length first: a string `match` would compare the name
    /// with every arm in turn.
    fn exact(n: &str) -> NameClass {
        let candidates: &[(&str, NameClass)] = match n.len() {
            2 => &[("te", NameClass::HopByHop)],
            4 => &[("host", NameClass::Replaced), ("vary", NameClass::Vary)],
            6 => &[("cookie", NameClass::Cookie)],
            7 => &[
                ("upgrade", NameClass::Upgrade),
                ("referer", NameClass::Referer),
                ("trailer", NameClass::HopByHop),
            ],
            8 => &[
                ("trailers", NameClass::HopByHop),
                ("location", NameClass::Location),
            ],
            9 => &[
                ("forwarded", NameClass::Replaced),
                ("x-real-ip", NameClass::Replaced),
            ],
            10 => &[
                ("connection", NameClass::Connection),
                ("keep-alive", NameClass::HopByHop),
            ],
            12 => &[("x-request-id", NameClass::Replaced)],
            13 => &[("authorization", NameClass::Authorization)],
            15 => &[("x-forwarded-for", NameClass::Replaced)],
            16 => &[
                ("x-forwarded-host", NameClass::Replaced),
                ("x-forwarded-port", NameClass::Replaced),
            ],
            17 => &[
                ("transfer-encoding", NameClass::HopByHop),
                ("x-forwarded-proto", NameClass::Replaced),
            ],
            _ => &[],
        };
        candidates
            .iter()
            .find(|(name, _)| *name == n)
            .map_or(NameClass::Other, |(_, class)| *class)
    }

    pub(super) fn is_hop_by_hop(self) -> bool {
        matches!(
            self,
            NameClass::Connection | NameClass::Upgrade | NameClass::HopByHop
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_name_has_its_class_and_others_none() {
        use NameClass::*;
        let table = [
            (
                HopByHop,
                &[
                    "keep-alive",
                    "te",
                    "trailer",
                    "trailers",
                    "transfer-encoding",
                    "proxy-authorization",
                    "proxy-x",
                ][..],
            ),
            (Connection, &["connection"]),
            (Upgrade, &["upgrade"]),
            (
                Replaced,
                &[
                    "host",
                    "forwarded",
                    "x-forwarded-for",
                    "x-forwarded-host",
                    "x-forwarded-proto",
                    "x-forwarded-port",
                    "x-real-ip",
                    "x-request-id",
                ],
            ),
            (AuthIdentity, &["x-auth-user-id", "x-auth-"]),
            (GatewayOwn, &["x-edgegate-auth-status", "x-edgegate-"]),
            (Authorization, &["authorization"]),
            (Cookie, &["cookie"]),
            (Referer, &["referer"]),
            (Vary, &["vary"]),
            (Location, &["location"]),
            (
                Other,
                &[
                    "",
                    "t",
                    "tee",
                    "hosts",
                    "x-auth",
                    "proxy",
                    "x-forwarded-prefix",
                    "accept",
                    "set-cookie",
                    "content-length",
                ],
            ),
        ];
        for (class, names) in table {
            for name in names {
                assert_eq!(NameClass::of(name), class, "{name}");
            }
        }
    }
}
