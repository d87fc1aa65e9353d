// Issue 35: `npm run check` sees exactly what `wrangler deploy` with the same arguments ships,
// on real configuration files (TOML, JSON, JSONC) in temporary folders.
import { test, before, describe } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { GOOD_VARS_TOML, ROOT, cleanEnv, ensureBuilt, notes, npmRun, problems, run, tempDir, writeFiles } from "./helpers.mjs";
import { generateKeys } from "../../scripts/lib/jwt.mjs";

const wrangler = createRequire(join(ROOT, "package.json"))("wrangler");
const SHIPPED = readFileSync(join(ROOT, "wrangler.toml"), "utf8");

/** `npm run check -- --config DIR/FILE ARGS`. */
function check(dir, file, args = [], env = cleanEnv()) {
  return npmRun("check", ["--config", join(dir, file), ...args], { env });
}

/** What wrangler itself reads from a configuration (the oracle). */
function wranglerReads(dir, file, env) {
  return wrangler.unstable_readConfig({ config: join(dir, file), env }, { hideWarnings: true });
}

/** The shipped wrangler.toml with the commented lines that match `example` uncommented. */
function uncomment(text, example) {
  return text
    .split("\n")
    .map((line) => (example.test(line) ? line.replace(/^# ?/, "") : line))
    .join("\n");
}
// An example line: a commented key = value, table header, or a line of a multi-line array.
const ANY_EXAMPLE = /^# (\[\[?[\w.]+\]\]?$|[A-Za-z_][\w]* = |\s+\{ .*\},?$|\]$)/;
const ROUTES_EXAMPLE = /^# (routes = |\s+\{ pattern = .*\},?$|\]$)/;

before(ensureBuilt);

describe("the shipped wrangler.toml", { concurrency: 3 }, () => {
  test("unconfigured, it is refused with the two required settings", async () => {
    const r = await npmRun("check", [], { env: cleanEnv() });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.deepEqual(problems(r.stdout), [
      "problem: AUTHORIZED_PARTIES: required but not set",
      "problem: ORIGIN_URL: required but not set",
    ]);
    assert.match(r.stdout, /^note: CLERK_JWT_KEY is not set here/m);
    assert.match(r.stdout, /^edgegate check: 2 problem\(s\); fix them before `wrangler deploy`$/m);
  });

  test("settings exported in the shell are not settings: still refused, and said so", async () => {
    const env = cleanEnv({ AUTHORIZED_PARTIES: "https://app.example.com", ORIGIN_URL: "https://origin.example.com" });
    const r = await npmRun("check", [], { env });
    assert.equal(r.code, 1, r.stdout);
    assert.equal(problems(r.stdout).length, 2, r.stdout);
    assert.ok(
      notes(r.stdout).includes(
        "note: AUTHORIZED_PARTIES, ORIGIN_URL are set in this shell, but shell variables are not settings for a deploy: " +
          "`wrangler deploy` ships wrangler.toml [vars] and the secrets put with `npx wrangler secret put`, so they were not used here",
      ),
      r.stdout,
    );
    assert.doesNotMatch(r.stdout, /origin\.example\.com/, "a value was printed");
  });

  test("every example uncommented where it stands is read by wrangler as meant", async (t) => {
    const dir = writeFiles(tempDir(t), { "wrangler.toml": uncomment(SHIPPED, ANY_EXAMPLE) });
    const config = JSON.parse(JSON.stringify(wranglerReads(dir, "wrangler.toml")));
    assert.deepEqual(config.routes, [{ pattern: "app.example.com/*", zone_name: "example.com" }]);
    assert.deepEqual(config.kv_namespaces.map((ns) => ns.binding), ["EDGEGATE_KEYS"]);
    assert.deepEqual(config.triggers.crons, ["*/15 * * * *"]);
    assert.equal(config.vars.routes, undefined);
    assert.equal(config.vars.AUTHORIZED_PARTIES, "https://app.example.com");
    const r = await check(dir, "wrangler.toml");
    assert.doesNotMatch(r.stdout, /top-level wrangler key/, r.stdout);
  });

  test("the routes example alone, uncommented, is a route and the check passes with settings", async (t) => {
    const text = uncomment(SHIPPED, ROUTES_EXAMPLE).replace("[vars]\n", `[vars]\n${GOOD_VARS_TOML}`);
    const dir = writeFiles(tempDir(t), { "wrangler.toml": text });
    assert.equal(wranglerReads(dir, "wrangler.toml").routes.length, 1);
    const r = await check(dir, "wrangler.toml");
    assert.equal(r.code, 0, r.stdout);
  });
});

describe("top-level keys inside a table", { concurrency: 3 }, () => {
  test("routes uncommented below [vars] is reported (wrangler ships it as a variable)", async (t) => {
    const dir = writeFiles(tempDir(t), {
      "wrangler.toml": `name = "edgegate"\nmain = "index.js"\n[vars]\n${GOOD_VARS_TOML}routes = [\n  { pattern = "app.example.com/*", zone_name = "example.com" },\n]\n`,
    });
    assert.deepEqual(Object.keys(wranglerReads(dir, "wrangler.toml").vars).sort(), ["AUTHORIZED_PARTIES", "ORIGIN_URL", "routes"]);
    const r = await check(dir, "wrangler.toml");
    assert.equal(r.code, 1, r.stdout);
    assert.deepEqual(problems(r.stdout), [
      "problem: routes: is a top-level wrangler key but sits inside [vars] of wrangler.toml, so wrangler ships it as a " +
        "variable named `routes`, not as the worker's routes: move it above the first [table] header (in TOML a key " +
        "belongs to the table above it)",
    ]);
  });

  test("routes below the uncommented KV and cron blocks lands in [triggers], and is reported", async (t) => {
    const dir = writeFiles(tempDir(t), {
      "wrangler.toml": `name = "edgegate"\nmain = "index.js"\n[vars]\n${GOOD_VARS_TOML}[[kv_namespaces]]\nbinding = "EDGEGATE_KEYS"\nid = "0123"\n[triggers]\ncrons = ["*/15 * * * *"]\nroutes = [{ pattern = "app.example.com", custom_domain = true }]\nworkers_dev = false\n`,
    });
    const r = await check(dir, "wrangler.toml");
    assert.equal(r.code, 1, r.stdout);
    const found = problems(r.stdout);
    assert.equal(found.length, 2, r.stdout);
    assert.match(found[0], /^problem: routes: is a top-level wrangler key but sits inside \[triggers\] of wrangler\.toml, where wrangler does not read it/);
    assert.match(found[1], /^problem: workers_dev: is a top-level wrangler key but sits inside \[triggers\]/);
  });

  test("inside an array of tables and an environment's vars too; a table's own fields are not flagged", async (t) => {
    const dir = writeFiles(tempDir(t), {
      "wrangler.toml": `name = "edgegate"\nmain = "index.js"\nroutes = [{ pattern = "app.example.com", custom_domain = true }]\n[vars]\n${GOOD_VARS_TOML}[[durable_objects.bindings]]\nname = "COUNTER"\nclass_name = "Counter"\n[[kv_namespaces]]\nbinding = "OTHER"\nid = "1"\ntriggers = { crons = ["* * * * *"] }\n[env.staging]\nworkers_dev = true\n[env.staging.vars]\n${GOOD_VARS_TOML}route = "staging.example.com/*"\n`,
    });
    const found = problems((await check(dir, "wrangler.toml")).stdout);
    assert.equal(found.length, 2, found.join("\n"));
    assert.ok(found.some((p) => /^problem: triggers: .* inside \[\[kv_namespaces\]\] of wrangler\.toml, where/.test(p)), found.join("\n"));
    assert.ok(found.some((p) => /^problem: route: .* inside \[env\.staging\.vars\] of wrangler\.toml, so wrangler ships it as a variable/.test(p)), found.join("\n"));
  });
});

describe("wrangler.jsonc and wrangler.json", { concurrency: 3 }, () => {
  const MISTAKES = `// edgegate, with several mistakes
{
  "name": "edgegate",
  "main": "index.js",
  "vars": {
    "AUTHORISED_PARTIES": "https://app.example.com", // misspelt
    "ORIGIN_URL": "ftp://origin.example.com",
    "CLOCK_SKEW_MS": 999999,
    "PUBLIC_ROUTES": "/docs*",
    "CLERK_JWT_KEY": "-----BEGIN PUBLIC KEY-----",
    "JWKS_URL": "https://clerk.example.com/.well-known/jwks.json",
    "routes": [{ "pattern": "app.example.com", "custom_domain": true }], // top level, really
  },
}
`;

  test("a wrangler.jsonc with several mistakes: each is listed, none of the values", async (t) => {
    const dir = writeFiles(tempDir(t), { "wrangler.jsonc": MISTAKES });
    const r = await check(dir, "wrangler.jsonc");
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const found = problems(r.stdout);
    for (const expected of [
      'problem: routes: is a top-level wrangler key but sits inside "vars" of wrangler.jsonc, so wrangler ships it as a variable named `routes`, not as the worker\'s routes: move it out to the top level of the file',
      'problem: CLERK_JWT_KEY: is a secret but is in wrangler.jsonc "vars", which ships in plain text: remove it there and run `npx wrangler secret put CLERK_JWT_KEY`',
      "problem: AUTHORIZED_PARTIES: required but not set",
      "problem: ORIGIN_URL: must be an absolute http(s) URL",
      "problem: CLOCK_SKEW_MS: must be an integer from 0 to 60000",
      'problem: JWKS_URL: needs a Workers KV namespace bound as EDGEGATE_KEYS: run `npx wrangler kv namespace create EDGEGATE_KEYS` and add the "kv_namespaces" entry it prints ("binding": "EDGEGATE_KEYS") to wrangler.jsonc',
      'problem: JWKS_URL: needs a Cron Trigger to fetch the keys: add "triggers": { "crons": ["*/15 * * * *"] } to wrangler.jsonc',
    ]) {
      assert.ok(found.includes(expected), `missing ${expected} in:\n${r.stdout}`);
    }
    assert.ok(found.some((p) => p.startsWith("problem: PUBLIC_ROUTES: entry 1 (`/docs*`): pattern-unsupported-syntax")), r.stdout);
    assert.ok(found.some((p) => p.startsWith("problem: CLERK_JWT_KEY: key-pem-header-only")), r.stdout);
    assert.ok(
      notes(r.stdout).includes("note: AUTHORISED_PARTIES is not a setting edgegate reads (ignored): did you mean AUTHORIZED_PARTIES?"),
      r.stdout,
    );
    assert.doesNotMatch(r.stdout, /999999|origin\.example\.com/, "a value was printed");
  });

  test("a correct wrangler.json passes", async (t) => {
    const dir = writeFiles(tempDir(t), {
      "wrangler.json": JSON.stringify({ name: "edgegate", main: "index.js", vars: { AUTHORIZED_PARTIES: "https://app.example.com", ORIGIN_URL: "https://origin.example.com", UPSTREAM_TIMEOUT_MS: 5000, TRUST_FORWARDED: true } }),
    });
    const r = await check(dir, "wrangler.json");
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^edgegate check: no problem found$/m);
  });

  test("without --config, the file wrangler picks: wrangler.json, then wrangler.jsonc, then wrangler.toml, here or above", async (t) => {
    const dir = writeFiles(tempDir(t), {
      "wrangler.toml": `name = "edgegate"\nmain = "index.js"\n`,
      "wrangler.jsonc": `{ "name": "edgegate", "main": "index.js", "vars": { "AUTHORIZED_PARTIES": "https://app.example.com", "ORIGIN_URL": "https://origin.example.com" } }`,
      "sub/folder/.keep": "",
    });
    const here = (cwd) => run(process.execPath, [join(ROOT, "scripts", "deploy.mjs"), "check"], { cwd, env: cleanEnv() });
    const first = await here(dir);
    assert.equal(first.code, 0, first.stdout);
    assert.equal((await here(join(dir, "sub", "folder"))).code, 0);
    writeFiles(dir, { "wrangler.json": `{ "name": "edgegate", "main": "index.js" }` });
    const r = await here(dir);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /AUTHORIZED_PARTIES: required but not set/);
  });
});

describe("environments (--env, CLOUDFLARE_ENV): the environment's own vars, as wrangler deploys them", { concurrency: 3 }, () => {
  const TOML = `name = "edgegate"
main = "index.js"
[vars]
ORIGIN_URL = "not a url"
[env.production.vars]
${GOOD_VARS_TOML}[env.staging]
workers_dev = true
`;

  test("--env production checks [env.production.vars], not the top-level [vars]", async (t) => {
    const dir = writeFiles(tempDir(t), { "wrangler.toml": TOML });
    assert.equal((await check(dir, "wrangler.toml", ["--env", "production"])).code, 0);
    assert.equal((await check(dir, "wrangler.toml", ["-e=production"])).code, 0);
    assert.equal((await check(dir, "wrangler.toml", [], cleanEnv({ CLOUDFLARE_ENV: "production" }))).code, 0);
    const top = await check(dir, "wrangler.toml");
    assert.equal(top.code, 1);
    assert.ok(problems(top.stdout).includes("problem: ORIGIN_URL: must be an absolute http(s) URL"), top.stdout);
  });

  test("an environment without vars ships none: refused, with why", async (t) => {
    const dir = writeFiles(tempDir(t), { "wrangler.toml": TOML.replace('ORIGIN_URL = "not a url"\n', GOOD_VARS_TOML) });
    assert.equal((await check(dir, "wrangler.toml")).code, 0);
    const r = await check(dir, "wrangler.toml", ["--env", "staging"]);
    assert.equal(r.code, 1, r.stdout);
    assert.ok(problems(r.stdout).includes("problem: AUTHORIZED_PARTIES: required but not set"), r.stdout);
    assert.ok(
      notes(r.stdout).includes(
        "note: [env.staging] has no vars of its own, and wrangler does not inherit the top-level [vars] into an environment: " +
          "`wrangler deploy --env staging` ships none of them; set them in [env.staging.vars]",
      ),
      r.stdout,
    );
  });

  test("an environment wrangler does not know: the check cannot run (exit 2) and says wrangler's why", async (t) => {
    const dir = writeFiles(tempDir(t), { "wrangler.toml": TOML });
    const r = await check(dir, "wrangler.toml", ["--env", "nowhere"]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^edgegate check: wrangler refuses wrangler\.toml: .*No environment found in configuration with name "nowhere"/ms);
  });
});

describe("settings the check reads besides the vars", { concurrency: 3 }, () => {
  test("--var NAME:VALUE, as wrangler deploy ships it on top of the vars", async (t) => {
    const dir = writeFiles(tempDir(t), { "wrangler.toml": `name = "edgegate"\nmain = "index.js"\n[vars]\nAUTHORIZED_PARTIES = "https://app.example.com"\n` });
    assert.equal((await check(dir, "wrangler.toml")).code, 1);
    assert.equal((await check(dir, "wrangler.toml", ["--var", "ORIGIN_URL:https://origin.example.com:8443"])).code, 0);
    const r = await check(dir, "wrangler.toml", ["--var", "ORIGIN_URL:https://origin.example.com", "CLERK_JWT_KEY:x"]);
    assert.ok(problems(r.stdout)[0].startsWith("problem: CLERK_JWT_KEY: is a secret but is in --var"), r.stdout);
  });

  test("--dev-vars FILE: the shape of its secrets is checked, its other values are not the deploy's", async (t) => {
    const dir = writeFiles(tempDir(t), {
      "wrangler.toml": `name = "edgegate"\nmain = "index.js"\n[vars]\n${GOOD_VARS_TOML}`,
      ".dev.vars": 'CLERK_JWT_KEY=-----BEGIN PUBLIC KEY-----\nORIGIN_URL="http://127.0.0.1:8788"\n',
    });
    const r = await check(dir, "wrangler.toml", ["--dev-vars", join(dir, ".dev.vars")]);
    assert.equal(r.code, 1, r.stdout);
    assert.ok(problems(r.stdout)[0].startsWith("problem: CLERK_JWT_KEY: key-pem-header-only"), r.stdout);
    assert.ok(
      notes(r.stdout).includes(
        "note: .dev.vars: only its secrets are checked; ORIGIN_URL there is a local value for `wrangler dev`, which `wrangler deploy` does not ship",
      ),
      r.stdout,
    );
    assert.doesNotMatch(r.stdout, /PUBLIC KEY|127\.0\.0\.1/, "a value was printed");
  });

  test("--dev-vars FILE is read as wrangler's dotenv reads it: export, multi-line quoted PEMs, comments", async (t) => {
    const pem = generateKeys("RS256").publicPem.trim();
    const dir = writeFiles(tempDir(t), {
      "wrangler.toml": `name = "edgegate"\nmain = "index.js"\n[vars]\n${GOOD_VARS_TOML}`,
      ".dev.vars": `# local values\nexport CLERK_JWT_KEY="${pem}"\nORIGIN_URL=http://127.0.0.1:8788 # the demo origin\n`,
    });
    const r = await check(dir, "wrangler.toml", ["--dev-vars", join(dir, ".dev.vars")]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok(
      notes(r.stdout).some((n) => n.includes("ORIGIN_URL there is a local value")),
      r.stdout,
    );
  });

  test("the user's own names in [define] and [wasm_modules] are never misplaced keys", async (t) => {
    const dir = writeFiles(tempDir(t), {
      "wrangler.toml": `name = "edgegate"\nmain = "index.js"\n[define]\nmain = "'x'"\nroutes = "1"\n[vars]\n${GOOD_VARS_TOML}`,
    });
    const r = await check(dir, "wrangler.toml");
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  test("JWKS_URL needs the EDGEGATE_KEYS namespace and a Cron Trigger", async (t) => {
    const base = `name = "edgegate"\nmain = "index.js"\n[vars]\n${GOOD_VARS_TOML}JWKS_URL = "https://clerk.example.com/.well-known/jwks.json"\n`;
    const dir = writeFiles(tempDir(t), { "wrangler.toml": base });
    const r = await check(dir, "wrangler.toml");
    assert.deepEqual(problems(r.stdout), [
      'problem: JWKS_URL: needs a Workers KV namespace bound as EDGEGATE_KEYS: run `npx wrangler kv namespace create EDGEGATE_KEYS` and add the [[kv_namespaces]] entry it prints (binding = "EDGEGATE_KEYS") to wrangler.toml',
      'problem: JWKS_URL: needs a Cron Trigger to fetch the keys: add [triggers] crons = ["*/15 * * * *"] to wrangler.toml',
    ]);
    writeFiles(dir, { "wrangler.toml": `${base}[[kv_namespaces]]\nbinding = "EDGEGATE_KEYS"\nid = "0123"\n[triggers]\ncrons = ["*/15 * * * *"]\n` });
    assert.equal((await check(dir, "wrangler.toml")).code, 0);
  });

  test("a satellite routed elsewhere than its DOMAIN gets a note", async (t) => {
    const pk = `pk_test_${Buffer.from("happy-hen-1.clerk.accounts.dev$").toString("base64")}`;
    const toml = (host) => `name = "edgegate"\nmain = "index.js"\nroutes = [{ pattern = "${host}", custom_domain = true }]\n[vars]\nAUTHORIZED_PARTIES = "https://satellite.example.net"\nORIGIN_URL = "https://origin.example.com"\nPUBLISHABLE_KEY = "${pk}"\nIS_SATELLITE = "true"\n`;
    const dir = writeFiles(tempDir(t), { "wrangler.toml": toml("app.example.com") });
    const r = await check(dir, "wrangler.toml");
    assert.equal(r.code, 1, r.stdout);
    assert.ok(problems(r.stdout).some((p) => p.startsWith("problem: DOMAIN: required on a satellite")), r.stdout);
    assert.ok(problems(r.stdout).some((p) => p.startsWith("problem: SIGN_IN_URL: required on a development satellite")), r.stdout);
    writeFiles(dir, { "wrangler.toml": `${toml("app.example.com")}DOMAIN = "satellite.example.net"\nSIGN_IN_URL = "https://app.example.com/sign-in"\n` });
    const routed = await check(dir, "wrangler.toml");
    assert.equal(routed.code, 0, routed.stdout);
    assert.ok(notes(routed.stdout).some((n) => n.startsWith("note: DOMAIN: satellite.example.net is not among the hosts of wrangler.toml's routes (app.example.com)")), routed.stdout);
    writeFiles(dir, { "wrangler.toml": `${toml("satellite.example.net")}DOMAIN = "satellite.example.net"\nSIGN_IN_URL = "https://app.example.com/sign-in"\n` });
    assert.doesNotMatch((await check(dir, "wrangler.toml")).stdout, /note: DOMAIN/);
  });
});

describe("when the check cannot run (exit 2, nothing on stdout)", { concurrency: 3 }, () => {
  test("an unknown argument, a missing file, a folder without configuration", async (t) => {
    const dir = tempDir(t);
    for (const r of [
      await npmRun("check", ["--bogus"], { env: cleanEnv() }),
      await npmRun("check", ["--config", join(dir, "missing.toml")], { env: cleanEnv() }),
      await run(process.execPath, [join(ROOT, "scripts", "deploy.mjs"), "check"], { cwd: dir, env: cleanEnv() }),
      await npmRun("check", ["--env"], { env: cleanEnv() }),
    ]) {
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, /^edgegate check: /m);
    }
  });

  test("a file wrangler cannot parse", async (t) => {
    const dir = writeFiles(tempDir(t), { "wrangler.jsonc": `{ "name": "edgegate", "vars": { "A": } }` });
    const r = await check(dir, "wrangler.jsonc");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^edgegate check: wrangler cannot read .*wrangler\.jsonc: ValueExpected \(line 1, column \d+\)$/m);
  });
});
