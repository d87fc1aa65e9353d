// Shared helpers for the deploy tests: real commands (`npm run check`, `npm run deploy`, the
// build script, the packed npm package) on real files in temporary folders.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const BUILD_WASM = join(ROOT, "build", "worker", "index.wasm");

/** A fresh folder, removed by `cleanup()`. */
export function tempDir(t, prefix = "edgegate-deploy-") {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes `files` ({name: text}) into `dir`. */
export function writeFiles(dir, files) {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

/** Runs a command (without blocking the other tests); never rejects. `{code, stdout, stderr}`. */
export function run(command, args, { cwd = ROOT, env = process.env } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** The environment without edgegate's settings, so that the shell running the tests is no input. */
export function cleanEnv(extra = {}) {
  const env = { ...process.env, WRANGLER_SEND_METRICS: "false" };
  for (const name of Object.keys(env)) {
    if (/^[A-Z][A-Z0-9_]*$/.test(name) && SETTING_LIKE.test(name)) delete env[name];
  }
  delete env.CLOUDFLARE_ENV;
  return { ...env, ...extra };
}
const SETTING_LIKE = /^(CLERK_|AUTHORIZED_PARTIES|ORIGIN_|PUBLIC_ROUTES|JWKS_URL)/;

/** A user's plain shell: rustup's cargo and the system's tools, none of scripts/env.sh. */
export function plainShellEnv(extra = {}) {
  return {
    HOME: homedir(),
    PATH: [join(homedir(), ".cargo", "bin"), "/usr/local/bin", "/usr/bin", "/bin"].join(delimiter),
    LANG: "C.UTF-8",
    WRANGLER_SEND_METRICS: "false",
    ...extra,
  };
}

/** `npm run -s NAME -- ARGS` in the repository, as a user types it. */
export function npmRun(name, args = [], options = {}) {
  return run(npmCommand(), ["run", "-s", name, "--", ...args], options);
}

/** The npm on PATH (the one a user runs), by its real path. */
export function npmCommand() {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    try {
      return realpathSync(join(dir, "npm"));
    } catch {
      // Not in this folder.
    }
  }
  throw new Error("npm is not on PATH");
}

/** The build, once, before commands that expect build/ current (the build script skips when it is). */
export function ensureBuilt() {
  const r = spawnSync("sh", [join(ROOT, "scripts", "worker-build.sh")], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`the worker build failed:\n${r.stdout}\n${r.stderr}`);
}

/** Every `problem:` line of a check's output. */
export const problems = (out) => out.split("\n").filter((l) => l.startsWith("problem: "));
/** Every `note:` line. */
export const notes = (out) => out.split("\n").filter((l) => l.startsWith("note: "));

/** A correct set of vars, as TOML lines. */
export const GOOD_VARS_TOML = `AUTHORIZED_PARTIES = "https://app.example.com"
ORIGIN_URL = "https://origin.example.com"
`;
