//! The `edgegate` binary: keygen, mint, verify (output JSON, exit codes, stdin, --now, flags).

use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

const BIN: &str = env!("CARGO_BIN_EXE_edgegate");
const T: i64 = 1_704_067_200;
const ORIGIN: &str = "https://app.example.com";

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("run edgegate")
}

fn run_stdin(args: &[&str], input: &str) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write");
    child.wait_with_output().expect("wait")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf8")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("utf8")
}

fn tmpdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("edgegate-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("tmpdir");
    dir
}

fn p(path: &Path) -> &str {
    path.to_str().expect("path")
}

/// Key pairs made once per test binary by `edgegate keygen --out`: (RS256 dir, ES256 dir).
fn keydirs() -> &'static (PathBuf, PathBuf) {
    static DIRS: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    DIRS.get_or_init(|| {
        let rs = tmpdir("rs256");
        let o = run(&["keygen", "--out", p(&rs)]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let es = tmpdir("es256");
        let o = run(&["keygen", "--alg", "ES256", "--out", p(&es)]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        (rs, es)
    })
}

fn mint(dir: &Path, extra: &[&str]) -> String {
    let key = dir.join("private.pem");
    let now = T.to_string();
    let mut args = vec!["mint", "--key", p(&key), "--now", &now, "--azp", ORIGIN];
    args.extend_from_slice(extra);
    let o = run(&args);
    assert_eq!(o.status.code(), Some(0), "mint: {}", stderr(&o));
    stdout(&o).trim().to_owned()
}

fn verify(dir: &Path, token: &str, extra: &[&str]) -> (Option<i32>, Value, String) {
    let key = dir.join("public.pem");
    let now = (T + 1).to_string();
    let mut args = vec!["verify", "--key", p(&key), "--token", token, "--now", &now];
    args.extend_from_slice(extra);
    let o = run(&args);
    let out: Value = serde_json::from_str(&stdout(&o))
        .unwrap_or_else(|e| panic!("stdout not JSON ({e}): {:?} / {}", stdout(&o), stderr(&o)));
    (o.status.code(), out, stderr(&o))
}

#[test]
fn keygen_writes_both_algorithms() {
    let (rs, es) = keydirs();
    for (dir, alg) in [(rs, "RS256"), (es, "ES256")] {
        let private = std::fs::read_to_string(dir.join("private.pem")).expect("private");
        let public = std::fs::read_to_string(dir.join("public.pem")).expect("public");
        assert!(private.contains("BEGIN PRIVATE KEY"));
        assert!(public.contains("BEGIN PUBLIC KEY"));
        let set = edgegate::keys::parse_key_set(&public).expect("public key");
        assert_eq!(set.keys[0].alg().as_str(), alg);
    }
}

#[test]
fn keygen_reports_paths_and_prints_pems_without_out() {
    let dir = tmpdir("keygen-json");
    let o = run(&["keygen", "--alg", "ES256", "--out", p(&dir)]);
    assert_eq!(o.status.code(), Some(0));
    let out: Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert_eq!(out["alg"], "ES256");
    assert!(Path::new(out["public_key"].as_str().expect("path")).is_file());
    let o = run(&["keygen", "--alg", "ES256"]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    assert!(text.contains("BEGIN PRIVATE KEY") && text.contains("BEGIN PUBLIC KEY"));
    let o = run(&["keygen", "--alg", "HS256"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn verify_valid_prints_auth_and_exits_0() {
    let (rs, es) = keydirs();
    let claims = json!({
        "v": 2,
        "fea": "o:dashboard",
        "o": {"id": "org_1", "rol": "admin", "slg": "acme", "per": "read,manage", "fpm": "3"},
        "act": {"sub": "user_admin"},
        "fva": [3, -1],
    })
    .to_string();
    for dir in [rs, es] {
        let token = mint(
            dir,
            &["--sub", "user_9", "--kid", "ins_1", "--claims", &claims],
        );
        let (code, out, err) = verify(dir, &token, &["--authorized-party", ORIGIN]);
        assert_eq!(code, Some(0), "{out} {err}");
        assert_eq!(out["valid"], true);
        assert_eq!(out["reason"], Value::Null);
        let auth = out["auth"].as_object().expect("auth object");
        let mut names: Vec<&str> = auth.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            vec![
                "actor",
                "factor_verification_age",
                "org_id",
                "org_permissions",
                "org_role",
                "org_slug",
                "session_id",
                "session_status",
                "user_id"
            ]
        );
        assert_eq!(auth["user_id"], "user_9");
        assert_eq!(auth["session_id"], format!("sess_dev_{T}"));
        assert_eq!(auth["session_status"], "active");
        assert_eq!(auth["org_id"], "org_1");
        assert_eq!(auth["org_role"], "org:admin");
        assert_eq!(auth["org_slug"], "acme");
        assert_eq!(
            auth["org_permissions"],
            json!(["org:dashboard:read", "org:dashboard:manage"])
        );
        assert_eq!(auth["actor"], json!({"sub": "user_admin"}));
        assert_eq!(auth["factor_verification_age"], json!([3, -1]));
        assert_eq!(out.as_object().expect("obj").len(), 3);
        assert!(!err.contains("not checked"), "{err}");
    }
}

#[test]
fn verify_valid_without_org_has_nulls_and_empty_permissions() {
    let (rs, _) = keydirs();
    let token = mint(rs, &[]);
    let (code, out, _) = verify(rs, &token, &["--authorized-party", ORIGIN]);
    assert_eq!(code, Some(0));
    let auth = &out["auth"];
    for name in [
        "org_id",
        "org_role",
        "org_slug",
        "actor",
        "factor_verification_age",
    ] {
        assert_eq!(auth[name], Value::Null, "{name}");
    }
    assert_eq!(auth["org_permissions"], json!([]));
}

#[test]
fn verify_rejected_exits_1_with_reason() {
    let (rs, _) = keydirs();
    let token = mint(rs, &[]);
    let later = (T + 3600).to_string();
    let key = rs.join("public.pem");
    let o = run(&[
        "verify",
        "--key",
        p(&key),
        "--token",
        &token,
        "--now",
        &later,
    ]);
    assert_eq!(o.status.code(), Some(1));
    let out: Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert_eq!(
        out,
        json!({"valid": false, "reason": "token-expired", "auth": null})
    );

    let (code, out, _) = verify(rs, &token, &["--authorized-party", "https://other.example"]);
    assert_eq!(code, Some(1));
    assert_eq!(out["reason"], "token-invalid-authorized-parties");

    let (code, out, _) = verify(rs, "not-a-token", &[]);
    assert_eq!(code, Some(1));
    assert_eq!(out["reason"], "token-invalid");

    // A token from the other key pair.
    let (_, es) = keydirs();
    let other = mint(es, &[]);
    let (code, out, _) = verify(rs, &other, &[]);
    assert_eq!(code, Some(1));
    assert_eq!(out["reason"], "token-invalid-algorithm");
}

/// `--now` pins the verification time.
#[test]
fn verify_now_pins_time() {
    let (rs, _) = keydirs();
    let token = mint(rs, &["--ttl", "60"]);
    let key = rs.join("public.pem");
    for (now, expected) in [
        (T, Some(0)),
        (T + 60, Some(0)),   // within the 5 s skew
        (T + 65, Some(1)),   // exp * 1000 <= now - skew
        (T - 3600, Some(1)), // not active yet
    ] {
        let now = now.to_string();
        let o = run(&["verify", "--key", p(&key), "--token", &token, "--now", &now]);
        assert_eq!(o.status.code(), expected, "now = {now}: {}", stdout(&o));
    }
    let o = run(&[
        "verify",
        "--key",
        p(&key),
        "--token",
        &token,
        "--now",
        &(T + 65).to_string(),
        "--clock-skew-ms",
        "10000",
    ]);
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn verify_token_from_stdin_is_trimmed() {
    let (rs, _) = keydirs();
    let token = mint(rs, &[]);
    let key = rs.join("public.pem");
    let now = (T + 1).to_string();
    for input in [
        token.clone(),
        format!("{token}\n"),
        format!("  \n\t{token} \r\n\n"),
    ] {
        let o = run_stdin(
            &["verify", "--key", p(&key), "--token", "-", "--now", &now],
            &input,
        );
        assert_eq!(o.status.code(), Some(0), "{input:?}: {}", stdout(&o));
        let out: Value = serde_json::from_str(&stdout(&o)).expect("json");
        assert_eq!(out["valid"], true);
    }
}

#[test]
fn verify_without_authorized_party_warns_on_stderr() {
    let (rs, _) = keydirs();
    // `mint` below sets --azp itself, so this token is minted directly with another azp.
    let key = rs.join("private.pem");
    let now = T.to_string();
    let o = run(&[
        "mint",
        "--key",
        p(&key),
        "--now",
        &now,
        "--azp",
        "https://whatever.example",
    ]);
    let token = stdout(&o).trim().to_owned();
    let (code, out, err) = verify(rs, &token, &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(err.contains("azp is not checked"), "stderr: {err}");
}

#[test]
fn verify_missing_azp_and_allow_missing_azp() {
    let (rs, _) = keydirs();
    let token = mint(rs, &["--claims", r#"{"azp": null}"#]);
    let (code, out, _) = verify(rs, &token, &["--authorized-party", ORIGIN]);
    assert_eq!(code, Some(1));
    assert_eq!(out["reason"], "token-invalid-authorized-parties");
    let (code, _, _) = verify(
        rs,
        &token,
        &["--authorized-party", ORIGIN, "--allow-missing-azp"],
    );
    assert_eq!(code, Some(0));
}

#[test]
fn verify_issuer_audience_and_pending() {
    let (_, es) = keydirs();
    let token = mint(es, &["--claims", r#"{"aud": ["api"], "sts": "pending"}"#]);
    let base = ["--authorized-party", ORIGIN, "--pending-signed-in"];
    let with = |extra: &[&str]| {
        let mut args: Vec<&str> = base.to_vec();
        args.extend_from_slice(extra);
        verify(es, &token, &args)
    };
    assert_eq!(with(&["--issuer", "https://clerk.edgegate.dev"]).0, Some(0));
    assert_eq!(
        with(&["--issuer", "https://other"]).1["reason"],
        "token-invalid-issuer"
    );
    assert_eq!(with(&["--audience", "api"]).0, Some(0));
    assert_eq!(
        with(&["--audience", "web"]).1["reason"],
        "token-invalid-audience"
    );
    let (code, out, _) = verify(es, &token, &["--authorized-party", ORIGIN]);
    assert_eq!(code, Some(1));
    assert_eq!(out["reason"], "session-pending");
}

#[test]
fn verify_max_token_bytes() {
    let (rs, _) = keydirs();
    let token = mint(rs, &[]);
    let (code, out, _) = verify(rs, &token, &["--max-token-bytes", "100"]);
    assert_eq!(code, Some(1));
    assert_eq!(out["reason"], "token-too-large");
}

fn assert_usage_error(o: &Output) {
    assert_eq!(
        o.status.code(),
        Some(2),
        "stdout {:?} stderr {:?}",
        stdout(o),
        stderr(o)
    );
    assert!(o.stdout.is_empty(), "stdout must be empty: {:?}", stdout(o));
    assert!(!o.stderr.is_empty());
}

#[test]
fn bad_key_file_exits_2_with_empty_stdout() {
    let (rs, _) = keydirs();
    let token = mint(rs, &[]);
    let dir = tmpdir("badkeys");
    let garbage = dir.join("garbage.pem");
    std::fs::write(&garbage, "hello").expect("write");
    let o = run(&["verify", "--key", p(&garbage), "--token", &token]);
    assert_usage_error(&o);
    assert!(stderr(&o).contains("key-malformed"), "{}", stderr(&o));
    // The private key by mistake.
    let private = rs.join("private.pem");
    let o = run(&["verify", "--key", p(&private), "--token", &token]);
    assert_usage_error(&o);
    let err = stderr(&o);
    assert!(err.contains("key-private"), "{err}");
    let private_text = std::fs::read_to_string(&private).expect("read");
    let body_line = private_text.lines().nth(1).expect("line");
    assert!(!err.contains(body_line), "stderr leaks the key");
    // Missing file, empty file.
    let o = run(&[
        "verify",
        "--key",
        p(&dir.join("missing.pem")),
        "--token",
        &token,
    ]);
    assert_usage_error(&o);
    let empty = dir.join("empty.pem");
    std::fs::write(&empty, "").expect("write");
    let o = run(&["verify", "--key", p(&empty), "--token", &token]);
    assert_usage_error(&o);
    assert!(stderr(&o).contains("key-empty"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn missing_or_bad_arguments_exit_2_with_empty_stdout() {
    let (rs, _) = keydirs();
    let key = rs.join("public.pem");
    let token = mint(rs, &[]);
    assert_usage_error(&run(&[]));
    assert_usage_error(&run(&["verify"]));
    assert_usage_error(&run(&["verify", "--key", p(&key)]));
    assert_usage_error(&run(&["verify", "--token", &token]));
    assert_usage_error(&run(&["verify", "--key", p(&key), "--token"]));
    assert_usage_error(&run(&[
        "verify",
        "--key",
        p(&key),
        "--token",
        &token,
        "--now",
        "soon",
    ]));
    assert_usage_error(&run(&[
        "verify",
        "--key",
        p(&key),
        "--token",
        &token,
        "--bogus",
    ]));
    assert_usage_error(&run(&[
        "verify",
        "--key",
        p(&key),
        "--token",
        &token,
        "--clock-skew-ms",
        "60001",
    ]));
    assert_usage_error(&run(&[
        "verify",
        "--key",
        p(&key),
        "--token",
        &token,
        "--clock-skew-ms",
        "-1",
    ]));
    assert_usage_error(&run(&["frobnicate"]));
    assert_usage_error(&run(&["mint"]));
    assert_usage_error(&run(&["mint", "--key", p(&key)])); // a public key cannot sign
    assert_usage_error(&run(&[
        "mint",
        "--key",
        p(&rs.join("private.pem")),
        "--claims",
        "[1]",
    ]));
}

#[test]
fn help_exits_0() {
    let o = run(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("edgegate verify"));
}

#[test]
fn verify_accepts_machine_tokens_only_when_asked_with_accepts_token() {
    let (rs, _) = keydirs();
    let m2m = mint(
        rs,
        &[
            "--sub",
            "mch_2vYVtest",
            "--claims",
            r#"{"sid":null,"azp":null,"scopes":"mch_1 read:jobs"}"#,
        ],
    );
    let (code, out, _) = verify(rs, &m2m, &["--authorized-party", ORIGIN]);
    assert_eq!(
        (code, out["reason"].clone()),
        (Some(1), json!("token-type-mismatch"))
    );
    let (code, out, _) = verify(rs, &m2m, &["--accepts-token", "m2m"]);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(out["auth"]["machine"]["token_type"], "m2m_token", "{out}");
    assert_eq!(
        out["auth"]["machine"]["machine_id"], "mch_2vYVtest",
        "{out}"
    );
    let (code, out, _) = verify(rs, &m2m, &["--accepts-token", "session|oauth_token"]);
    assert_eq!(
        (code, out["reason"].clone()),
        (Some(1), json!("token-type-mismatch"))
    );
    // As at the edge, an opaque token needs the Backend API on every route, sessions' too.
    for accepts in ["m2m", "session"] {
        let (code, out, _) = verify(rs, "ak_2vYVopaque0000", &["--accepts-token", accepts]);
        assert_eq!(
            (code, out["reason"].clone()),
            (Some(1), json!("token-needs-backend-api")),
            "{accepts}"
        );
    }
    let key = rs.join("public.pem");
    let o = run(&[
        "verify",
        "--key",
        p(&key),
        "--token",
        &m2m,
        "--accepts-token",
        "robot",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown token type `robot`"));
    // A session passes where sessions are among the types.
    let session = mint(rs, &[]);
    let flags = [
        "--authorized-party",
        ORIGIN,
        "--accepts-token",
        "m2m",
        "--accepts-token",
        "session",
    ];
    let (code, out, _) = verify(rs, &session, &flags);
    assert_eq!(code, Some(0), "{out}");
}

#[test]
fn verify_refuses_machine_tokens_and_sessionless_tokens_as_type_mismatch() {
    let (rs, es) = keydirs();
    let party: &[&str] = &["--authorized-party", ORIGIN];
    let allow: &[&str] = &["--authorized-party", ORIGIN, "--allow-missing-sid"];
    for dir in [rs, es] {
        let machine = [
            mint(
                dir,
                &[
                    "--sub",
                    "mch_2vYVtest",
                    "--claims",
                    r#"{"sid":null,"scopes":"mch_1"}"#,
                ],
            ),
            mint(dir, &["--claims", r#"{"jti":"mt_2xKa9Bgv"}"#]),
            mint(dir, &["--header", r#"{"typ":"at+jwt"}"#]),
            mint(dir, &["--claims", r#"{"sid":null,"client_id":"client_1"}"#]),
            mint(dir, &["--header", r#"{"cat":"cl_B7d4PD333AAA"}"#]),
        ];
        for token in &machine {
            for flags in [party, allow] {
                let (code, out, _) = verify(dir, token, flags);
                assert_eq!(code, Some(1), "{out} {flags:?}");
                assert_eq!(out["reason"], "token-type-mismatch", "{flags:?}");
            }
        }
        let sessionless = mint(dir, &["--claims", r#"{"sid":null}"#]);
        let (code, out, _) = verify(dir, &sessionless, party);
        assert_eq!(
            (code, out["reason"].clone()),
            (Some(1), json!("token-type-mismatch"))
        );
        let (code, out, _) = verify(dir, &sessionless, allow);
        assert_eq!(code, Some(0), "{out}");
        assert_eq!(out["auth"]["session_id"], Value::Null);
        let template = mint(
            dir,
            &[
                "--header",
                r#"{"cat":"cl_B7d4PD222AAA"}"#,
                "--claims",
                r#"{"sid":null}"#,
            ],
        );
        let (code, _, _) = verify(dir, &template, party);
        assert_eq!(code, Some(1));
        let (code, out, _) = verify(dir, &template, allow);
        assert_eq!(code, Some(0), "{out}");
    }
}

/// The deployment check is one implementation, run by `npm run check` (tests/deploy/): the CLI
/// only says where it went.
#[test]
fn check_points_to_npm_run_check() {
    let o = run(&["check", "--env", "production"]);
    assert_usage_error(&o);
    assert!(stderr(&o).contains("npm run check"), "{}", stderr(&o));
}
