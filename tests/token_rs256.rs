//! RS256 session tokens: happy paths, kid selection, rotation, v1/v2 claims into `Auth`.
//! The cases live in `token_cases/mod.rs`, shared with `token_es256.rs`.

mod common;

use edgegate::mint::SigningKey;

fn signer() -> &'static SigningKey {
    &common::keys().rsa_a
}

fn signer_b() -> &'static SigningKey {
    &common::keys().rsa_b
}

fn other_alg() -> &'static SigningKey {
    &common::keys().ec_a
}

include!("token_cases/mod.rs");

#[test]
fn signer_is_rs256() {
    assert_eq!(signer().alg(), edgegate::keys::Alg::Rs256);
}
