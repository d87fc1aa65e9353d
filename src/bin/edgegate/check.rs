//! `edgegate check`: every setting problem of a deployment at once, before `wrangler deploy`.
//! Reads `wrangler.toml` (`[vars]`, or `[env.NAME.vars]` with `--env NAME`, as wrangler does:
//! environments do not inherit `[vars]`), a `.dev.vars` file with `--dev-vars FILE`, and the
//! process environment (edgegate's setting names only), in that order, later sources winning.
//! Runs the worker's own settings parser on them. Secrets are checked for presence and shape,
//! never printed; a secret that is not set locally is a note (it lives in Cloudflare, set with
//! `wrangler secret put`), not a problem. Exit 0 when there is no problem, 1 otherwise.

use edgegate::config::{unknown_setting_warnings, Settings};
use std::collections::BTreeMap;
use std::process::ExitCode;

/// The settings that are secrets: never in `[vars]`, never printed.
const SECRETS: &[&str] = &["CLERK_JWT_KEY", "ORIGIN_ASSERTION_SECRET"];

/// A TOML value as a setting's text (wrangler gives numbers and booleans as their text).
fn text(v: &toml::Value) -> Option<String> {
    match v {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(f) => Some(f.to_string()),
        toml::Value::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The `[vars]` (or `[env.NAME.vars]`) of a wrangler.toml.
pub fn wrangler_vars(
    toml_text: &str,
    env: Option<&str>,
) -> Result<BTreeMap<String, String>, String> {
    let doc: toml::Table = toml_text
        .parse()
        .map_err(|e| format!("wrangler.toml does not parse: {e}"))?;
    let vars = match env {
        None => doc.get("vars"),
        Some(name) => {
            let envs = doc.get("env").and_then(toml::Value::as_table);
            let Some(table) = envs
                .and_then(|t| t.get(name))
                .and_then(toml::Value::as_table)
            else {
                return Err(format!("wrangler.toml has no [env.{name}]"));
            };
            table.get("vars")
        }
    };
    let mut out = BTreeMap::new();
    if let Some(table) = vars.and_then(toml::Value::as_table) {
        for (k, v) in table {
            if let Some(t) = text(v) {
                out.insert(k.clone(), t);
            }
        }
    }
    Ok(out)
}

/// What a wrangler.toml binds that `check` looks at: for the JWKS refresh (`JWKS_URL`), a KV
/// namespace named `EDGEGATE_KEYS` and a Cron Trigger; for a satellite (`IS_SATELLITE`), the
/// hosts its `route`/`routes` name. With `--env NAME` these are the environment's own, as in
/// wrangler (bindings, triggers and routes are not inherited).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Bindings {
    /// `[[kv_namespaces]]` has `binding = "EDGEGATE_KEYS"`.
    pub kv: bool,
    /// `[triggers] crons` lists at least one schedule.
    pub cron: bool,
    /// The host of each `route`/`routes` pattern, lower-cased (`*.example.com` kept as is).
    pub route_hosts: Vec<String>,
}

/// The bindings of a wrangler.toml (none when it does not parse).
pub fn bindings(toml_text: &str, env: Option<&str>) -> Bindings {
    let Ok(doc) = toml_text.parse::<toml::Table>() else {
        return Bindings::default();
    };
    let table = match env {
        None => Some(&doc),
        Some(name) => doc
            .get("env")
            .and_then(toml::Value::as_table)
            .and_then(|t| t.get(name))
            .and_then(toml::Value::as_table),
    };
    let Some(table) = table else {
        return Bindings::default();
    };
    let kv = table
        .get("kv_namespaces")
        .and_then(toml::Value::as_array)
        .is_some_and(|a| {
            a.iter().any(|ns| {
                ns.get("binding").and_then(toml::Value::as_str) == Some(edgegate::jwks::KV_BINDING)
            })
        });
    let cron = table
        .get("triggers")
        .and_then(|t| t.get("crons"))
        .and_then(toml::Value::as_array)
        .is_some_and(|a| !a.is_empty());
    Bindings {
        kv,
        cron,
        route_hosts: route_hosts(table),
    }
}

/// The hosts of `route` and `routes` (each a pattern string or a table with `pattern`).
fn route_hosts(table: &toml::Table) -> Vec<String> {
    let single = table.get("route").into_iter();
    let many = table
        .get("routes")
        .and_then(toml::Value::as_array)
        .into_iter()
        .flatten();
    single
        .chain(many)
        .filter_map(|r| r.as_str().or_else(|| r.get("pattern")?.as_str()))
        .map(|pattern| {
            let pattern = pattern.split_once("://").map_or(pattern, |(_, rest)| rest);
            let host = pattern.split('/').next().unwrap_or_default();
            host.to_ascii_lowercase()
        })
        .filter(|h| !h.is_empty())
        .collect()
}

/// Whether a route host (`app.example.com`, `*.example.com`, `*example.com`) covers `host`.
fn route_covers(route_host: &str, host: &str) -> bool {
    match route_host.strip_prefix('*') {
        Some(suffix) => host.ends_with(suffix),
        None => route_host == host,
    }
}

/// A satellite whose wrangler.toml routes the worker elsewhere than its `DOMAIN`.
fn satellite_route_note(
    settings: &BTreeMap<String, String>,
    route_hosts: &[String],
) -> Option<String> {
    let get = |a: &str, b: &str| settings.get(a).or_else(|| settings.get(b));
    let satellite = get("IS_SATELLITE", "CLERK_IS_SATELLITE")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    let domain = get("DOMAIN", "CLERK_DOMAIN")?.trim().to_ascii_lowercase();
    let host = domain.split(':').next().unwrap_or_default();
    let covered = route_hosts.iter().any(|r| route_covers(r, host));
    (satellite && !route_hosts.is_empty() && !covered).then(|| {
        format!(
            "DOMAIN: {host} is not among the hosts of wrangler.toml's routes ({}): the satellite's \
             worker must be routed on its own domain (routes = [{{ pattern = \"{host}\", \
             custom_domain = true }}])",
            route_hosts.join(", ")
        )
    })
}

/// `NAME=value` lines of a `.dev.vars` file (blank lines and `#` comments skipped, one pair of
/// surrounding quotes removed).
pub fn dev_vars(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
            .unwrap_or(value);
        out.insert(name.trim().to_owned(), value.replace("\\n", "\n"));
    }
    out
}

/// What `check` found.
pub struct Report {
    /// `SETTING: problem`, each fatal.
    pub problems: Vec<String>,
    /// Not fatal: misspelt-looking names, secrets found where they do not belong or not set here.
    pub notes: Vec<String>,
}

/// Checks merged settings (`in_vars`: the names that came from wrangler.toml's `[vars]`;
/// `bindings`: what wrangler.toml binds).
pub fn check(
    settings: &BTreeMap<String, String>,
    in_vars: &[String],
    bindings: &Bindings,
) -> Report {
    let mut notes = unknown_setting_warnings(settings.keys().map(String::as_str));
    let mut problems = Vec::new();
    for secret in SECRETS {
        if in_vars.iter().any(|n| n == secret) {
            problems.push(format!(
                "{secret}: is a secret but is in wrangler.toml [vars], which ships in plain text: \
                 remove it there and run `npx wrangler secret put {secret}`"
            ));
        }
    }
    let missing_secrets: Vec<&str> = SECRETS
        .iter()
        .copied()
        .filter(|s| !settings.contains_key(*s))
        .collect();
    if missing_secrets.contains(&"CLERK_JWT_KEY") {
        notes.push(
            "CLERK_JWT_KEY is not set here (a secret lives in Cloudflare): make sure \
             `npx wrangler secret list` shows it, or set it with \
             `npx wrangler secret put CLERK_JWT_KEY < clerk-public.pem`"
                .to_owned(),
        );
    }
    if let Err(found) = Settings::from_settings(&|name: &str| settings.get(name).cloned()) {
        for p in found {
            if missing_secrets.contains(&p.setting) {
                continue;
            }
            let problem = format!("{}: {}", p.setting, p.problem);
            if !problems.contains(&problem) {
                problems.push(problem);
            }
        }
    }
    let jwks_on = settings
        .get("JWKS_URL")
        .is_some_and(|v| !v.trim().is_empty() && !v.trim().eq_ignore_ascii_case("off"));
    if jwks_on && !bindings.kv {
        problems.push(
            "JWKS_URL: needs a Workers KV namespace bound as EDGEGATE_KEYS: run \
             `npx wrangler kv namespace create EDGEGATE_KEYS` and add the [[kv_namespaces]] entry \
             it prints (binding = \"EDGEGATE_KEYS\") to wrangler.toml"
                .to_owned(),
        );
    }
    if jwks_on && !bindings.cron {
        problems.push(
            "JWKS_URL: needs a Cron Trigger to fetch the keys: add [triggers] crons = \
             [\"*/15 * * * *\"] to wrangler.toml"
                .to_owned(),
        );
    }
    notes.extend(satellite_route_note(settings, &bindings.route_hosts));
    Report { problems, notes }
}

/// Prints the report: problems, then notes, then the verdict.
pub fn print(report: &Report) -> ExitCode {
    for p in &report.problems {
        println!("problem: {p}");
    }
    for n in &report.notes {
        println!("note: {n}");
    }
    if report.problems.is_empty() {
        println!("edgegate check: no problem found");
        ExitCode::SUCCESS
    } else {
        println!(
            "edgegate check: {} problem(s); fix them before `wrangler deploy`",
            report.problems.len()
        );
        ExitCode::from(1)
    }
}
