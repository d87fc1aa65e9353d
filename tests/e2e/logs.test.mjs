// docs/logs.md against the worker: the lines the built worker writes in workerd (captured through
// Miniflare's handleStructuredLogs, what `wrangler tail` relays) have exactly the documented
// fields in the documented order, every value they carry for a field with a fixed set of values
// is one the doc lists, and the doc's jq filters read `wrangler tail --format json`'s shape.
import { test, before, describe } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  APP_ORIGIN,
  PAGE,
  ROOT,
  bearer,
  generateKeys,
  logCollector,
  mintToken,
  nowSeconds,
  sessionClaims,
  useGateway,
} from "./helpers.mjs";

const DOC = readFileSync(join(ROOT, "docs", "logs.md"), "utf8");
const key = generateKeys("RS256");
const token = (claims = {}) => mintToken({ privatePem: key.privatePem, claims: sessionClaims({ azp: APP_ORIGIN, ...claims }) });

/** The "## Fields" table: each row's field name and its whole text. */
function documentedFields() {
  const section = DOC.split("\n## Fields\n")[1]?.split("\n## ")[0] ?? "";
  return section
    .split("\n")
    .map((line) => /^\| `([a-z_]+)` \|(.*)$/.exec(line))
    .filter(Boolean)
    .map(([, name, row]) => ({ name, row }));
}

const parse = (line) => {
  try {
    return JSON.parse(line);
  } catch {
    return null;
  }
};

describe("the per-request log line and docs/logs.md", () => {
  const logs = logCollector();
  const requestLines = () => logs.lines.map(parse).filter((v) => v && "request_id" in v);
  const { origin, worker } = useGateway({
    key,
    settings: {
      SIGN_IN_URL: "https://accounts.edgegate.test/sign-in",
      ROUTE_RULES: "/admin(.*)=role:org:admin",
      CORS_PREFLIGHT: "edge",
    },
    options: logs.options,
  });

  before(async () => {
    // One request for each kind of line: proxied, refused (401, 307, 403, 400), the gateway's
    // own paths, a preflight, and the origin down.
    const now = nowSeconds();
    await worker.fetch("/api/orders?page=2", { headers: { ...bearer(token()), "cf-ray": "8f0e2c1a9b3d4e5f-LHR" } });
    await worker.fetch("/api/orders", { headers: bearer(token({ iat: now - 300, nbf: now - 300, exp: now - 120 })) });
    await worker.fetch("/dashboard", { headers: PAGE });
    await worker.fetch("/api/x", { headers: bearer(token({ azp: "http://app.example.com" })) });
    await worker.fetch("/admin/users", { headers: bearer(token()) });
    await worker.fetch("/a%2fb");
    await worker.fetch("/__edgegate/health");
    await worker.fetch("/__edgegate/session", { headers: bearer(token()) });
    await worker.fetch("/__edgegate/", { headers: PAGE });
    await worker.fetch("/api/orders", { method: "OPTIONS", headers: { origin: APP_ORIGIN, "access-control-request-method": "POST" } });
    await origin.close();
    await worker.fetch("/api/orders", { headers: bearer(token()) });
    // workerd relays the lines through its output, after the responses: wait for all eleven
    // (at most a few seconds; the tests then say which are missing).
    for (let i = 0; i < 250 && requestLines().length < 11; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  });

  test("every_line_has_exactly_the_documented_fields_in_order", () => {
    const fields = documentedFields().map((f) => f.name);
    assert.ok(fields.length >= 10, `the doc's field table: ${fields}`);
    const lines = requestLines();
    for (const line of lines) assert.deepEqual(Object.keys(line), fields, JSON.stringify(line));
    // The outcomes these requests give, so the comparison above covered each kind of line.
    assert.deepEqual(
      [...new Set(lines.map((l) => l.outcome))].sort(),
      ["asset", "health", "preflight", "proxy", "refused", "session"],
    );
    const proxied = lines.find((l) => l.request_id === "8f0e2c1a9b3d4e5f-LHR");
    assert.equal(proxied.path, "/api/orders", "no query in the line");
  });

  test("the_doc_s_examples_are_lines_the_worker_could_write", () => {
    const fields = documentedFields().map((f) => f.name);
    const block = /## An example[\s\S]*?```json\n([\s\S]*?)```/.exec(DOC)?.[1] ?? "";
    const examples = block.trim().split("\n").map((l) => JSON.parse(l));
    assert.ok(examples.length >= 2);
    for (const example of examples) assert.deepEqual(Object.keys(example), fields);
  });

  test("every_value_of_a_fixed_set_field_is_documented", () => {
    const rows = Object.fromEntries(documentedFields().map((f) => [f.name, f.row]));
    const docs = ["logs.md", "verification.md", "routes.md", "requests.md", "browser-sessions.md"]
      .map((d) => readFileSync(join(ROOT, "docs", d), "utf8"))
      .join("\n");
    for (const line of requestLines()) {
      for (const field of ["outcome", "auth_status", "fault", "token_source", "token_type"]) {
        if (line[field] !== null) assert.ok(rows[field].includes(`\`${line[field]}\``), `${field}: ${line[field]}`);
      }
      if (line.reason !== null) assert.ok(docs.includes(`\`${line.reason}\``), `reason ${line.reason} documented`);
      assert.ok(line.request_id !== "" && line.path !== "", JSON.stringify(line));
    }
  });

  test("the_doc_s_jq_filters_read_wrangler_tail_s_json", (t) => {
    if (!existsSync("/usr/bin/jq")) {
      t.skip("jq is not installed");
      return;
    }
    // `wrangler tail --format json` prints each invocation as an indented JSON object whose
    // `logs` hold the console.log calls' arguments (wrangler's jsonPrintLogs).
    const stream = logs.lines
      .map((message, i) =>
        JSON.stringify(
          {
            outcome: "ok",
            scriptName: "edgegate",
            exceptions: [],
            logs: [{ message: [message], level: "log", timestamp: 1796673425000 + i }],
            eventTimestamp: 1796673425000 + i,
            event: { request: { url: "https://app.edgegate.test/", method: "GET", headers: {} } },
          },
          null,
          4,
        ),
      )
      .join("\n");
    const shell = /## Filtering[\s\S]*?```sh\n([\s\S]*?)```/.exec(DOC)?.[1] ?? "";
    const programs = [...shell.matchAll(/jq (-[cr]) '([^']+)'/g)].map(([, flag, program]) => [flag, program]);
    assert.ok(programs.length >= 4, shell);
    const run = ([flag, program]) => execFileSync("jq", [flag, program], { input: stream, encoding: "utf8" });
    // The first filter gives exactly the request lines.
    const all = run(programs[0]).trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(all, requestLines());
    const refused = run(programs[1]).trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(refused.length, requestLines().filter((l) => l.outcome === "refused").length);
    assert.deepEqual(Object.keys(refused[0]), ["status", "path", "reason", "detail", "fault"]);
    const failures = run(programs[2]).trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(failures.map((l) => l.reason), ["origin-unreachable"]);
    for (const p of programs.slice(3)) run(p);
  });
});
