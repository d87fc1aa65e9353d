// Load test (issue 6): the built worker in workerd with a real origin on loopback, hundreds of
// concurrent connections for a bounded time, a mix of valid, expired and forged tokens, public
// routes, large streamed bodies and hostile headers. Every response is checked against what that
// request should get; the origin must receive exactly the authorised requests (by X-Test-Id);
// no unexpected 5xx; workerd's memory must not keep growing. Loopback only; bounded in time and
// count. Exit status 1 on any violation.
//
//   LOAD_SECONDS=60 LOAD_CONCURRENCY=200 node tests/load/load.mjs
import http from "node:http";
import { readFileSync, readdirSync } from "node:fs";
import {
  APP_ORIGIN,
  baseSettings,
  generateKeys,
  mintToken,
  nowSeconds,
  sessionClaims,
  startWorker,
} from "../e2e/helpers.mjs";

const SECONDS = Number(process.env.LOAD_SECONDS ?? 60);
const CONCURRENCY = Number(process.env.LOAD_CONCURRENCY ?? 200);
const MAX_REQUESTS = Number(process.env.LOAD_MAX_REQUESTS ?? 2_000_000);
const BIG_BODY = Buffer.alloc(256 * 1024, 0x61);

// --- the origin: counts every request by its X-Test-Id ------------------------------------------
const received = new Map();
let receivedSpoofed = 0;
let receivedBadBody = 0;
const origin = http.createServer((req, res) => {
  let length = 0;
  req.on("data", (c) => (length += c.length));
  req.on("end", () => {
    const id = req.headers["x-test-id"];
    if (id) received.set(id, (received.get(id) ?? 0) + 1);
    if (req.headers["x-auth-user-id"] === "spoofed") receivedSpoofed++;
    if (req.headers["x-expect-length"] && Number(req.headers["x-expect-length"]) !== length) receivedBadBody++;
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("ok");
  });
});
await new Promise((r) => origin.listen(0, "127.0.0.1", r));

const key = generateKeys("RS256");
const other = generateKeys("RS256");
// LOAD_BASELINE=1 runs the same load against a pass-through JS worker (memory comparison).
const worker = await startWorker({
  script: process.env.LOAD_BASELINE ? "baseline" : undefined,
  bindings: baseSettings({
    publicPem: key.publicPem,
    originUrl: `http://127.0.0.1:${origin.address().port}`,
    PUBLIC_ROUTES: "/public(.*)",
  }),
});
const target = new URL(worker.url);

// --- workerd's memory ----------------------------------------------------------------------------
function workerdPids() {
  const pids = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (cmd.includes("workerd") && cmd.includes("serve")) pids.push(entry);
    } catch {}
  }
  return pids;
}
function rssMiB() {
  let kb = 0;
  for (const pid of workerdPids()) {
    try {
      const m = readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+)/);
      if (m) kb += Number(m[1]);
    } catch {}
  }
  return kb / 1024;
}

// --- the request mix -----------------------------------------------------------------------------
const now = nowSeconds();
const validTokens = Array.from({ length: 64 }, (_, i) =>
  mintToken({ privatePem: key.privatePem, claims: sessionClaims({ azp: APP_ORIGIN, sub: `user_${i}`, sid: `sess_${i}`, exp: now + 3600 }) }),
);
const expired = mintToken({ privatePem: key.privatePem, claims: sessionClaims({ azp: APP_ORIGIN, iat: now - 600, nbf: now - 600, exp: now - 300 }) });
const forged = mintToken({ privatePem: other.privatePem, claims: sessionClaims({ azp: APP_ORIGIN, exp: now + 3600 }) });

const KINDS = [
  { name: "valid", weight: 40, expect: 200, reaches: true },
  { name: "expired", weight: 10, expect: 401, reaches: false },
  { name: "forged", weight: 10, expect: 401, reaches: false },
  { name: "no-token", weight: 10, expect: 401, reaches: false },
  { name: "public", weight: 15, expect: 200, reaches: true },
  { name: "big-post", weight: 5, expect: 200, reaches: true },
  { name: "hostile", weight: 10, expect: 200, reaches: true },
];
const wheel = KINDS.flatMap((k) => Array(k.weight).fill(k));

function build(kind, id, n) {
  const headers = { "x-test-id": id };
  let path = `/api/items/${n % 1000}?n=${n}`;
  let method = "GET";
  let body = null;
  const valid = () => `Bearer ${validTokens[n % validTokens.length]}`;
  switch (kind.name) {
    case "valid":
      headers.authorization = valid();
      break;
    case "expired":
      headers.authorization = `Bearer ${expired}`;
      break;
    case "forged":
      headers.authorization = `Bearer ${forged}`;
      break;
    case "public":
      path = `/public/page/${n % 100}`;
      break;
    case "big-post":
      method = "POST";
      headers.authorization = valid();
      headers["content-type"] = "application/octet-stream";
      headers["x-expect-length"] = String(BIG_BODY.length);
      body = BIG_BODY;
      break;
    case "hostile":
      headers.authorization = valid();
      headers["x-auth-user-id"] = "spoofed";
      headers["X_Auth_User_Id"] = "spoofed";
      headers["x-forwarded-host"] = "example.com[invalid]";
      headers.forwarded = 'host="[::1";proto=gopher';
      headers.cookie = `=;;__session="; a=${"x".repeat(2000)}`;
      break;
  }
  return { method, path, headers, body };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
function send({ method, path, headers, body }) {
  return new Promise((resolve) => {
    const req = http.request(
      { host: target.hostname, port: target.port, method, path, headers, agent },
      (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode }));
        res.on("error", () => resolve({ status: -1 }));
      },
    );
    req.on("error", () => resolve({ status: -1 }));
    req.setTimeout(30_000, () => req.destroy());
    if (body) req.end(body);
    else req.end();
  });
}

// --- run -----------------------------------------------------------------------------------------
for (let i = 0; i < 200; i++) await send(build(KINDS[0], `warm-${i}`, i));
const rssBefore = rssMiB();
const samples = [rssBefore];
const sampler = setInterval(() => samples.push(rssMiB()), 5000);

const expectReach = new Set();
const mustNotReach = new Set();
const errors = new Map();
const byKind = new Map(KINDS.map((k) => [k.name, { sent: 0, ok: 0 }]));
let sent = 0;
const deadline = Date.now() + SECONDS * 1000;
const started = Date.now();

async function loop(w) {
  while (Date.now() < deadline && sent < MAX_REQUESTS) {
    const n = sent++;
    const kind = wheel[(n * 7919 + w) % wheel.length];
    const id = `${kind.name}-${n}`;
    const { status } = await send(build(kind, id, n));
    const stats = byKind.get(kind.name);
    stats.sent++;
    if (status === kind.expect) {
      stats.ok++;
      (kind.reaches ? expectReach : mustNotReach).add(id);
    } else {
      const key = `${kind.name}: expected ${kind.expect}, got ${status}`;
      errors.set(key, (errors.get(key) ?? 0) + 1);
      if (!kind.reaches) mustNotReach.add(id);
    }
  }
}
await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => loop(w)));
const elapsed = (Date.now() - started) / 1000;
clearInterval(sampler);
await new Promise((r) => setTimeout(r, 1000));
const rssAfter = rssMiB();

// --- verdict -------------------------------------------------------------------------------------
let missing = 0;
let duplicated = 0;
let unauthorised = 0;
for (const id of expectReach) {
  const c = received.get(id) ?? 0;
  if (c === 0) missing++;
  if (c > 1) duplicated++;
}
for (const id of mustNotReach) if (received.has(id)) unauthorised++;
const unexpected5xx = [...errors.entries()].filter(([k]) => / got 5\d\d$/.test(k)).reduce((a, [, v]) => a + v, 0);
const unexpected = [...errors.values()].reduce((a, b) => a + b, 0);
const peak = Math.max(...samples, rssAfter);
// Growth check. workerd's RSS climbs for the first tens of seconds under any load (a pass-through
// JS worker does the same: LOAD_BASELINE=1) and then levels off; a leak keeps climbing. So the
// last sample is compared with the highest sample of the middle of the run.
const mid = samples.slice(Math.floor(samples.length * 0.4), Math.max(Math.floor(samples.length * 0.7), 1));
const midMax = mid.length ? Math.max(...mid) : samples[0];
const lastSample = samples[samples.length - 1];
const judged = samples.length >= 6;
const growing = judged && lastSample > midMax * 1.25 + 32;
console.log("\n==================== edgegate load test ====================");
console.log(`duration            ${elapsed.toFixed(1)} s`);
console.log(`concurrency         ${CONCURRENCY} connections`);
console.log(`requests            ${sent} (${(sent / elapsed).toFixed(0)} req/s)`);
for (const [name, s] of byKind) console.log(`  ${name.padEnd(16)}  ${String(s.sent).padStart(8)} sent, ${String(s.ok).padStart(8)} as expected`);
console.log(`unexpected statuses ${unexpected}`);
for (const [k, v] of errors) console.log(`  ${k}: ${v}`);
console.log(`unexpected 5xx      ${unexpected5xx}`);
console.log(`origin: missing     ${missing}`);
console.log(`origin: duplicated  ${duplicated}`);
console.log(`origin: unauthorised ${unauthorised}`);
console.log(`origin: spoofed id  ${receivedSpoofed}`);
console.log(`origin: bad bodies  ${receivedBadBody}`);
console.log(`workerd RSS         before ${rssBefore.toFixed(1)} MiB, peak ${peak.toFixed(1)} MiB, after ${rssAfter.toFixed(1)} MiB`);
console.log(
  `memory growing      ${judged ? (growing ? "YES" : "no") : "not judged (run at least 30 s)"} (MiB every 5 s: ${samples.map((s) => s.toFixed(0)).join(" ")})`,
);

agent.destroy();
await worker.dispose();
await new Promise((r) => origin.close(r));

const failed =
  unexpected > 0 || missing > 0 || duplicated > 0 || unauthorised > 0 || receivedSpoofed > 0 || receivedBadBody > 0 || growing;
console.log(failed ? "RESULT: FAILED" : "RESULT: passed");
process.exit(failed ? 1 : 0);
