//! `Alg`: the two JWS algorithms edgegate verifies (RS256, ES256) and their exact names.

/// The JWS algorithms edgegate verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Alg {
    /// RS256: RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// ES256: ECDSA on P-256 with SHA-256.
    Es256,
}

impl Alg {
    /// Exact, case-sensitive JWS name; anything else (`none`, `HS256`, `rs256`) is `None`.
    pub fn from_jws_name(name: &str) -> Option<Alg> {
        match name {
            "RS256" => Some(Alg::Rs256),
            "ES256" => Some(Alg::Es256),
            _ => None,
        }
    }
    /// The JWS name: `RS256` or `ES256`.
    pub fn as_str(self) -> &'static str {
        match self {
            Alg::Rs256 => "RS256",
            Alg::Es256 => "ES256",
        }
    }
}
