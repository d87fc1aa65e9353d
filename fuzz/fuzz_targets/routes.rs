//! Path canonicalisation is idempotent and route matching never panics.
#![no_main]
use edgegate::routes::{canonical_path, RouteTable};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    static TABLE: OnceLock<Option<RouteTable>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        RouteTable::from_settings(
            "/, /blog/:slug, /public(.*)",
            "/admin(.*)=role:org:admin; /api/:id/billing(.*)=org,permission:org:billing:manage",
        )
        .ok()
    });
    let text = String::from_utf8_lossy(data);
    let path = format!("/{text}");
    if let Ok(canonical) = canonical_path(&path) {
        assert_eq!(canonical_path(&canonical).as_deref(), Ok(canonical.as_str()));
        if let Some(table) = table {
            let _ = table.classify(&canonical);
            // Anything that canonicalises under /admin must be protected.
            if canonical.to_ascii_lowercase().starts_with("/admin") {
                assert!(!matches!(
                    table.classify(&canonical),
                    edgegate::routes::Access::Public
                ));
            }
        }
    }
});
