// `bash scripts/dev.sh` as a newcomer meets it, on a clean copy of this tree (no .edgegate-dev/,
// no .dev.vars): every step that can take a while says what it is doing, `[setup] ready` is
// printed once, and the development keys need no Rust build. `cargo` and `npm` are stubs on PATH
// that record any call and fail: the set-up of a set-up clone calls neither, and the keys and
// tokens are node:crypto's. (The stub npm also keeps a set-up that wanted `npm ci` away from the
// node_modules the copy links to.)
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createPrivateKey, createPublicKey } from "node:crypto";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { BUILD_DIR, ROOT, freePort } from "./helpers.mjs";

let copy, stubs, calls;

/** This tree's files (tracked, and new ones not ignored) copied with their times, so the copy's
 * set-up sees what this tree's sees; node_modules linked, not copied. */
function cleanCopy() {
  const dir = mkdtempSync(join(tmpdir(), "edgegate-dev-"));
  const files = execFileSync("git", ["-C", ROOT, "ls-files", "-z", "-c", "-o", "--exclude-standard"], { encoding: "utf8" })
    .split("\0")
    .filter((f) => f && existsSync(join(ROOT, f)) && !statSync(join(ROOT, f)).isDirectory());
  for (const f of files) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    cpSync(join(ROOT, f), join(dir, f), { preserveTimestamps: true });
  }
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  symlinkSync(join(ROOT, "origin", "node_modules"), join(dir, "origin", "node_modules"));
  return dir;
}

function stubTools() {
  const dir = mkdtempSync(join(tmpdir(), "edgegate-stubs-"));
  const log = join(dir, "calls.log");
  writeFileSync(log, "");
  for (const tool of ["cargo", "npm"]) {
    const path = join(dir, tool);
    writeFileSync(path, `#!/bin/sh\necho "${tool} $*" >>"${log}"\nexit 1\n`);
    chmodSync(path, 0o755);
  }
  return { dir, log };
}

/** The environment of a fresh terminal in the copy: nothing of this run's set-up carried over. */
function freshEnv(extra) {
  const env = { ...process.env, PATH: `${stubs.dir}:${process.env.PATH}`, ...extra };
  for (const name of ["EDGEGATE_SETUP_READY", "EDGEGATE_ROOT", "EDGEGATE_ORIGIN_URL", "EDGEGATE_WASM_RUSTC"]) delete env[name];
  return env;
}

/** Runs `bash scripts/dev.sh ...args` in the copy to its end; stdout and stderr as one text. */
function runDev(args, extra = {}) {
  return new Promise((resolve) => {
    const child = spawn("bash", ["-c", 'exec bash scripts/dev.sh "$@" 2>&1', "dev", ...args], { cwd: copy, env: freshEnv(extra) });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.on("close", (code) => resolve({ code, out, lines: out.split("\n").filter(Boolean) }));
  });
}

const setupLines = (lines) => lines.filter((l) => l.startsWith("[setup]"));
const devLines = (lines) => lines.filter((l) => l.startsWith("[dev]"));

before(() => {
  stubs = stubTools();
  copy = cleanCopy();
  calls = () => readFileSync(stubs.log, "utf8");
});
after(() => {
  if (copy) rmSync(copy, { recursive: true, force: true });
  if (stubs) rmSync(stubs.dir, { recursive: true, force: true });
});

describe("scripts/dev.sh on a clean copy", () => {
  test("prepare_says_what_it_does_and_makes_the_keys_without_cargo", async () => {
    const port = await freePort();
    const { code, out, lines } = await runDev(["--prepare"], { EDGEGATE_DEV_PORT: String(port) });
    assert.equal(code, 0, out);
    // Every line is one of the set-up's or dev.sh's own, in the order of the work.
    assert.deepEqual(lines.filter((l) => !/^\[(setup|dev)\] /.test(l)), [], out);
    assert.deepEqual(setupLines(lines), ["[setup] ready"], out);
    assert.deepEqual(devLines(lines), [
      "[dev] generating the development key pair (RS256, node:crypto) in .edgegate-dev/",
      "[dev] generating the development assertion secret in .edgegate-dev/assertion-secret",
      `[dev] wrote .dev.vars (gateway http://127.0.0.1:${port}, origin http://127.0.0.1:8788)`,
      "[dev] prepared: .edgegate-dev/ and .dev.vars; `bash scripts/dev.sh` builds and runs the gateway",
    ]);
    assert.equal(calls(), "", "neither cargo nor npm ran");

    // The files and formats dev.sh has always written: PKCS#8 and SPKI PEM, RSA 2048, private.
    const dev = join(copy, ".edgegate-dev");
    const privatePem = readFileSync(join(dev, "dev-private.pem"), "utf8");
    const publicPem = readFileSync(join(dev, "dev-public.pem"), "utf8");
    assert.match(privatePem, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.match(publicPem, /^-----BEGIN PUBLIC KEY-----\n/);
    const key = createPrivateKey(privatePem);
    assert.equal(key.asymmetricKeyType, "rsa");
    assert.equal(key.asymmetricKeyDetails.modulusLength, 2048);
    assert.equal(createPublicKey(key).export({ type: "spki", format: "pem" }), publicPem);
    const secret = readFileSync(join(dev, "assertion-secret"), "utf8");
    assert.match(secret, /^[A-Za-z0-9_-]{43}$/);
    for (const [path, mode] of [[dev, 0o700], [join(dev, "dev-private.pem"), 0o600], [join(dev, "assertion-secret"), 0o600], [join(copy, ".dev.vars"), 0o600]]) {
      assert.equal(statSync(path).mode & 0o777, mode, path);
    }
    const vars = readFileSync(join(copy, ".dev.vars"), "utf8");
    assert.ok(vars.includes(`CLERK_JWT_KEY="${publicPem.trimEnd().split("\n").join("\\n")}\\n"`), vars);
    assert.ok(vars.includes(`AUTHORIZED_PARTIES="http://127.0.0.1:${port}"`));
    assert.ok(vars.includes(`ORIGIN_URL="http://127.0.0.1:8788"`));
    assert.ok(vars.includes(`ORIGIN_ASSERTION_SECRET="${secret}"`));

    // A second run keeps the keys and the secret and says nothing about them.
    const again = await runDev(["--prepare"], { EDGEGATE_DEV_PORT: String(port) });
    assert.equal(again.code, 0, again.out);
    assert.deepEqual(setupLines(again.lines), ["[setup] ready"]);
    assert.ok(!again.out.includes("generating"), again.out);
    assert.equal(readFileSync(join(dev, "dev-private.pem"), "utf8"), privatePem);
    assert.equal(readFileSync(join(dev, "assertion-secret"), "utf8"), secret);
    assert.equal(calls(), "");
  });

  test("an_unknown_argument_is_a_usage_error", async () => {
    const { code, out } = await runDev(["--bogus"]);
    assert.equal(code, 2);
    assert.equal(out.trim(), "usage: bash scripts/dev.sh [--prepare]");
  });

  test("a_full_run_announces_each_step_once_and_its_curl_line_works", async (t) => {
    // The copy gets this tree's build, so that its build step is the quick "unchanged" one.
    if (!existsSync(join(BUILD_DIR, ".edgegate-build-stamp"))) {
      t.skip("no build/ stamp: run `bash scripts/build.sh` first");
      return;
    }
    cpSync(BUILD_DIR, join(copy, "build"), { recursive: true, preserveTimestamps: true });
    // A first run: without what the --prepare test left.
    rmSync(join(copy, ".edgegate-dev"), { recursive: true, force: true });
    rmSync(join(copy, ".dev.vars"), { force: true });
    const port = await freePort();
    const demoPort = await freePort();
    const gateway = `http://127.0.0.1:${port}`;
    const child = spawn("bash", ["-c", "exec bash scripts/dev.sh 2>&1"], {
      cwd: copy,
      env: freshEnv({ EDGEGATE_DEV_PORT: String(port), EDGEGATE_DEMO_PORT: String(demoPort) }),
      detached: true,
    });
    let out = "";
    const exited = new Promise((resolve) => child.on("close", resolve));
    try {
      const ready = await new Promise((resolve) => {
        child.stdout.on("data", (d) => {
          out += d;
          if (out.includes("Ctrl-C stops the gateway")) resolve(true);
        });
        exited.then(() => resolve(false));
      });
      const lines = out.split("\n");
      // A real build would need cargo, which is a failing stub here.
      if (!ready && lines.some((l) => l.startsWith("[worker-build] building "))) {
        t.skip("build/ is not the build of these sources: run `bash scripts/build.sh` first");
        return;
      }
      assert.ok(ready, `dev.sh exited before it was ready:\n${out}`);
      assert.deepEqual(setupLines(lines), ["[setup] ready"], out);
      // What dev.sh announces, in order, each before its step's own output.
      const announced = devLines(lines);
      const expected = [
        "[dev] generating the development key pair",
        "[dev] generating the development assertion secret",
        "[dev] wrote .dev.vars",
        "[dev] building the worker",
        "[dev] starting the demo origin",
        "[dev] starting wrangler dev",
        "[dev] waiting for",
      ];
      assert.equal(announced.length, expected.length, out);
      expected.forEach((start, i) => assert.ok(announced[i].startsWith(start), `${announced[i]} / ${start}`));
      const at = (text) => lines.findIndex((l) => l.includes(text));
      assert.ok(at("[dev] building the worker") < at("[build] done"), out);
      assert.ok(at("[dev] starting wrangler dev") < at("⛅️ wrangler"), out);
      assert.equal(calls(), "", "neither cargo nor npm ran");

      // The printed curl line, as a person would paste it.
      const curl = /curl -H "Authorization: Bearer ([A-Za-z0-9_.-]+)" (\S+)/.exec(out);
      assert.ok(curl, out);
      assert.equal(curl[2], `${gateway}/hello`);
      const res = await fetch(curl[2], { headers: { authorization: `Bearer ${curl[1]}` } });
      assert.equal(res.status, 200);
      const echoed = await res.json();
      assert.equal(echoed.origin, "edgegate demo origin");
      assert.equal(echoed.headers["x-auth-status"], "signed-in");
      assert.ok(echoed.headers["x-edgegate-assertion"], "the assertion is signed with the development secret");
      assert.equal((await fetch(`${gateway}/hello`)).status, 401);
    } finally {
      // Ctrl-C, as a person stops it: the whole process group.
      try {
        process.kill(-child.pid, "SIGINT");
      } catch {}
      const stopped = await Promise.race([exited.then(() => true), new Promise((r) => setTimeout(r, 15000, false))]);
      if (!stopped) {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {}
      }
    }
    // Nothing is left listening.
    for (const p of [port, demoPort]) {
      await assert.rejects(fetch(`http://127.0.0.1:${p}/`), `port ${p} is closed`);
    }
  });
});
