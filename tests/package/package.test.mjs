// Issue 35, "Deploy without Rust": the npm package @edgegate/worker as a user meets it. `npm run
// pack` packs it; npm installs the tarball into an empty folder whose PATH has node and npm but
// no cargo or rustc; the README's lines then check the settings, serve a request through
// `wrangler dev` on loopback in front of a loopback origin, and dry-run a deploy whose bundled
// wasm must be byte for byte the tested build/worker/index.wasm.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { mkdtempSync } from "node:fs";
import { APP_ORIGIN, generateKeys, mintToken, sessionClaims, startOrigin } from "../e2e/helpers.mjs";
import { BUILD_WASM, ROOT, cleanEnv, ensureBuilt, notes, npmCommand, problems, run } from "../deploy/helpers.mjs";

const VERSION = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version;
const TARBALL = join(ROOT, `edgegate-worker-${VERSION}.tgz`);
const sha256 = (path) => createHash("sha256").update(readFileSync(path)).digest("hex");

let user; // the user's folder
let env; // node and npm on PATH, no Rust toolchain
const inUser = (command, args) => run(command, args, { cwd: user, env });
const npx = (...args) => inUser(join(env.TOOLS, "npx"), ["--offline", ...args]);

/** A folder with node, npm, npx and sh, and nothing else: the user's machine without Rust. */
function toolsWithoutRust(dir) {
  const npmCli = npmCommand();
  const links = {
    node: process.execPath,
    npm: npmCli,
    npx: join(dirname(npmCli), "npx-cli.js"),
    sh: "/bin/sh",
  };
  mkdirSync(dir, { recursive: true });
  for (const [name, target] of Object.entries(links)) symlinkSync(target, join(dir, name));
  return dir;
}

/** A free loopback port. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

before(async () => {
  ensureBuilt();
  const packed = await run(npmCommand(), ["run", "-s", "pack"], { env: cleanEnv() });
  assert.equal(packed.code, 0, packed.stdout + packed.stderr);
  assert.match(packed.stdout, new RegExp(`edgegate-worker-${VERSION.replace(/\./g, "\\.")}\\.tgz`));
  const base = mkdtempSync(join(tmpdir(), "edgegate-package-"));
  user = join(base, "my-app");
  mkdirSync(user);
  const tools = toolsWithoutRust(join(base, "tools"));
  mkdirSync(join(base, "home"));
  env = { ...cleanEnv(), PATH: `${join(user, "node_modules", ".bin")}:${tools}`, TOOLS: tools, HOME: join(base, "home") };
  const install = await inUser(join(tools, "npm"), ["install", "--offline", "--no-audit", "--no-fund", TARBALL]);
  assert.equal(install.code, 0, install.stdout + install.stderr);
  // Stands in for `npm install --save-dev wrangler` (the tests reach no registry): the project's
  // pinned wrangler, linked where npm would put it.
  symlinkSync(join(ROOT, "node_modules", "wrangler"), join(user, "node_modules", "wrangler"));
  symlinkSync(join("..", "wrangler", "bin", "wrangler.js"), join(user, "node_modules", ".bin", "wrangler"));
});
after(() => user && rmSync(dirname(user), { recursive: true, force: true }));

describe("the package", () => {
  test("the folder has no Rust toolchain", async () => {
    const r = await inUser(join(env.TOOLS, "sh"), ["-c", "command -v cargo || command -v rustc || command -v worker-build"]);
    assert.notEqual(r.code, 0, r.stdout);
  });

  test("holds the tested build, the session page, the template, the check, and nothing else", () => {
    const pkg = join(user, "node_modules", "@edgegate", "worker");
    const manifest = JSON.parse(readFileSync(join(pkg, "package.json"), "utf8"));
    assert.equal(manifest.name, "@edgegate/worker");
    assert.equal(manifest.version, VERSION);
    assert.equal(sha256(join(pkg, "build", "worker", "index.wasm")), sha256(BUILD_WASM));
    assert.equal(readFileSync(join(pkg, "build", "index.js"), "utf8"), readFileSync(join(ROOT, "build", "index.js"), "utf8"));
    assert.deepEqual(readdirSync(join(pkg, "www")).sort(), readdirSync(join(ROOT, "www")).sort());
    assert.deepEqual(readdirSync(pkg).sort(), ["README.md", "bin", "build", "lib", "package.json", "wrangler.jsonc", "www"]);
    const date = (text) => text.match(/"?compatibility_date"?\s*[:=]\s*"([0-9-]+)"/)[1];
    assert.equal(
      date(readFileSync(join(pkg, "wrangler.jsonc"), "utf8")),
      date(readFileSync(join(ROOT, "wrangler.toml"), "utf8")),
      "the template's compatibility_date is the tested one",
    );
  });
});

describe("from an empty folder, the README's lines", () => {
  before(() => copyFileSync(join(user, "node_modules", "@edgegate", "worker", "wrangler.jsonc"), join(user, "wrangler.jsonc")));

  test("npx edgegate-check on the template: the two required settings", async () => {
    const r = await npx("edgegate-check");
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.deepEqual(problems(r.stdout), [
      "problem: AUTHORIZED_PARTIES: required but not set",
      "problem: ORIGIN_URL: required but not set",
    ]);
  });

  test("npx edgegate-check on a wrangler.jsonc with several mistakes lists each", async () => {
    writeFileSync(
      join(user, "wrangler.jsonc"),
      readFileSync(join(user, "node_modules", "@edgegate", "worker", "wrangler.jsonc"), "utf8").replace(
        '"vars": {',
        `"vars": {
    "AUTHORISED_PARTIES": "https://app.example.com",
    "ORIGIN_URL": "https://origin.example.com/?debug=1",
    "JWKS_URL": "auto",
    "routes": [{ "pattern": "app.example.com", "custom_domain": true }],`,
      ),
    );
    const r = await npx("edgegate-check");
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const found = problems(r.stdout);
    assert.equal(found.length, 6, r.stdout);
    assert.match(found[0], /^problem: routes: is a top-level wrangler key but sits inside "vars" of wrangler\.jsonc/);
    for (const setting of ["AUTHORIZED_PARTIES", "ORIGIN_URL", "JWKS_URL"]) {
      assert.ok(found.some((p) => p.startsWith(`problem: ${setting}: `)), `${setting} in:\n${r.stdout}`);
    }
    assert.ok(notes(r.stdout).some((n) => n.includes("did you mean AUTHORIZED_PARTIES?")), r.stdout);
  });

  test("with its settings, the check passes and edgegate-deploy dry-runs the tested wasm", async () => {
    const template = readFileSync(join(user, "node_modules", "@edgegate", "worker", "wrangler.jsonc"), "utf8");
    writeFileSync(
      join(user, "wrangler.jsonc"),
      template
        .replace('// "AUTHORIZED_PARTIES": "https://app.example.com",', '"AUTHORIZED_PARTIES": "https://app.example.com",')
        .replace('// "ORIGIN_URL": "https://origin.example.com",', '"ORIGIN_URL": "https://origin.example.com",'),
    );
    const checked = await npx("edgegate-check");
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);
    for (const [command, outdir] of [[["wrangler", "deploy"], "out-wrangler"], [["edgegate-deploy"], "out-edgegate"]]) {
      const r = await npx(...command, "--dry-run", "--outdir", outdir);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const wasm = readdirSync(join(user, outdir)).filter((f) => f.endsWith(".wasm"));
      assert.equal(wasm.length, 1, `${outdir}: ${wasm}`);
      assert.equal(sha256(join(user, outdir, wasm[0])), sha256(BUILD_WASM), `${command.join(" ")} bundles the tested wasm`);
    }
  });

  test("npx wrangler dev serves a signed-in request to the origin, and the session page", async (t) => {
    const origin = await startOrigin();
    t.after(() => origin.close());
    const keys = generateKeys("RS256");
    writeFileSync(
      join(user, ".dev.vars"),
      `CLERK_JWT_KEY="${keys.publicPem.trim().replace(/\n/g, "\\n")}"\nAUTHORIZED_PARTIES="${APP_ORIGIN}"\nORIGIN_URL="${origin.url}"\n`,
    );
    const port = await freePort();
    const dev = spawn(
      join(env.TOOLS, "npx"),
      ["--offline", "wrangler", "dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(await freePort()), "--show-interactive-dev-session=false"],
      { cwd: user, env, stdio: ["ignore", "pipe", "pipe"], detached: true },
    );
    let log = "";
    dev.stdout.on("data", (d) => (log += d));
    dev.stderr.on("data", (d) => (log += d));
    t.after(() => {
      try {
        process.kill(-dev.pid, "SIGTERM");
      } catch {
        // Already gone.
      }
    });
    const gateway = `http://127.0.0.1:${port}`;
    const health = await waitForHealth(gateway, dev, () => log);
    assert.equal(health.valid, true, JSON.stringify(health));

    const token = mintToken({ privatePem: keys.privatePem, alg: "RS256", claims: sessionClaims({ azp: APP_ORIGIN, sub: "user_package" }) });
    const r = await fetch(`${gateway}/api/hello`, { headers: { authorization: `Bearer ${token}` } });
    const body = await r.text();
    assert.equal(r.status, 200, `${body}\n${log}`);
    assert.deepEqual(JSON.parse(body), { origin: true, method: "GET", path: "/api/hello" });
    assert.equal(origin.last().headers["x-auth-user-id"], "user_package");
    const refused = await fetch(`${gateway}/api/hello`);
    assert.equal(refused.status, 401);
    const page = await fetch(`${gateway}/__edgegate/`);
    assert.equal(page.status, 200);
    assert.equal(await page.text(), readFileSync(join(ROOT, "www", "index.html"), "utf8"));
  });
});

/** Polls the gateway's health until wrangler dev answers it (bounded: a minute). */
async function waitForHealth(gateway, dev, log) {
  for (let i = 0; i < 240; i++) {
    if (dev.exitCode !== null) throw new Error(`wrangler dev exited:\n${log()}`);
    try {
      const r = await fetch(`${gateway}/__edgegate/health`);
      return await r.json();
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  throw new Error(`wrangler dev did not answer on ${gateway}:\n${log()}`);
}

test("the tarball is where the README says", () => {
  assert.ok(existsSync(TARBALL), TARBALL);
  assert.equal(realpathSync(dirname(TARBALL)), realpathSync(ROOT));
});
