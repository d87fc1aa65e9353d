//! The deployment check's knowledge of wrangler's configuration (src/deploy_check.rs), compared
//! with the `config-schema.json` of the wrangler the project pins (node_modules/wrangler), so
//! that a wrangler upgrade that adds a top-level key, or a table field named like one, fails
//! here. The check's behaviour is tested as users meet it in tests/deploy/ (node, real files).

use edgegate::deploy_check::{ALSO_NESTED_KEYS, WRANGLER_TOP_LEVEL_KEYS};
use serde_json::{Map, Value};
use std::collections::BTreeSet;

fn schema() -> Option<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/node_modules/wrangler/config-schema.json"
    );
    match std::fs::read_to_string(path) {
        Ok(text) => Some(serde_json::from_str(&text).expect("wrangler's schema is JSON")),
        // Without `npm ci` (scripts/setup.sh runs it) there is nothing to compare with; CI
        // always has it.
        Err(e) if std::env::var("CI").as_deref() != Ok("true") => {
            eprintln!("skipped: {path}: {e}");
            None
        }
        Err(e) => panic!("{path}: {e}"),
    }
}

fn definitions(schema: &Value) -> &Map<String, Value> {
    schema["definitions"].as_object().expect("definitions")
}

fn property_names(def: &Value) -> BTreeSet<String> {
    def["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

/// The definitions whose own fields are top-level keys: the file, an environment, a `previews`
/// block and the inheritable part of an environment.
fn is_environment_level(name: &str, def: &Value) -> bool {
    let description = def["description"].as_str().unwrap_or_default();
    matches!(name, "RawConfig" | "RawEnvironment" | "PreviewsConfig")
        || description.contains("EnvironmentInheritable")
}

/// Every field name of every table below the top level.
fn nested_names(value: &Value, environment_level: bool, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(o) => {
            if let Some(Value::Object(props)) = o.get("properties") {
                if !environment_level {
                    out.extend(props.keys().cloned());
                }
                for v in props.values() {
                    nested_names(v, false, out);
                }
            }
            for (_, v) in o.iter().filter(|(k, _)| k.as_str() != "properties") {
                nested_names(v, false, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| nested_names(v, false, out)),
        _ => {}
    }
}

#[test]
fn the_top_level_keys_are_wranglers() {
    let Some(schema) = schema() else { return };
    let from_schema = property_names(&definitions(&schema)["RawConfig"]);
    let ours: BTreeSet<String> = WRANGLER_TOP_LEVEL_KEYS
        .split(' ')
        .map(str::to_owned)
        .collect();
    assert_eq!(
        ours.symmetric_difference(&from_schema).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "WRANGLER_TOP_LEVEL_KEYS differs from wrangler's RawConfig"
    );
}

#[test]
fn the_keys_never_flagged_are_those_a_table_also_has() {
    let Some(schema) = schema() else { return };
    let mut nested = BTreeSet::new();
    for (name, def) in definitions(&schema) {
        nested_names(def, is_environment_level(name, def), &mut nested);
    }
    let top: BTreeSet<String> = WRANGLER_TOP_LEVEL_KEYS
        .split(' ')
        .map(str::to_owned)
        .collect();
    let both: Vec<&String> = top.intersection(&nested).collect();
    let ours: Vec<String> = ALSO_NESTED_KEYS.split(' ').map(str::to_owned).collect();
    assert_eq!(both, ours.iter().collect::<Vec<_>>());
}
