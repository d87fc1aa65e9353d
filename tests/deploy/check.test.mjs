// Issue 35: `npm run check` sees exactly what `wrangler deploy` with the same arguments ships,
// on real configuration files (TOML, JSON, JSONC) in temporary folders. Issue 36: the checks of
// a configuration's findings are one table (CASES), each case what differs from a shared
// wrangler.toml and what the check must find; the tests that need more than one run of the
// check, or wrangler's own reading of the shipped file, follow it.
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

/** The shared wrangler.toml: the worker's name and entry, `before`, [vars] with `vars`, `after`. */
function toml({ before = "", vars = GOOD_VARS_TOML, after = "" } = {}) {
  return `name = "edgegate"\nmain = "index.js"\n${before}[vars]\n${vars}${after}`;
}

// What a case expects of the check's result `r` (`{code, stdout, stderr}`); `at` is `{dir, file}`.
// In a list of lines, a string is a whole line and a RegExp matches one.
const exit = (code) => (r) => assert.equal(r.code, code, r.stdout + r.stderr);
/** Exactly these `problem:` lines, in order. */
const problemsAre = (...expected) => (r) => {
  const found = problems(r.stdout);
  assert.equal(found.length, expected.length, r.stdout);
  expected.forEach((e, i) => (typeof e === "string" ? assert.equal(found[i], e) : assert.match(found[i], e)));
};
const problemCount = (n) => (r) => assert.equal(problems(r.stdout).length, n, r.stdout);
const problemsInclude = (...expected) => (r) => includesAll(problems(r.stdout), expected, r.stdout);
const firstProblem = (start) => (r) => assert.ok(problems(r.stdout)[0].startsWith(start), r.stdout);
const notesInclude = (...expected) => (r) => includesAll(notes(r.stdout), expected, r.stdout);
const stdoutMatches = (re) => (r) => assert.match(r.stdout, re);
/** No value of the configuration is printed. */
const stdoutLacks = (re) => (r) => assert.doesNotMatch(r.stdout, re, "a value was printed");
const stdoutIs = (text) => (r) => assert.equal(r.stdout, text);
const stderrMatches = (re) => (r) => assert.match(r.stderr, re);
/** The names wrangler itself reads into the vars of the case's file (the oracle). */
const wranglerVars = (names) => (_r, at) => assert.deepEqual(Object.keys(wranglerReads(at.dir, at.file).vars).sort(), names);

function includesAll(lines, expected, stdout) {
  for (const e of expected) {
    const found = typeof e === "string" ? lines.includes(e) : lines.some((l) => e.test(l));
    assert.ok(found, `missing ${e} in:\n${stdout}`);
  }
}
/** A RegExp for the lines that start with `text`. */
const startsWith = (text) => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`);

const ENV_TABLES = `[env.production.vars]\n${GOOD_VARS_TOML}[env.staging]\nworkers_dev = true\n`;
const ENVS = toml({ vars: 'ORIGIN_URL = "not a url"\n', after: ENV_TABLES });
const JWKS_VARS = `${GOOD_VARS_TOML}JWKS_URL = "https://clerk.example.com/.well-known/jwks.json"\n`;
const KV_AND_CRON = `[[kv_namespaces]]\nbinding = "EDGEGATE_KEYS"\nid = "0123"\n[triggers]\ncrons = ["*/15 * * * *"]\n`;
const SATELLITE_PK = `pk_test_${Buffer.from("happy-hen-1.clerk.accounts.dev$").toString("base64")}`;
/** A satellite routed to `host`, with `vars` besides its own. */
const satellite = (host, vars = "") =>
  toml({
    before: `routes = [{ pattern = "${host}", custom_domain = true }]\n`,
    vars: `AUTHORIZED_PARTIES = "https://satellite.example.net"\nORIGIN_URL = "https://origin.example.com"\nPUBLISHABLE_KEY = "${SATELLITE_PK}"\nIS_SATELLITE = "true"\n${vars}`,
  });
const SATELLITE_DOMAIN = `DOMAIN = "satellite.example.net"\nSIGN_IN_URL = "https://app.example.com/sign-in"\n`;

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

/**
 * One run of the check each: `name`; the configuration, `text` in `file` (wrangler.toml unless
 * named; none: the shipped wrangler.toml, found by the check itself); a `.dev.vars` file passed
 * with `--dev-vars` (`devVars`, text or a function giving it); the `args` and the shell `env`
 * besides; and what the result must show (`expect`).
 */
const CASES = [
  // The shipped wrangler.toml.
  {
    name: "unconfigured, it is refused with the two required settings",
    expect: [
      exit(1),
      problemsAre("problem: AUTHORIZED_PARTIES: required but not set", "problem: ORIGIN_URL: required but not set"),
      stdoutMatches(/^note: CLERK_JWT_KEY is not set here/m),
      stdoutMatches(/^edgegate check: 2 problem\(s\); fix them before `wrangler deploy`$/m),
    ],
  },
  {
    name: "settings exported in the shell are not settings: still refused, and said so",
    env: { AUTHORIZED_PARTIES: "https://app.example.com", ORIGIN_URL: "https://origin.example.com" },
    expect: [
      exit(1),
      problemCount(2),
      notesInclude(
        "note: AUTHORIZED_PARTIES, ORIGIN_URL are set in this shell, but shell variables are not settings for a deploy: " +
          "`wrangler deploy` ships wrangler.toml [vars] and the secrets put with `npx wrangler secret put`, so they were not used here",
      ),
      stdoutLacks(/origin\.example\.com/),
    ],
  },
  // Top-level keys inside a table.
  {
    name: "routes uncommented below [vars] is reported (wrangler ships it as a variable)",
    text: toml({ vars: `${GOOD_VARS_TOML}routes = [\n  { pattern = "app.example.com/*", zone_name = "example.com" },\n]\n` }),
    expect: [
      wranglerVars(["AUTHORIZED_PARTIES", "ORIGIN_URL", "routes"]),
      exit(1),
      problemsAre(
        "problem: routes: is a top-level wrangler key but sits inside [vars] of wrangler.toml, so wrangler ships it as a " +
          "variable named `routes`, not as the worker's routes: move it above the first [table] header (in TOML a key " +
          "belongs to the table above it)",
      ),
    ],
  },
  {
    name: "routes below the uncommented KV and cron blocks lands in [triggers], and is reported",
    text: toml({ after: `${KV_AND_CRON}routes = [{ pattern = "app.example.com", custom_domain = true }]\nworkers_dev = false\n` }),
    expect: [
      exit(1),
      problemsAre(
        /^problem: routes: is a top-level wrangler key but sits inside \[triggers\] of wrangler\.toml, where wrangler does not read it/,
        /^problem: workers_dev: is a top-level wrangler key but sits inside \[triggers\]/,
      ),
    ],
  },
  {
    name: "inside an array of tables and an environment's vars too; a table's own fields are not flagged",
    text: toml({
      before: `routes = [{ pattern = "app.example.com", custom_domain = true }]\n`,
      after: `[[durable_objects.bindings]]\nname = "COUNTER"\nclass_name = "Counter"\n[[kv_namespaces]]\nbinding = "OTHER"\nid = "1"\ntriggers = { crons = ["* * * * *"] }\n[env.staging]\nworkers_dev = true\n[env.staging.vars]\n${GOOD_VARS_TOML}route = "staging.example.com/*"\n`,
    }),
    expect: [
      problemCount(2),
      problemsInclude(
        /^problem: triggers: .* inside \[\[kv_namespaces\]\] of wrangler\.toml, where/,
        /^problem: route: .* inside \[env\.staging\.vars\] of wrangler\.toml, so wrangler ships it as a variable/,
      ),
    ],
  },
  // wrangler.jsonc and wrangler.json.
  {
    name: "a wrangler.jsonc with several mistakes: each is listed, none of the values",
    file: "wrangler.jsonc",
    text: MISTAKES,
    expect: [
      exit(1),
      problemsInclude(
        'problem: routes: is a top-level wrangler key but sits inside "vars" of wrangler.jsonc, so wrangler ships it as a variable named `routes`, not as the worker\'s routes: move it out to the top level of the file',
        'problem: CLERK_JWT_KEY: is a secret but is in wrangler.jsonc "vars", which ships in plain text: remove it there and run `npx wrangler secret put CLERK_JWT_KEY`',
        "problem: AUTHORIZED_PARTIES: required but not set",
        "problem: ORIGIN_URL: must be an absolute http(s) URL",
        "problem: CLOCK_SKEW_MS: must be an integer from 0 to 60000",
        'problem: JWKS_URL: needs a Workers KV namespace bound as EDGEGATE_KEYS: run `npx wrangler kv namespace create EDGEGATE_KEYS` and add the "kv_namespaces" entry it prints ("binding": "EDGEGATE_KEYS") to wrangler.jsonc',
        'problem: JWKS_URL: needs a Cron Trigger to fetch the keys: add "triggers": { "crons": ["*/15 * * * *"] } to wrangler.jsonc',
        startsWith("problem: PUBLIC_ROUTES: entry 1 (`/docs*`): pattern-unsupported-syntax"),
        startsWith("problem: CLERK_JWT_KEY: key-pem-header-only"),
      ),
      notesInclude("note: AUTHORISED_PARTIES is not a setting edgegate reads (ignored): did you mean AUTHORIZED_PARTIES?"),
      stdoutLacks(/999999|origin\.example\.com/),
    ],
  },
  {
    name: "a correct wrangler.json passes",
    file: "wrangler.json",
    text: JSON.stringify({ name: "edgegate", main: "index.js", vars: { AUTHORIZED_PARTIES: "https://app.example.com", ORIGIN_URL: "https://origin.example.com", UPSTREAM_TIMEOUT_MS: 5000, TRUST_FORWARDED: true } }),
    expect: [exit(0), stdoutMatches(/^edgegate check: no problem found$/m)],
  },
  {
    name: "a file wrangler cannot parse: the check cannot run (exit 2)",
    file: "wrangler.jsonc",
    text: `{ "name": "edgegate", "vars": { "A": } }`,
    expect: [exit(2), stderrMatches(/^edgegate check: wrangler cannot read .*wrangler\.jsonc: ValueExpected \(line 1, column \d+\)$/m)],
  },
  // Environments (--env, CLOUDFLARE_ENV): the environment's own vars, as wrangler deploys them.
  { name: "--env production checks [env.production.vars], not the top-level [vars]", text: ENVS, args: ["--env", "production"], expect: [exit(0)] },
  { name: "-e=production does the same", text: ENVS, args: ["-e=production"], expect: [exit(0)] },
  { name: "CLOUDFLARE_ENV=production does the same", text: ENVS, env: { CLOUDFLARE_ENV: "production" }, expect: [exit(0)] },
  {
    name: "without an environment, the top-level [vars] are checked",
    text: ENVS,
    expect: [exit(1), problemsInclude("problem: ORIGIN_URL: must be an absolute http(s) URL")],
  },
  { name: "the top-level [vars], correct, pass", text: toml({ after: ENV_TABLES }), expect: [exit(0)] },
  {
    name: "an environment without vars ships none: refused, with why",
    text: toml({ after: ENV_TABLES }),
    args: ["--env", "staging"],
    expect: [
      exit(1),
      problemsInclude("problem: AUTHORIZED_PARTIES: required but not set"),
      notesInclude(
        "note: [env.staging] has no vars of its own, and wrangler does not inherit the top-level [vars] into an environment: " +
          "`wrangler deploy --env staging` ships none of them; set them in [env.staging.vars]",
      ),
    ],
  },
  {
    name: "an environment wrangler does not know: the check cannot run (exit 2) and says wrangler's why",
    text: ENVS,
    args: ["--env", "nowhere"],
    expect: [
      exit(2),
      stdoutIs(""),
      stderrMatches(/^edgegate check: wrangler refuses wrangler\.toml: .*No environment found in configuration with name "nowhere"/ms),
    ],
  },
  // Settings the check reads besides the vars.
  {
    name: "without --var, a required setting is missing",
    text: toml({ vars: 'AUTHORIZED_PARTIES = "https://app.example.com"\n' }),
    expect: [exit(1)],
  },
  {
    name: "--var NAME:VALUE, as wrangler deploy ships it on top of the vars",
    text: toml({ vars: 'AUTHORIZED_PARTIES = "https://app.example.com"\n' }),
    args: ["--var", "ORIGIN_URL:https://origin.example.com:8443"],
    expect: [exit(0)],
  },
  {
    name: "a secret given with --var is reported",
    text: toml({ vars: 'AUTHORIZED_PARTIES = "https://app.example.com"\n' }),
    args: ["--var", "ORIGIN_URL:https://origin.example.com", "CLERK_JWT_KEY:x"],
    expect: [firstProblem("problem: CLERK_JWT_KEY: is a secret but is in --var")],
  },
  {
    name: "--dev-vars FILE: the shape of its secrets is checked, its other values are not the deploy's",
    text: toml(),
    devVars: 'CLERK_JWT_KEY=-----BEGIN PUBLIC KEY-----\nORIGIN_URL="http://127.0.0.1:8788"\n',
    expect: [
      exit(1),
      firstProblem("problem: CLERK_JWT_KEY: key-pem-header-only"),
      notesInclude(
        "note: .dev.vars: only its secrets are checked; ORIGIN_URL there is a local value for `wrangler dev`, which `wrangler deploy` does not ship",
      ),
      stdoutLacks(/PUBLIC KEY|127\.0\.0\.1/),
    ],
  },
  {
    name: "--dev-vars FILE is read as wrangler's dotenv reads it: export, multi-line quoted PEMs, comments",
    text: toml(),
    devVars: () => {
      const pem = generateKeys("RS256").publicPem.trim();
      return `# local values\nexport CLERK_JWT_KEY="${pem}"\nORIGIN_URL=http://127.0.0.1:8788 # the demo origin\n`;
    },
    expect: [exit(0), notesInclude(/ORIGIN_URL there is a local value/)],
  },
  {
    name: "the user's own names in [define] and [wasm_modules] are never misplaced keys",
    text: toml({ before: `[define]\nmain = "'x'"\nroutes = "1"\n` }),
    expect: [exit(0)],
  },
  {
    name: "JWKS_URL needs the EDGEGATE_KEYS namespace and a Cron Trigger",
    text: toml({ vars: JWKS_VARS }),
    expect: [
      problemsAre(
        'problem: JWKS_URL: needs a Workers KV namespace bound as EDGEGATE_KEYS: run `npx wrangler kv namespace create EDGEGATE_KEYS` and add the [[kv_namespaces]] entry it prints (binding = "EDGEGATE_KEYS") to wrangler.toml',
        'problem: JWKS_URL: needs a Cron Trigger to fetch the keys: add [triggers] crons = ["*/15 * * * *"] to wrangler.toml',
      ),
    ],
  },
  { name: "JWKS_URL with the EDGEGATE_KEYS namespace and a Cron Trigger passes", text: toml({ vars: JWKS_VARS, after: KV_AND_CRON }), expect: [exit(0)] },
  {
    name: "a satellite without DOMAIN and SIGN_IN_URL is refused",
    text: satellite("app.example.com"),
    expect: [
      exit(1),
      problemsInclude(startsWith("problem: DOMAIN: required on a satellite"), startsWith("problem: SIGN_IN_URL: required on a development satellite")),
    ],
  },
  {
    name: "a satellite routed elsewhere than its DOMAIN gets a note",
    text: satellite("app.example.com", SATELLITE_DOMAIN),
    expect: [
      exit(0),
      notesInclude(startsWith("note: DOMAIN: satellite.example.net is not among the hosts of wrangler.toml's routes (app.example.com)")),
    ],
  },
  {
    name: "a satellite routed to its DOMAIN gets no note",
    text: satellite("satellite.example.net", SATELLITE_DOMAIN),
    expect: [(r) => assert.doesNotMatch(r.stdout, /note: DOMAIN/)],
  },
];

before(ensureBuilt);

describe("npm run check, one case of CASES each", { concurrency: 3 }, () => {
  for (const c of CASES) {
    test(c.name, async (t) => {
      const at = { dir: tempDir(t), file: c.file ?? "wrangler.toml" };
      const args = [...(c.args ?? [])];
      if (c.devVars !== undefined) {
        const text = typeof c.devVars === "function" ? c.devVars() : c.devVars;
        writeFiles(at.dir, { ".dev.vars": text });
        args.unshift("--dev-vars", join(at.dir, ".dev.vars"));
      }
      const env = cleanEnv(c.env);
      let r;
      if (c.text === undefined) {
        r = await npmRun("check", args, { env });
      } else {
        writeFiles(at.dir, { [at.file]: c.text });
        r = await check(at.dir, at.file, args, env);
      }
      for (const expectation of c.expect) expectation(r, at);
    });
  }
});

describe("the shipped wrangler.toml's examples, as wrangler reads them", { concurrency: 3 }, () => {
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

describe("the configuration file wrangler picks", { concurrency: 3 }, () => {
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
});
