//! Token parsing and verification never panic, and nothing but a genuinely signed token passes.
#![no_main]
use edgegate::keys::parse_key_set;
use edgegate::token::{verify_jws, verify_token, Validation};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

// A key generated for this target; its private half was discarded, so no input can carry a
// valid signature.
const KEY: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAs/Rpkbf5rw518BwGKyLX
TrxUiuFZdaRw7VKE5Cenj2bjhISEWeHh4Ih30yHTd7r2QH012lTPXUsA2csQOqYV
AW6WEMOM0nAGMafYmQQEcFmJzEr2AYH2LCIDa8LIS7EgyWu01nWTdoNvBVqG8WTF
fMSwqz+6WkZ2rbwl/8G4ez0xu6r27IYzomWyrZO8KTIuQxAjkpfmo0Kgw8rBFZtQ
c2eOaqQ8xQqNFgT8lPYyg0hJRCO0HPeY1yFE7ZmTGZXa5EINgomBU6vZJPNZB5Fj
SL5xyZCmDpaqx6CJ7DXQrpiGB5x2jiHdth8zBFDuHfN2JeE+6fVPwlkrK5/DsX8N
6wIDAQAB
-----END PUBLIC KEY-----";

fuzz_target!(|data: &[u8]| {
    static KEYS: OnceLock<edgegate::keys::KeySet> = OnceLock::new();
    let keys = KEYS.get_or_init(|| parse_key_set(KEY).unwrap_or_default());
    let text = String::from_utf8_lossy(data);
    let validation = Validation::default().with_authorized_parties(["https://app.example.com"]);
    let _ = verify_jws(&text, keys, 8192);
    let result = verify_token(&text, keys, &validation, 1_300_000_000_000);
    // Forging a signature is out of reach: any accepted token would be a finding.
    assert!(result.is_err(), "a token verified without the private key");
});
