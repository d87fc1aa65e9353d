//! The deployment check (`npm run check`, `npx edgegate-check`, and the first half of
//! `npm run deploy`): every problem of a deploy at once, before `wrangler deploy`.
//!
//! wrangler itself reads the configuration file in node (its own file lookup, TOML and JSONC
//! parsers and environment rules: `packages/worker/lib/check.mjs` calls it), and hands over the
//! file as parsed and the configuration of the environment it deploys. Everything decided from
//! them is here, compiled into the worker's wasm, so that the settings are judged by the worker's
//! own parser ([`Settings::from_settings`]):
//!
//! - the settings are the deployed environment's vars (wrangler does not inherit the top-level
//!   `[vars]` into an environment) and `--var NAME:VALUE`, exactly what `wrangler deploy` with
//!   the same arguments ships; never shell variables (a deploy does not read them: a note says so
//!   when one is set) and never `.dev.vars`, from which `--dev-vars FILE` takes the secrets only,
//!   to check their shape;
//! - a top-level wrangler key (`routes`, `kv_namespaces`, `triggers`, ...) inside `[vars]` or
//!   another table (in TOML, a key belongs to the table above it) is a problem;
//! - the JWKS refresh needs its KV namespace and Cron Trigger; a satellite is routed on its own
//!   domain (a note); a secret in vars is a problem; a secret not given here is a note (it lives
//!   in Cloudflare).
//!
//! Secrets are checked for presence and shape, never printed. Exit 0 when there is no problem,
//! 1 otherwise, 2 when the check could not run.

use crate::config::SETTING_NAMES;
use crate::config::{unknown_setting_warnings, Lookup, Settings};
use crate::jwks::KV_BINDING;
use serde_json::{json, Map, Value};

/// The settings that are secrets: never in vars, never printed.
pub const SECRETS: &[&str] = &["CLERK_JWT_KEY", "ORIGIN_ASSERTION_SECRET"];

/// wrangler's top-level keys, separated by spaces: the properties of `RawConfig` in its
/// `config-schema.json` (tests/deploy_check.rs compares them with the installed wrangler's).
/// One string rather than a slice of them: the wasm carries no table of pointers for it.
pub const WRANGLER_TOP_LEVEL_KEYS: &str = "\
    $schema access account_id addresses agent_memory ai ai_search ai_search_namespaces alias \
    analytics analytics_engine_datasets artifacts assets base_dir browser build cache \
    cloudchamber compatibility_date compatibility_flags compliance_region connect containers \
    d1_databases data_blobs define dependencies_instrumentation dev dispatch_namespaces \
    durable_objects env exports find_additional_modules first_party_worker flagship \
    hyperdrive images jsx_factory jsx_fragment k2 keep_names keep_vars kv_namespaces limits \
    logfwdr logpush main media migrations minify mtls_certificates name no_bundle \
    observability pages_build_output_dir pipelines placement preserve_file_names preview_urls \
    previews python_modules queues r2_buckets ratelimits route routes rules secrets \
    secrets_store_secrets send_email send_metrics services site stream \
    streaming_tail_consumers tail_consumers text_blobs triggers tsconfig unsafe \
    unsafe_hello_world upload_source_maps vars vectorize version_metadata vpc_networks \
    vpc_services wasm_modules worker_loaders workers_dev workflows";

/// Top-level keys that also name a field of a table below the top level (a Durable Object
/// binding's `name`, a workflow's `limits`, ...): found in a table, they are not flagged.
pub const ALSO_NESTED_KEYS: &str = "cache dev images limits name observability stream";

/// The exit code when the check found no problem.
pub const EXIT_OK: i32 = 0;
/// The exit code when it found at least one.
pub const EXIT_PROBLEMS: i32 = 1;
/// The exit code when it could not run.
pub const EXIT_USAGE: i32 = 2;

/// What `check` found.
#[derive(Debug, Default)]
pub struct Report {
    /// `NAME: problem`, each fatal.
    pub problems: Vec<String>,
    /// Not fatal: misspelt-looking names, secrets not given here, values that are not settings.
    pub notes: Vec<String>,
}

impl Report {
    /// 0 without problems, 1 with.
    pub fn exit_code(&self) -> i32 {
        if self.problems.is_empty() {
            EXIT_OK
        } else {
            EXIT_PROBLEMS
        }
    }

    /// The printed report: problems, then notes, then the verdict, one per line.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for p in &self.problems {
            out.push_str(&format!("problem: {p}\n"));
        }
        for n in &self.notes {
            out.push_str(&format!("note: {n}\n"));
        }
        if self.problems.is_empty() {
            out.push_str("edgegate check: no problem found\n");
        } else {
            out.push_str(&format!(
                "edgegate check: {} problem(s); fix them before `wrangler deploy`\n",
                self.problems.len()
            ));
        }
        out
    }
}

/// What the node side hands over (one JSON object, see `packages/worker/lib/check.mjs`),
/// borrowed from it.
#[derive(Debug)]
pub struct Input<'a> {
    /// The configuration file's name as the user knows it (`wrangler.toml`, `wrangler.jsonc`).
    pub file: &'a str,
    /// The file as wrangler parsed it.
    pub raw: &'a Value,
    /// The environment wrangler deploys (`--env`, else `CLOUDFLARE_ENV`), if any.
    pub env: Option<&'a str>,
    /// wrangler's configuration for that environment (`vars`, `kv_namespaces`, `triggers`,
    /// `route`, `routes` are read).
    pub effective: &'a Value,
    /// `--var NAME:VALUE`, which `wrangler deploy` ships on top of the vars.
    pub cli_vars: Vec<&'a str>,
    /// The `--dev-vars` file's name and its variables, parsed by node as wrangler's dotenv
    /// reads them (`export`, quotes, multi-line values, comments).
    pub dev_vars: Option<(&'a str, &'a Map<String, Value>)>,
    /// The names of the variables set in the shell (never their values).
    pub shell: Vec<&'a str>,
}

impl<'a> Input<'a> {
    /// Reads the JSON object the node side writes (`file`, `raw`, `env`, `effective`,
    /// `cli_vars`, `dev_vars_file`, `dev_vars`, `shell`); `None` when it is not an object.
    pub fn from_value(v: &'a Value) -> Option<Input<'a>> {
        v.as_object()?;
        let text = |name: &str| v.get(name).and_then(Value::as_str);
        Some(Input {
            file: text("file").unwrap_or("wrangler.toml"),
            raw: &v["raw"],
            env: text("env").filter(|e| !e.is_empty()),
            effective: &v["effective"],
            cli_vars: strings(v.get("cli_vars")),
            dev_vars: text("dev_vars_file").zip(v.get("dev_vars").and_then(Value::as_object)),
            shell: strings(v.get("shell")),
        })
    }
}

/// The strings of a JSON array (anything else left out).
fn strings(value: Option<&Value>) -> Vec<&str> {
    value
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// The wasm's entry (`checkDeploy`): the node side's JSON in, `{"exit": code, "out": stdout,
/// "err": stderr}` out.
pub fn run(input_json: &str) -> String {
    let value = serde_json::from_str::<Value>(input_json).unwrap_or(Value::Null);
    let (exit, out, err) = match Input::from_value(&value) {
        Some(input) => {
            let report = check(&input);
            (report.exit_code(), report.text(), String::new())
        }
        None => (
            EXIT_USAGE,
            String::new(),
            "edgegate check: the check's input is not a JSON object (a bug in edgegate-check)\n"
                .to_owned(),
        ),
    };
    json!({"exit": exit, "out": out, "err": err}).to_string()
}

/// Settings by name, in the order they were given; a later value replaces an earlier one. A
/// list, not a map: a few dozen names, and the wasm carries no map code for it.
#[derive(Debug, Default)]
struct Values(Vec<(String, String)>);

impl Values {
    fn set(&mut self, name: &str, value: String) {
        match self.0.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => self.0.push((name.to_owned(), value)),
        }
    }

    fn get(&self, name: &str) -> Option<&String> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(n, _)| n.as_str())
    }
}

/// Every problem and note of a deploy.
pub fn check(input: &Input) -> Report {
    // An environment the file does not define deploys the top level (wrangler warns): its
    // tables are the top level's.
    let env = input
        .env
        .filter(|e| input.raw.get("env").and_then(|v| v.get(e)).is_some());
    let place = Place::new(input.file, env);
    let vars = text_values(input.effective.get("vars"));
    let cli_vars = cli_values(&input.cli_vars);
    let mut settings = Values::default();
    for (name, value) in vars.0.iter().chain(&cli_vars.0) {
        settings.set(name, value.clone());
    }

    let mut problems = misplaced_key_problems(input.raw, &place);
    problems.extend(secrets_shipped_as_vars(&vars, &cli_vars, &place));
    let mut notes = unknown_setting_warnings(settings.names());
    notes.extend(env_without_vars_note(input.raw, &place));
    if let Some((name, vars)) = input.dev_vars {
        let others = dev_var_secrets(vars, &mut settings);
        notes.extend(dev_vars_note(name, &others));
    }
    notes.extend(shell_note(&input.shell, &place));
    let (setting_problems, setting_notes) = setting_problems(&settings);
    problems.extend(setting_problems);
    notes.extend(setting_notes);
    problems.extend(jwks_problems(&settings, input.effective, &place));
    notes.extend(satellite_route_note(
        &settings,
        &route_hosts(input.effective),
        &place,
    ));
    Report { problems, notes }
}

/// The worker's own parser on the settings; a secret that is not given here is a note, not the
/// parser's "required but not set".
fn setting_problems(settings: &Values) -> (Vec<String>, Vec<String>) {
    let missing = |s: &str| SECRETS.contains(&s) && !settings.has(s);
    let mut notes = Vec::new();
    if missing("CLERK_JWT_KEY") {
        notes.push(
            "CLERK_JWT_KEY is not set here (a secret lives in Cloudflare): make sure \
             `npx wrangler secret list` shows it, or set it with \
             `npx wrangler secret put CLERK_JWT_KEY < clerk-public.pem`"
                .to_owned(),
        );
    }
    let mut problems: Vec<String> = Vec::new();
    let lookup: Lookup = &|name: &str| settings.get(name).cloned();
    if let Err(found) = Settings::from_settings(&lookup) {
        for p in found.iter().filter(|p| !missing(p.setting)) {
            let problem = format!("{}: {}", p.setting, p.problem);
            if !problems.contains(&problem) {
                problems.push(problem);
            }
        }
    }
    (problems, notes)
}

/// How the configuration file names its tables and shows a snippet: TOML or JSON.
struct Place<'a> {
    file: &'a str,
    toml: bool,
    env: Option<&'a str>,
}

impl<'a> Place<'a> {
    fn new(file: &'a str, env: Option<&'a str>) -> Self {
        let toml = file.to_ascii_lowercase().ends_with(".toml");
        Place { file, toml, env }
    }

    /// A table's name as the file writes it: `[env.production.vars]`, `[[kv_namespaces]]`, or in
    /// JSON `"env.production.vars"`, `"kv_namespaces[0]"`.
    fn table(&self, path: &[Seg]) -> String {
        let mut name = String::new();
        for seg in path {
            match seg {
                Seg::Key(k) => {
                    if !name.is_empty() {
                        name.push('.');
                    }
                    name.push_str(&self.key(k));
                }
                Seg::Index(i) if !self.toml => name.push_str(&format!("[{i}]")),
                Seg::Index(_) => {}
            }
        }
        match path.last() {
            _ if !self.toml => format!("\"{name}\""),
            Some(Seg::Index(_)) => format!("[[{name}]]"),
            _ => format!("[{name}]"),
        }
    }

    /// A key as TOML writes it in a table header (quoted unless bare).
    fn key(&self, k: &str) -> String {
        let bare = !k.is_empty()
            && k.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        // Quoted by hand: `{:?}` would link the standard library's Unicode escape tables.
        if bare || !self.toml {
            k.to_owned()
        } else {
            format!("\"{}\"", k.replace('\\', "\\\\").replace('"', "\\\""))
        }
    }

    /// The deployed environment's table of `name` (`vars`, `kv_namespaces`).
    fn env_path(&self, name: &'a str) -> Vec<Seg<'a>> {
        match self.env {
            Some(env) => vec![Seg::Key("env"), Seg::Key(env), Seg::Key(name)],
            None => vec![Seg::Key(name)],
        }
    }

    /// `wrangler.toml [vars]`, `wrangler.jsonc "env.production.vars"`.
    fn vars(&self) -> String {
        format!("{} {}", self.file, self.table(&self.env_path("vars")))
    }
}

/// One step of a path into the configuration.
#[derive(Debug, Clone, Copy)]
enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

/// Top-level wrangler keys found inside `[vars]` or another table.
fn misplaced_key_problems(raw: &Value, place: &Place) -> Vec<String> {
    let mut found = Vec::new();
    if let Some(root) = raw.as_object() {
        walk_environment(root, &mut Vec::new(), &mut found);
    }
    found
        .iter()
        .map(|(key, path)| misplaced_key_problem(key, path, place))
        .collect()
}

fn misplaced_key_problem(key: &str, path: &[Seg], place: &Place) -> String {
    let table = place.table(path);
    let effect = match path.last() {
        Some(Seg::Key("vars")) => {
            format!("so wrangler ships it as a variable named `{key}`, not as the worker's {key}")
        }
        _ => "where wrangler does not read it".to_owned(),
    };
    let fix = if place.toml {
        "move it above the first [table] header (in TOML a key belongs to the table above it)"
    } else {
        "move it out to the top level of the file"
    };
    format!(
        "{key}: is a top-level wrangler key but sits inside {table} of {}, {effect}: {fix}",
        place.file
    )
}

type Found<'a> = Vec<(&'a str, Vec<Seg<'a>>)>;

/// The top level, an `[env.NAME]` and a `previews` block take top-level keys; their tables do not.
fn walk_environment<'a>(
    table: &'a Map<String, Value>,
    path: &mut Vec<Seg<'a>>,
    found: &mut Found<'a>,
) {
    for (key, value) in table {
        path.push(Seg::Key(key));
        match (key.as_str(), value) {
            ("env", Value::Object(envs)) if path.len() == 1 => {
                for (name, env) in envs {
                    path.push(Seg::Key(name));
                    if let Value::Object(env) = env {
                        walk_environment(env, path, found);
                    }
                    path.pop();
                }
            }
            ("previews", Value::Object(previews)) => walk_environment(previews, path, found),
            // Free-form by design, or maps of the user's own names.
            ("unsafe", _) => {}
            (name, _) if NAME_MAPS.contains(&name) => {}
            // A variable's value may be any JSON: only the names are wrangler's business.
            ("vars", Value::Object(vars)) => {
                for name in vars.keys().filter(|k| is_top_level_only(k)) {
                    found.push((name, path.clone()));
                }
            }
            _ => walk_table(value, path, found),
        }
        path.pop();
    }
}

/// Tables whose keys are the user's own names, not wrangler keys: a `main` in `[define]` or a
/// `routes` in `[wasm_modules]` is a name, never a misplaced key.
const NAME_MAPS: &[&str] = &[
    "define",
    "alias",
    "wasm_modules",
    "text_blobs",
    "data_blobs",
    "props",
];

fn walk_table<'a>(value: &'a Value, path: &mut Vec<Seg<'a>>, found: &mut Found<'a>) {
    match value {
        Value::Object(table) => {
            for (key, inner) in table {
                if is_top_level_only(key) {
                    found.push((key, path.clone()));
                    continue;
                }
                if NAME_MAPS.contains(&key.as_str()) {
                    continue;
                }
                path.push(Seg::Key(key));
                walk_table(inner, path, found);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate().filter(|(_, v)| v.is_object()) {
                path.push(Seg::Index(i));
                walk_table(item, path, found);
                path.pop();
            }
        }
        _ => {}
    }
}

fn is_top_level_only(key: &str) -> bool {
    let listed = |list: &str| list.split(' ').any(|k| k == key);
    listed(WRANGLER_TOP_LEVEL_KEYS) && !listed(ALSO_NESTED_KEYS)
}

/// The text values of a JSON object of vars: a string as is, a number or boolean as its text
/// (as the worker's entry reads them), anything else left out (the worker ignores it).
fn text_values(vars: Option<&Value>) -> Values {
    let mut out = Values::default();
    for (name, value) in vars.and_then(Value::as_object).into_iter().flatten() {
        let text = match value {
            Value::String(s) => s.clone(),
            // Through serde_json's writer: `Display` would link core's float formatting.
            Value::Number(n) => serde_json::to_string(n).unwrap_or_default(),
            Value::Bool(b) => b.to_string(),
            _ => continue,
        };
        out.set(name, text);
    }
    out
}

/// `NAME:VALUE` pairs split at the first `:`, as wrangler does.
fn cli_values(pairs: &[&str]) -> Values {
    let mut out = Values::default();
    for pair in pairs {
        let (name, value) = pair.split_once(':').unwrap_or((pair, ""));
        out.set(name, value.to_owned());
    }
    out
}

/// A secret in vars or `--var` ships in plain text.
fn secrets_shipped_as_vars(vars: &Values, cli_vars: &Values, place: &Place) -> Vec<String> {
    let mut out = Vec::new();
    for secret in SECRETS {
        let whereabouts = if vars.has(secret) {
            place.vars()
        } else if cli_vars.has(secret) {
            "--var".to_owned()
        } else {
            continue;
        };
        out.push(format!(
            "{secret}: is a secret but is in {whereabouts}, which ships in plain text: remove it \
             there and run `npx wrangler secret put {secret}`"
        ));
    }
    out
}

/// `--env NAME` deploys the environment's own vars only: none at all when it has no vars table
/// while the top level has one.
fn env_without_vars_note(raw: &Value, place: &Place) -> Option<String> {
    let env = place.env?;
    let env_table = raw.get("env")?.get(env)?;
    let top_level_vars = raw.get("vars")?.as_object()?;
    if env_table.get("vars").is_some() || top_level_vars.is_empty() {
        return None;
    }
    Some(format!(
        "{} has no vars of its own, and wrangler does not inherit the top-level {} into an \
         environment: `wrangler deploy --env {env}` ships none of them; set them in {}",
        place.table(&[Seg::Key("env"), Seg::Key(env)]),
        place.table(&[Seg::Key("vars")]),
        place.table(&place.env_path("vars")),
    ))
}

/// The secrets of a `.dev.vars` file (already parsed) into `settings`; returns the other
/// setting names it holds.
fn dev_var_secrets<'t>(vars: &'t Map<String, Value>, settings: &mut Values) -> Vec<&'t str> {
    let mut others = Vec::new();
    for (name, value) in vars {
        let name = name.as_str();
        if SECRETS.contains(&name) {
            settings.set(name, value.as_str().unwrap_or_default().to_owned());
        } else if SETTING_NAMES.contains(&name) {
            others.push(name);
        }
    }
    others
}

/// The settings a `--dev-vars` file holds besides secrets are local values, not the deploy's.
fn dev_vars_note(file: &str, others: &[&str]) -> Option<String> {
    let what = match others {
        [] => return None,
        [_] => "is a local value",
        _ => "are local values",
    };
    Some(format!(
        "{file}: only its secrets are checked; {} there {what} for `wrangler dev`, which \
         `wrangler deploy` does not ship",
        others.join(", ")
    ))
}

/// Settings exported in the shell are not settings of a deploy: said once, with their names (in
/// the settings' own order).
fn shell_note(shell: &[&str], place: &Place) -> Option<String> {
    let names: Vec<&str> = SETTING_NAMES
        .iter()
        .copied()
        .filter(|n| shell.contains(n))
        .collect();
    (!names.is_empty()).then(|| {
        format!(
            "{} {} set in this shell, but shell variables are not settings for a deploy: \
             `wrangler deploy` ships {} and the secrets put with `npx wrangler secret put`, so \
             {} not used here",
            names.join(", "),
            if names.len() == 1 { "is" } else { "are" },
            place.vars(),
            if names.len() == 1 {
                "it was"
            } else {
                "they were"
            }
        )
    })
}

/// `JWKS_URL` needs the `EDGEGATE_KEYS` KV namespace and a Cron Trigger in the deployed
/// environment (wrangler does not inherit KV namespaces into an environment).
fn jwks_problems(settings: &Values, effective: &Value, place: &Place) -> Vec<String> {
    let on = settings
        .get("JWKS_URL")
        .is_some_and(|v| !v.trim().is_empty() && !v.trim().eq_ignore_ascii_case("off"));
    if !on {
        return Vec::new();
    }
    let mut out = Vec::new();
    let kv = effective
        .get("kv_namespaces")
        .and_then(Value::as_array)
        .is_some_and(|a| {
            a.iter()
                .any(|ns| ns.get("binding").and_then(Value::as_str) == Some(KV_BINDING))
        });
    if !kv {
        let kv_table = place.table(&place.env_path("kv_namespaces"));
        let (table, binding) = if place.toml {
            (
                format!("[{kv_table}]"),
                format!("binding = \"{KV_BINDING}\""),
            )
        } else {
            (kv_table, format!("\"binding\": \"{KV_BINDING}\""))
        };
        out.push(format!(
            "JWKS_URL: needs a Workers KV namespace bound as {KV_BINDING}: run \
             `npx wrangler kv namespace create {KV_BINDING}` and add the {table} entry it prints \
             ({binding}) to {}",
            place.file
        ));
    }
    let cron = effective
        .get("triggers")
        .and_then(|t| t.get("crons"))
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    if !cron {
        let snippet = if place.toml {
            "[triggers] crons = [\"*/15 * * * *\"]"
        } else {
            "\"triggers\": { \"crons\": [\"*/15 * * * *\"] }"
        };
        out.push(format!(
            "JWKS_URL: needs a Cron Trigger to fetch the keys: add {snippet} to {}",
            place.file
        ));
    }
    out
}

/// The host of each `route`/`routes` pattern (a string or a table with `pattern`), lower-cased
/// (`*.example.com` kept as is).
fn route_hosts(effective: &Value) -> Vec<String> {
    let single = effective.get("route").into_iter();
    let many = effective
        .get("routes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    let mut hosts = Vec::new();
    for route in single.chain(many) {
        let Some(pattern) = route.as_str().or_else(|| route.get("pattern")?.as_str()) else {
            continue;
        };
        let pattern = pattern.split_once("://").map_or(pattern, |(_, rest)| rest);
        let host = pattern.split('/').next().unwrap_or_default();
        if !host.is_empty() {
            hosts.push(host.to_ascii_lowercase());
        }
    }
    hosts
}

/// Whether a route host (`app.example.com`, `*.example.com`, `*example.com`) covers `host`.
fn route_covers(route_host: &str, host: &str) -> bool {
    match route_host.strip_prefix('*') {
        Some(suffix) => host.ends_with(suffix),
        None => route_host == host,
    }
}

/// A satellite whose configuration routes the worker elsewhere than its `DOMAIN`.
fn satellite_route_note(
    settings: &Values,
    route_hosts: &[String],
    place: &Place,
) -> Option<String> {
    let get = |a: &str, b: &str| settings.get(a).or_else(|| settings.get(b));
    // Read as the worker reads it (an invalid value is a problem of its own).
    let satellite = get("IS_SATELLITE", "CLERK_IS_SATELLITE")
        .and_then(|v| crate::config::parse_bool(v.trim()))
        .unwrap_or(false);
    let domain = get("DOMAIN", "CLERK_DOMAIN")?.trim().to_ascii_lowercase();
    let host = domain.split(':').next().unwrap_or_default();
    let covered = route_hosts.iter().any(|r| route_covers(r, host));
    if !satellite || route_hosts.is_empty() || covered {
        return None;
    }
    let example = if place.toml {
        format!("routes = [{{ pattern = \"{host}\", custom_domain = true }}]")
    } else {
        format!("\"routes\": [{{ \"pattern\": \"{host}\", \"custom_domain\": true }}]")
    };
    Some(format!(
        "DOMAIN: {host} is not among the hosts of {}'s routes ({}): the satellite's worker must \
         be routed on its own domain ({example})",
        place.file,
        route_hosts.join(", ")
    ))
}
