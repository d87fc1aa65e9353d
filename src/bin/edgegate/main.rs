//! The `edgegate` command-line tool, for people debugging tokens and for the dev set-up:
//! `verify` runs exactly the worker's verification; `keygen` and `mint` make development keys
//! and tokens. Exit codes: 0 valid / done, 1 rejected, 2 usage or key error. The deployment
//! check is `npm run check` (it reads the configuration with wrangler itself and runs the
//! worker's own wasm: README, "Deploy").

use edgegate::keys::{parse_key_set, Alg};
use edgegate::mint::{mint_token, session_claims, SigningKey};
use edgegate::token::{
    verify_token_accepting, TokenType, TokenTypes, Validation, MAX_CLOCK_SKEW_MS,
};
use serde_json::{json, Map, Value};
use std::io::Read;
use std::process::ExitCode;

const USAGE: &str = "usage:
  edgegate verify --key FILE --token TOKEN|- [--now UNIX_SECONDS] [--authorized-party ORIGIN]...
                  [--issuer ISS] [--audience AUD] [--clock-skew-ms N] [--allow-missing-azp]
                  [--allow-missing-sid] [--pending-signed-in] [--max-token-bytes N]
                  [--accepts-token session|m2m|oauth]...
  edgegate keygen [--alg RS256|ES256] [--out DIR]
  edgegate mint --key PRIVATE_KEY_FILE [--sub USER_ID] [--azp ORIGIN] [--ttl SECONDS]
                [--now UNIX_SECONDS] [--kid KID] [--claims JSON] [--header JSON]";

struct Args {
    items: Vec<String>,
}

impl Args {
    fn take_flag(&mut self, name: &str) -> bool {
        match self.items.iter().position(|a| a == name) {
            Some(i) => {
                self.items.remove(i);
                true
            }
            None => false,
        }
    }

    fn take_all(&mut self, name: &str) -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        while let Some(i) = self.items.iter().position(|a| a == name) {
            self.items.remove(i);
            if i >= self.items.len() {
                return Err(format!("{name} needs a value"));
            }
            out.push(self.items.remove(i));
        }
        Ok(out)
    }

    fn take_one(&mut self, name: &str) -> Result<Option<String>, String> {
        let mut all = self.take_all(name)?;
        if all.len() > 1 {
            return Err(format!("{name} given more than once"));
        }
        Ok(all.pop())
    }

    fn finish(self) -> Result<(), String> {
        match self.items.first() {
            Some(extra) => Err(format!("unexpected argument: {extra}")),
            None => Ok(()),
        }
    }
}

fn parse_num<T: std::str::FromStr>(name: &str, value: Option<String>) -> Result<Option<T>, String> {
    value
        .map(|v| v.parse::<T>().map_err(|_| format!("{name}: not a number")))
        .transpose()
}

fn now_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn read_file(path: &str) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))
}

/// `--accepts-token` values (each `session`, `m2m`, `oauth` or Clerk's `*_token` names, or
/// several joined by `|`, as a route's `token:` rule): sessions only when none is given.
fn accepted_token_types(values: &[String]) -> Result<TokenTypes, String> {
    if values.is_empty() {
        return Ok(TokenTypes::SESSION);
    }
    let mut types = Vec::new();
    for word in values.iter().flat_map(|v| v.split('|')) {
        let t = TokenType::parse(word.trim()).ok_or_else(|| {
            format!("--accepts-token: unknown token type `{word}` (session, m2m, oauth)")
        })?;
        types.push(t);
    }
    Ok(TokenTypes::of(&types))
}

fn verify(mut args: Args) -> Result<ExitCode, String> {
    let key_path = args.take_one("--key")?.ok_or("--key is required")?;
    let token_arg = args.take_one("--token")?.ok_or("--token is required")?;
    let now = parse_num::<i64>("--now", args.take_one("--now")?)?;
    let parties = args.take_all("--authorized-party")?;
    let issuer = args.take_one("--issuer")?;
    let audience = args.take_all("--audience")?;
    let skew = parse_num::<i64>("--clock-skew-ms", args.take_one("--clock-skew-ms")?)?;
    let max_bytes = parse_num::<usize>("--max-token-bytes", args.take_one("--max-token-bytes")?)?;
    let allow_missing_azp = args.take_flag("--allow-missing-azp");
    let allow_missing_sid = args.take_flag("--allow-missing-sid");
    let pending_signed_in = args.take_flag("--pending-signed-in");
    let accepts = accepted_token_types(&args.take_all("--accepts-token")?)?;
    args.finish()?;

    let keys = parse_key_set(&read_file(&key_path)?)
        .map_err(|e| format!("invalid key ({}): {e}", e.code()))?;
    let token = if token_arg == "-" {
        let mut buf = String::new();
        std::io::stdin()
            .read_to_string(&mut buf)
            .map_err(|e| format!("cannot read the token from stdin: {e}"))?;
        buf.trim().to_owned()
    } else {
        token_arg
    };
    let mut validation = Validation::default().with_authorized_parties(&parties);
    if parties.is_empty() {
        eprintln!("edgegate: no --authorized-party given: azp is not checked");
    }
    validation.allow_missing_azp = allow_missing_azp;
    validation.allow_missing_sid = allow_missing_sid;
    validation.issuer = issuer;
    if !audience.is_empty() {
        validation.audience = Some(audience);
    }
    if let Some(skew) = skew {
        if !(0..=MAX_CLOCK_SKEW_MS).contains(&skew) {
            return Err(format!("--clock-skew-ms must be 0..={MAX_CLOCK_SKEW_MS}"));
        }
        validation.clock_skew_ms = skew;
    }
    if let Some(max) = max_bytes {
        validation.max_token_bytes = max;
    }
    validation.pending_is_signed_in = pending_signed_in;
    let now_ms = now.unwrap_or_else(now_seconds).saturating_mul(1000);

    let (out, code) = match verify_token_accepting(&token, &keys, &validation, now_ms, accepts) {
        Ok(auth) => (
            json!({"valid": true, "reason": null, "auth": auth}),
            ExitCode::SUCCESS,
        ),
        Err(e) => (
            json!({"valid": false, "reason": e.code(), "auth": null}),
            ExitCode::from(1),
        ),
    };
    println!("{out}");
    Ok(code)
}

fn keygen(mut args: Args) -> Result<ExitCode, String> {
    let alg = match args.take_one("--alg")?.as_deref() {
        None | Some("RS256") => Alg::Rs256,
        Some("ES256") => Alg::Es256,
        Some(other) => return Err(format!("--alg {other}: use RS256 or ES256")),
    };
    let out = args.take_one("--out")?;
    args.finish()?;
    let key = SigningKey::generate(alg)?;
    let private_pem = key.private_pem()?;
    let public_pem = key.public_pem()?;
    match out {
        Some(dir) => {
            std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {dir}: {e}"))?;
            let private_path = format!("{dir}/private.pem");
            let public_path = format!("{dir}/public.pem");
            std::fs::write(&private_path, &private_pem)
                .map_err(|e| format!("cannot write {private_path}: {e}"))?;
            std::fs::write(&public_path, &public_pem)
                .map_err(|e| format!("cannot write {public_path}: {e}"))?;
            println!(
                "{}",
                json!({"alg": alg.as_str(), "private_key": private_path, "public_key": public_path})
            );
        }
        None => print!("{private_pem}{public_pem}"),
    }
    Ok(ExitCode::SUCCESS)
}

fn json_object(name: &str, text: Option<String>) -> Result<Map<String, Value>, String> {
    match text {
        None => Ok(Map::new()),
        Some(t) => match serde_json::from_str::<Value>(&t) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Err(format!("{name} must be a JSON object")),
        },
    }
}

fn mint(mut args: Args) -> Result<ExitCode, String> {
    let key_path = args.take_one("--key")?.ok_or("--key is required")?;
    let sub = args
        .take_one("--sub")?
        .unwrap_or_else(|| "user_dev".to_owned());
    let azp = args.take_one("--azp")?;
    let ttl = parse_num::<i64>("--ttl", args.take_one("--ttl")?)?.unwrap_or(60);
    let now = parse_num::<i64>("--now", args.take_one("--now")?)?.unwrap_or_else(now_seconds);
    let kid = args.take_one("--kid")?;
    let extra_claims = json_object("--claims", args.take_one("--claims")?)?;
    let mut header = json_object("--header", args.take_one("--header")?)?;
    args.finish()?;
    let key = SigningKey::from_pkcs8_pem(&read_file(&key_path)?)?;
    if let Some(kid) = kid {
        header.insert("kid".into(), Value::String(kid));
    }
    let mut claims = session_claims(&sub, azp.as_deref(), now, ttl);
    for (k, v) in extra_claims {
        if v.is_null() {
            claims.remove(&k);
        } else {
            claims.insert(k, v);
        }
    }
    println!("{}", mint_token(&key, &header, &claims));
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let mut items: Vec<String> = std::env::args().skip(1).collect();
    if items.is_empty() {
        // A usage error: nothing on stdout, exit 2.
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
    if items.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let command = items.remove(0);
    let args = Args { items };
    let result = match command.as_str() {
        "verify" => verify(args),
        "keygen" => keygen(args),
        // One implementation of the deployment check, in the wasm: say where it is.
        "check" => Err(
            "the deployment check is `npm run check [-- --env NAME] [-- --config FILE]` (README, \"Deploy\")"
                .to_owned(),
        ),
        "mint" => mint(args),
        other => Err(format!("unknown command {other}")),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("edgegate: {message}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
