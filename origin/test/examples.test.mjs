// The example origins as a person starts them by hand (`PORT=3000 node origin/examples/...`):
// without a secret they stop with one line saying to run `bash scripts/dev.sh` first, never the
// kit's TypeError; with the development secret dev.sh writes they start and verify with it. Each
// runs from a copy of the kit in a temporary directory, so this clone's own .edgegate-dev/ is
// out of the way.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const KIT = join(dirname(fileURLToPath(import.meta.url)), "..");
const EXAMPLES = ["hono-origin.mjs", "express-origin.mjs"];
let root;

before(() => {
  root = mkdtempSync(join(tmpdir(), "edgegate-origin-"));
  const kit = join(root, "origin");
  mkdirSync(join(kit, "examples"), { recursive: true });
  for (const f of ["package.json", "index.js", "hono.js", "express.js"]) cpSync(join(KIT, f), join(kit, f));
  for (const f of [...EXAMPLES, "dev-secret.mjs"]) cpSync(join(KIT, "examples", f), join(kit, "examples", f));
  symlinkSync(realpathSync(join(KIT, "node_modules")), join(kit, "node_modules"));
});
after(() => rmSync(root, { recursive: true, force: true }));

/** Starts an example with `env` (PORT=0); resolves once it exits or prints its address. */
function start(example, env) {
  const child = spawn(process.execPath, [join(root, "origin", "examples", example)], {
    cwd: root,
    env: { PATH: process.env.PATH, PORT: "0", ...env },
  });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  return new Promise((resolve) => {
    child.stdout.on("data", (d) => {
      stdout += d;
      const url = / on (http:\/\/127\.0\.0\.1:\d+) /.exec(stdout)?.[1];
      if (url) resolve({ url, stop: () => new Promise((done) => (child.on("close", done), child.kill())) });
    });
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("the example origins started by hand", () => {
  for (const example of EXAMPLES) {
    test(`${example}_without_a_secret_says_to_run_dev_sh_first`, async () => {
      const { code, stdout, stderr } = await start(example, {});
      assert.equal(code, 1);
      assert.equal(stdout, "");
      const lines = stderr.trim().split("\n");
      assert.equal(lines.length, 1, stderr);
      assert.match(lines[0], /^origin example: no ORIGIN_ASSERTION_SECRET and no \S+\/\.edgegate-dev\/assertion-secret: run `bash scripts\/dev\.sh` first/);
      assert.ok(!stderr.includes("TypeError"), stderr);
    });

    test(`${example}_with_a_secret_too_short_says_so_in_one_line`, async () => {
      const { code, stderr } = await start(example, { ORIGIN_ASSERTION_SECRET: "short" });
      assert.equal(code, 1);
      assert.equal(stderr.trim().split("\n").length, 1, stderr);
      assert.match(stderr, /^origin example: the secret in ORIGIN_ASSERTION_SECRET is shorter than 32 bytes/);
      assert.ok(!stderr.includes("TypeError"), stderr);
    });
  }

  test("with_the_development_secret_file_an_example_starts_and_verifies_with_it", async () => {
    mkdirSync(join(root, ".edgegate-dev"), { recursive: true });
    writeFileSync(join(root, ".edgegate-dev", "assertion-secret"), "a-development-secret-of-more-than-32-bytes");
    for (const example of EXAMPLES) {
      const started = await start(example, {});
      assert.ok(started.url, `${example}: ${started.stderr}`);
      try {
        // Running, and refusing a request that did not come through edgegate.
        const res = await fetch(`${started.url}/api/me`);
        assert.equal(res.status, 401);
        assert.equal((await res.json()).reason, "assertion-missing");
      } finally {
        await started.stop();
      }
    }
    rmSync(join(root, ".edgegate-dev"), { recursive: true, force: true });
  });
});
