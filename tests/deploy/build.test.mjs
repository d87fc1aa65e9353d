// Issue 35: `npm run deploy` as written, from a plain shell (no `source scripts/env.sh`): the
// build finds the project's own pinned tools, never installs one, and a missing tool is one line
// naming the command that installs it; the arguments reach both the check and wrangler.
import { test, before, describe } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { chmodSync, readFileSync, readdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { generateKeys } from "../../scripts/lib/jwt.mjs";
import { BUILD_WASM, GOOD_VARS_TOML, ROOT, ensureBuilt, npmCommand, plainShellEnv, problems, run, tempDir, writeFiles } from "./helpers.mjs";

const TOOLS_DIR = process.env.EDGEGATE_TOOLS_DIR || join(process.env.HOME, ".cache", "edgegate-tools");
const VERSIONS = readFileSync(join(ROOT, "scripts", "tool-versions.sh"), "utf8");
const WORKER_BUILD_VERSION = VERSIONS.match(/^WORKER_BUILD_VERSION="([^"]+)"/m)[1];
const sha256 = (path) => createHash("sha256").update(readFileSync(path)).digest("hex");
const build = (env) => run("sh", [join(ROOT, "scripts", "worker-build.sh")], { env });

before(ensureBuilt);

describe("scripts/worker-build.sh (wrangler.toml's [build] command) from a plain shell", { concurrency: 2 }, () => {
  test("finds the pinned tools in the tools dir by itself", async () => {
    const r = await build(plainShellEnv());
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^\[worker-build\] sources and build\/ unchanged since the last build$/m);
  });

  test("a missing worker-build is one line naming `bash scripts/setup.sh`, and nothing is installed", async (t) => {
    const empty = tempDir(t);
    const r = await build(plainShellEnv({ EDGEGATE_TOOLS_DIR: empty }));
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.equal(
      r.stderr,
      `[worker-build] worker-build ${WORKER_BUILD_VERSION} is not installed (looked in ${empty}/bin and on PATH): run \`bash scripts/setup.sh\`\n`,
    );
  });

  test("another worker-build version on PATH is refused, not used", async (t) => {
    const bin = writeFiles(tempDir(t), { "bin/worker-build": "#!/bin/sh\necho 0.8.99\n" });
    chmodSync(join(bin, "bin", "worker-build"), 0o755);
    const env = plainShellEnv({ EDGEGATE_TOOLS_DIR: tempDir(t) });
    env.PATH = `${join(bin, "bin")}:${env.PATH}`;
    const r = await build(env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^\[worker-build\] worker-build \S+ is not installed .*: run `bash scripts\/setup\.sh`\n$/);
  });

  test("a missing wasm-bindgen-cli is one line too (worker-build would download one)", async (t) => {
    const tools = tempDir(t);
    writeFiles(tools, { "bin/.keep": "" });
    symlinkSync(join(TOOLS_DIR, "bin", "worker-build"), join(tools, "bin", "worker-build"));
    const r = await build(plainShellEnv({ EDGEGATE_TOOLS_DIR: tools }));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^\[worker-build\] wasm-bindgen-cli \S+ is not installed \(looked for .*\): run `bash scripts\/setup\.sh`\n$/);
  });
});

describe("npm run deploy from a plain shell", { concurrency: 2 }, () => {
  const dryRun = (args, outdir) => run(npmCommand(), ["run", "-s", "deploy", "--", ...args, "--dry-run", "--outdir", outdir], { env: plainShellEnv() });
  const bundledWasm = (outdir) => readdirSync(outdir).filter((f) => f.endsWith(".wasm"));

  test("checks, builds with the pinned tools and bundles the tested wasm", async (t) => {
    const out = tempDir(t);
    // --dev-vars is the check's alone: wrangler never sees it.
    const devVars = join(writeFiles(tempDir(t), { ".dev.vars": `CLERK_JWT_KEY="${generateKeys("ES256").publicPem.trim().replace(/\n/g, "\\n")}"\n` }), ".dev.vars");
    const vars = ["--var", "AUTHORIZED_PARTIES:https://app.example.com", "--var", "ORIGIN_URL:https://origin.example.com"];
    const r = await dryRun([...vars, "--dev-vars", devVars], out);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^edgegate check: no problem found$/m);
    assert.doesNotMatch(r.stdout, /CLERK_JWT_KEY is not set here/);
    assert.match(r.stdout, /--dry-run: exiting now/);
    const [wasm] = bundledWasm(out);
    assert.equal(sha256(join(out, wasm)), sha256(BUILD_WASM));
  });

  test("-- --env production: the check reads [env.production.vars], as wrangler deploys them", async (t) => {
    const toml = (top, production) => `name = "edgegate"\nmain = "${join(ROOT, "build", "index.js")}"\ncompatibility_date = "2025-09-01"\n[vars]\n${top}[env.production.vars]\n${production}`;
    const dir = writeFiles(tempDir(t), {
      "right.toml": toml('ORIGIN_URL = "not a url"\n', GOOD_VARS_TOML),
      "wrong.toml": toml(GOOD_VARS_TOML, 'AUTHORIZED_PARTIES = "https://app.example.com"\n'),
    });
    const right = tempDir(t);
    const r = await dryRun(["--config", join(dir, "right.toml"), "--env", "production"], right);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /env\.ORIGIN_URL \("https:\/\/origin\.example\.com"\)/);
    assert.equal(bundledWasm(right).length, 1);

    const wrong = tempDir(t);
    const w = await dryRun(["--config", join(dir, "wrong.toml"), "--env", "production"], wrong);
    assert.equal(w.code, 1, w.stdout + w.stderr);
    assert.deepEqual(problems(w.stdout), ["problem: ORIGIN_URL: required but not set"]);
    assert.match(w.stderr, /edgegate deploy: not deployed/);
    assert.deepEqual(readdirSync(wrong), [], "wrangler ran");
  });
});
