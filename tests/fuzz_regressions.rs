//! Inputs the fuzz targets once crashed on (fuzz/regressions/<target>/), run through the same
//! invariants as the targets in fuzz/fuzz_targets/, so a fixed crash stays fixed.

use edgegate::routes::{canonical_path, Access, RouteTable};
use std::path::PathBuf;

fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("entry").path();
            let bytes = std::fs::read(&path).expect("read");
            (path.display().to_string(), bytes)
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no regression inputs in {}", dir.display());
    out
}

/// The invariant of fuzz/fuzz_targets/routes.rs.
fn routes_invariant(data: &[u8]) {
    let table = RouteTable::from_settings(
        "/, /blog/:slug, /public(.*)",
        "/admin(.*)=role:org:admin; /api/:id/billing(.*)=org,permission:org:billing:manage",
    )
    .expect("table");
    let path = format!("/{}", String::from_utf8_lossy(data));
    if let Ok(canonical) = canonical_path(&path) {
        assert_eq!(
            canonical_path(&canonical).as_deref(),
            Ok(canonical.as_str())
        );
        if canonical.to_ascii_lowercase().starts_with("/admin") {
            assert!(!matches!(table.classify(&canonical), Access::Public));
        }
    }
}

#[test]
fn routes_regressions_hold_the_targets_invariant() {
    for (name, data) in inputs("routes") {
        let result = std::panic::catch_unwind(|| routes_invariant(&data));
        assert!(result.is_ok(), "{name}");
    }
}

#[test]
fn a_path_whose_canonical_form_is_too_long_is_refused_on_the_first_pass() {
    // Every replaced byte becomes `%EF%BF%BD`: 2,002 raw bytes give an 18,003-byte canonical path.
    let data = [b"a/".as_slice(), &[0xff; 2000]].concat();
    let path = format!("/{}", String::from_utf8_lossy(&data));
    assert!(path.len() < edgegate::routes::MAX_PATH_LEN);
    assert_eq!(
        canonical_path(&path),
        Err(edgegate::routes::PathError::TooLong)
    );
}
