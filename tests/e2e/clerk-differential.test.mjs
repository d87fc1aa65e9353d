// Clerk differential test: seeded generated requests judged by `@clerk/backend`'s
// `authenticateRequest` (networkless with `jwtKey`, its `fetch` refused and counted) and by the
// built worker in workerd. Each answer is classified as signed-in (with identity), signed-out (with
// a reason) or handshake (with its parameters); every disagreement must be explained by a listed
// difference in docs/clerk-differences.md, or the test fails with the request and both answers.
//
//   EDGEGATE_DIFF_REQUESTS=5000 EDGEGATE_DIFF_SEED=1234 node --test tests/e2e/clerk-differential.test.mjs
//
// Defaults: 300 requests; under CI (`CI=true`) a fixed seed, so a run that lands is one that
// can be repeated; elsewhere a fresh seed each run (printed, and in every failure), so local runs
// keep exploring new combinations while any finding stays reproducible.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, sign } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  APP_ORIGIN,
  ROOT,
  baseSettings,
  generateKeys,
  logCollector,
  mintToken,
  nowSeconds,
  startOrigin,
  startWorker,
} from "./helpers.mjs";
import { b64url } from "../../scripts/lib/jwt.mjs";

const COUNT = Number(process.env.EDGEGATE_DIFF_REQUESTS || 300);
const CI_SEED = 20261207;
const SEED = process.env.EDGEGATE_DIFF_SEED
  ? Number(process.env.EDGEGATE_DIFF_SEED) >>> 0
  : process.env.CI === "true"
    ? CI_SEED
    : (Date.now() ^ (process.pid << 16)) >>> 0;
const DIFFERENCES_DOC = join(ROOT, "docs", "clerk-differences.md");

// ---------------------------------------------------------------------------------------------
// Clerk, with its network refused. @clerk/backend binds `fetch` once when it loads
// (`fetch.bind(globalThis)`), so the refusing stub must be in place while the module is imported;
// it is also put back on globalThis while Clerk runs, for code that reads `fetch` at call time.
// The worker's own traffic (Miniflare, loopback) uses the real fetch.

const realFetch = globalThis.fetch;
const clerkFetches = [];
function refusingFetch(input) {
  clerkFetches.push(String(input?.url ?? input));
  return Promise.reject(new TypeError("clerk-differential: @clerk/backend may not use the network"));
}
globalThis.fetch = refusingFetch;
const { createClerkClient } = await import("@clerk/backend");
globalThis.fetch = realFetch;

// ---------------------------------------------------------------------------------------------
// A seeded PRNG (mulberry32): the same seed gives the same requests (keys and clock aside).

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function makeRng(seed) {
  const next = mulberry32(seed);
  const rng = {
    chance: (p) => next() < p,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    hex: (n) => Array.from({ length: n }, () => "0123456789abcdef"[Math.floor(next() * 16)]).join(""),
    /** One of `[value, weight]` pairs. */
    weighted(pairs) {
      const total = pairs.reduce((s, [, w]) => s + w, 0);
      let x = next() * total;
      for (const [v, w] of pairs) if ((x -= w) < 0) return v;
      return pairs[pairs.length - 1][0];
    },
  };
  return rng;
}

// ---------------------------------------------------------------------------------------------
// The instances: the same Frontend API host as docs/browser-sessions.md's examples use.

const FAPI_HOST = "clerk.edgegate.test";
const ISSUER = `https://${FAPI_HOST}`;
const INSTANCES = {
  production: { publishableKey: `pk_live_${Buffer.from(`${FAPI_HOST}$`).toString("base64")}`, secretKey: "sk_live_differential0000000000000000" },
  development: { publishableKey: `pk_test_${Buffer.from(`${FAPI_HOST}$`).toString("base64")}`, secretKey: "sk_test_differential0000000000000000" },
};
/** Clerk's cookie suffix: the first 8 characters of base64url(SHA-1(publishable key)). */
const suffixOf = (pk) => createHash("sha1").update(pk).digest("base64url").slice(0, 8);
for (const inst of Object.values(INSTANCES)) inst.suffix = suffixOf(inst.publishableKey);

const key = generateKeys("RS256");
const otherKey = generateKeys("RS256");
const ecKey = generateKeys("ES256");

// ---------------------------------------------------------------------------------------------
// Tokens. Each shape is one way a token can be (mis)made; `ctx` gives the time and the claims.

/** Signs arbitrary segment text (for encodings mintToken never produces). */
function signSegments(headerSeg, payloadSeg, privatePem = key.privatePem) {
  const sig = sign("sha256", Buffer.from(`${headerSeg}.${payloadSeg}`), privatePem);
  return `${headerSeg}.${payloadSeg}.${b64url(sig)}`;
}

/** The last signature character with its unused low bits set: the same bytes, non-canonical text. */
function withTrailingBits(token) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const last = alphabet.indexOf(token.at(-1));
  return token.slice(0, -1) + alphabet[last | 1];
}

const mint = (claims, header = {}, keys = key) => mintToken({ privatePem: keys.privatePem, alg: keys.alg, claims, header });
const without = (obj, ...names) => Object.fromEntries(Object.entries(obj).filter(([k]) => !names.includes(k)));

/** [name, weight, (claims, ctx) => token]. `claims` is a fresh valid session's. */
const SHAPES = [
  ["valid", 30, (c) => mint(c)],
  ["expired", 8, (c, { now }) => mint({ ...c, iat: now - 200, nbf: now - 210, exp: now - 140 })],
  ["nbf-future", 4, (c, { now }) => mint({ ...c, iat: now, nbf: now + 120, exp: now + 180 })],
  ["iat-future", 4, (c, { now }) => mint({ ...c, iat: now + 120, nbf: now - 10, exp: now + 180 })],
  ["wrong-key", 4, (c) => mint(c, {}, otherKey)],
  ["malformed", 3, () => "not-a-jwt"],
  ["two-segments", 1, (c) => mint(c).split(".").slice(0, 2).join(".")],
  ["wrong-azp", 3, (c) => mint({ ...c, azp: "https://evil.edgegate.test" })],
  ["azp-trailing-slash", 1, (c) => mint({ ...c, azp: `${APP_ORIGIN}/` })],
  ["missing-azp", 3, (c) => mint(without(c, "azp"))],
  ["cat-session", 2, (c) => mint(c, { cat: "cl_B7d4PD111AAA" })],
  ["cat-ignore", 1, (c) => mint(c, { cat: "cl_I7d4PD111III" })],
  ["cat-template", 4, (c) => mint(c, { cat: "cl_B7d4PD222AAA" })],
  ["cat-machine", 2, (c) => mint(c, { cat: "cl_B7d4PD333AAA" })],
  ["cat-unknown", 1, (c) => mint(c, { cat: "cl_Z9z9ZZ999ZZZ" })],
  ["m2m-subject", 3, (c) => mint({ ...without(c, "sid", "sts", "v"), sub: `mch_${c.sub.slice(5)}` })],
  ["oauth-typ", 3, (c) => mint({ ...without(c, "sid", "sts"), client_id: "oauth_client" }, { typ: "at+jwt" })],
  ["typ-lowercase", 1, (c) => mint(c, { typ: "jwt" })],
  ["alg-hs256", 1, (c) => mint(c, { alg: "HS256" })],
  ["alg-none", 1, (c) => `${b64url(JSON.stringify({ alg: "none", typ: "JWT" }))}.${b64url(JSON.stringify(c))}.`],
  // Clerk verifies RS256/384/512 only (and reads a jwtKey as RSA): an ES256 token is one both
  // refuse, edgegate being configured with the RSA key only.
  ["es256", 2, (c) => mint(c, {}, ecKey)],
  ["pending", 3, (c) => mint({ ...c, sts: "pending" })],
  ["no-sid", 3, (c) => mint(without(c, "sid"))],
  ["client-id-no-sid", 1, (c) => mint({ ...without(c, "sid"), client_id: "client_abc" })],
  ["jti-m2m", 2, (c) => mint({ ...c, jti: "mt_0123456789abcdef" })],
  ["duplicate-sub", 2, (c) => {
    const payload = JSON.stringify(c).replace(/^\{/, '{"sub":"user_shadowed",');
    return signSegments(b64url(JSON.stringify({ alg: "RS256", typ: "JWT" })), b64url(payload));
  }],
  // Refused by both when judged; Clerk's suffix choice cannot read it either (it decodes the
  // signature segment too).
  ["sig-trailing-bits", 2, (c) => withTrailingBits(mint(c))],
  ["sig-padded", 1, (c) => `${mint(c)}==`],
  ["exp-fraction", 2, (c) => mint({ ...c, exp: c.exp + 0.5 })],
  ["exp-string", 1, (c) => mint({ ...c, exp: String(c.exp) })],
  ["sub-missing", 1, (c) => mint(without(c, "sub"))],
  ["sub-empty", 1, (c) => mint({ ...c, sub: "" })],
  ["oversized", 1, (c) => mint({ ...c, pad: "x".repeat(7000) })],
  ["opaque-m2m", 1, () => "mt_0123456789abcdef0123456789abcdef"],
  ["opaque-oauth", 1, () => "oat_0123456789abcdef0123456789abcdef"],
  ["opaque-api-key", 1, () => "ak_0123456789abcdef0123456789abcdef"],
  ["issuer-other", 2, (c) => mint({ ...c, iss: "https://clerk.other.test" })],
  ["issuer-missing", 1, (c) => mint(without(c, "iss"))],
];
const SHAPE_MINT = new Map(SHAPES.map(([name, , make]) => [name, make]));

/** A fresh, valid session's claims, sometimes with an organisation (v2 `o`, or v1's claims). */
function sessionFor(rng, now, who) {
  const iat = now - rng.int(2, 40);
  const claims = { azp: APP_ORIGIN, exp: iat + 60, iat, nbf: iat - 10, iss: ISSUER, sid: `sess_${who}`, sts: "active", sub: `user_${who}`, v: 2 };
  const org = rng.weighted([["none", 6], ["v2", 3], ["v1", 1]]);
  if (org === "v2") claims.o = { id: `org_${who}`, slg: "acme", rol: "admin" };
  if (org === "v1") return { ...without(claims, "v"), org_id: `org_v1${who}`, org_role: "org:admin", org_slug: "acme" };
  return claims;
}

// ---------------------------------------------------------------------------------------------
// The request generator. `req.dims` names what was drawn (printed on failure); `req.tokens` maps
// each token text in the request to its shape (what the difference rules look at).

const CARRIERS = [
  ["none", 10], // no token at all
  ["cookie", 40], // a session cookie (suffixed or not)
  ["bearer", 15], // Authorization: Bearer <token>
  ["bearer-lowercase", 6], // Authorization: bearer <token>
  ["bearer-uppercase", 2], // Authorization: BEARER <token>
  ["bearer-two-spaces", 5], // Authorization: Bearer  <token>
  ["bearer-empty", 5], // Authorization: Bearer, the token in a cookie
  ["bare", 4], // Authorization: <token>
  ["basic", 4], // Authorization: Basic ..., the token in a cookie
];
const HEADER_FORM = {
  bearer: (t) => `Bearer ${t}`,
  "bearer-lowercase": (t) => `bearer ${t}`,
  "bearer-uppercase": (t) => `BEARER ${t}`,
  "bearer-two-spaces": (t) => `Bearer  ${t}`,
  bare: (t) => t,
};

/** A `__client_uat` value relative to the session's `iat` (Clerk's comparison), or undefined. */
function clientUat(rng, iat, now) {
  const kind = rng.weighted([
    ["before", 40], ["equal", 5], ["after", 15], ["zero", 8], ["minus-one", 5],
    ["garbage", 4], ["leading-digits", 4], ["future", 4], ["absent", 15],
  ]);
  const value = {
    before: () => String(iat - rng.int(1, 100)),
    equal: () => String(iat),
    after: () => String(iat + rng.int(1, 100)),
    zero: () => "0",
    "minus-one": () => "-1",
    garbage: () => "abc",
    "leading-digits": () => `${iat - 10}xyz`,
    future: () => String(now + 300),
    absent: () => undefined,
  }[kind]();
  return { kind, value };
}

function generate(rng, seq, now) {
  const instance = rng.chance(0.5) ? "production" : "development";
  const sfx = INSTANCES[instance].suffix;
  const dims = { instance };
  const tokens = new Map();
  const headers = {};
  const cookies = [];

  const main = sessionFor(rng, now, rng.hex(10));
  dims.shape = rng.weighted(SHAPES.map(([name, w]) => [name, w]));
  const token = SHAPE_MINT.get(dims.shape)(main, { now });
  dims.carrier = rng.weighted(CARRIERS);
  if (dims.carrier !== "none") tokens.set(token, dims.shape);

  // Where the token sits; header carriers sometimes come with another session in the cookie.
  let cookieToken = null;
  if (HEADER_FORM[dims.carrier]) headers.authorization = HEADER_FORM[dims.carrier](token);
  if (dims.carrier === "bearer-empty") headers.authorization = "Bearer";
  if (dims.carrier === "basic") headers.authorization = "Basic dXNlcjpwYXNz";
  if (["cookie", "bearer-empty", "basic"].includes(dims.carrier)) cookieToken = token;
  if (!cookieToken && rng.chance(dims.carrier === "none" ? 0.2 : 0.4)) {
    cookieToken = mint(sessionFor(rng, now, `cookie${rng.hex(6)}`));
    tokens.set(cookieToken, "valid");
    dims.cookieSession = "valid";
  }

  // The session cookie: plain or suffixed; the other slot sometimes holds another session.
  dims.slot = rng.chance(0.55) ? "plain" : "suffixed";
  const name = (base, slot) => (slot === "plain" ? base : `${base}_${sfx}`);
  const otherSlot = dims.slot === "plain" ? "suffixed" : "plain";
  if (cookieToken) cookies.push([name("__session", dims.slot), cookieToken]);
  if (rng.chance(0.25)) {
    const other = sessionFor(rng, now, `other${rng.hex(6)}`);
    if (rng.chance(0.5)) other.iat = other.nbf = now - 50;
    const t = mint(other);
    tokens.set(t, "valid");
    cookies.push([name("__session", otherSlot), t]);
    dims.otherSlot = "session";
  }
  const iat = typeof main.iat === "number" ? main.iat : now - 30;
  const uat = clientUat(rng, iat, now);
  dims.clientUat = uat.kind;
  if (uat.value !== undefined) cookies.push([name("__client_uat", dims.slot), uat.value]);
  if (rng.chance(0.25)) {
    const extra = clientUat(rng, iat, now);
    dims.otherClientUat = extra.kind;
    if (extra.value !== undefined) cookies.push([name("__client_uat", otherSlot), extra.value]);
  }

  // The dev-browser token: usually there on development, rarely on production.
  if (rng.chance(instance === "development" ? 0.75 : 0.1)) {
    dims.devBrowser = rng.chance(0.6) ? dims.slot : otherSlot;
    cookies.push([name("__clerk_db_jwt", dims.devBrowser), `dvb_${rng.hex(16)}`]);
  }
  if (rng.chance(0.3)) {
    dims.redirectCount = String(rng.weighted([[0, 1], [1, 2], [2, 2], [3, 3], [4, 2], [5, 1], [9, 1]]));
    cookies.push(["__clerk_redirect_count", dims.redirectCount]);
  }

  // Navigation: method, Sec-Fetch-Dest, Accept.
  const method = rng.weighted([["GET", 75], ["POST", 15], ["HEAD", 10]]);
  dims.dest = rng.weighted([["document", 35], ["iframe", 5], ["empty", 25], ["absent", 35]]);
  if (dims.dest !== "absent") headers["sec-fetch-dest"] = dims.dest;
  dims.accept = rng.weighted([["html", 40], ["json", 30], ["absent", 30]]);
  if (dims.accept === "html") headers.accept = "text/html,application/xhtml+xml";
  if (dims.accept === "json") headers.accept = "application/json";

  // Clerk's query parameters.
  const query = new URLSearchParams();
  dims.query = rng.weighted([["none", 60], ["other", 15], ["dev-browser", 10], ["legacy-dev-session", 5], ["handshake-garbage", 5], ["handshake-token", 5]]);
  if (dims.query === "other") query.set("x", "1");
  if (dims.query === "dev-browser") query.set("__clerk_db_jwt", `dvb_${rng.hex(16)}`);
  if (dims.query === "legacy-dev-session") query.set("__dev_session", "legacy");
  if (dims.query === "handshake-garbage") query.set("__clerk_handshake", "garbage");
  if (dims.query === "handshake-token") query.set("__clerk_handshake", handshakeToken(rng, now, tokens));

  if (cookies.length) headers.cookie = cookies.map(([n, v]) => `${n}=${v}`).join("; ");
  const search = query.toString();
  return { seq, instance, method, path: `/app/${seq}${search ? `?${search}` : ""}`, headers, tokens, dims };
}

/** A genuine handshake token, as the Frontend API would send back: a fresh session and uat. */
function handshakeToken(rng, now, tokens) {
  const session = mint(sessionFor(rng, now, `handshake${rng.hex(6)}`));
  tokens.set(session, "valid");
  return mint({ iat: now, handshake: [`__session=${session}; Path=/`, `__client_uat=${now}; Path=/`] });
}

// ---------------------------------------------------------------------------------------------
// Reasons that differ in name only, in one table: each side's code → one shared name.

const SAME_REASON = [
  // Clerk appends why its refresh-token flow did not run (edgegate has no such flow).
  { side: "clerk", match: /^session-token-expired-refresh-.+$/, as: "session-token-expired" },
  // edgegate names a header token's failure by the token check; Clerk uses its session-token
  // reasons for both carriers.
  { side: "edgegate", match: /^token-expired$/, as: "session-token-expired" },
  { side: "edgegate", match: /^token-not-active-yet$/, as: "session-token-nbf" },
  { side: "edgegate", match: /^token-iat-in-the-future$/, as: "session-token-iat-in-the-future" },
  // Clerk's name for claims of the wrong type (`exp` a string, `sub` missing); edgegate's is
  // token-invalid, as for every malformed token.
  { side: "clerk", match: /^token-verification-failed$/, as: "token-invalid" },
];
/** Clerk's loop guard keeps the handshake's reason and logs the loop; edgegate says redirect-loop. */
const CLERK_LOOP_LOG = /infinite redirect loop/;

function sameReason(side, reason) {
  const row = SAME_REASON.find((r) => r.side === side && r.match.test(reason ?? ""));
  return row ? row.as : reason;
}

// ---------------------------------------------------------------------------------------------
// Judges: each side's answer, as {kind: "signed-in", userId, sessionId, orgId} |
// {kind: "signed-out", reason} | {kind: "handshake", reason, ...parameters} | {kind: "error"}.

let clients, workers, origin;
const workerLogs = logCollector();

/** The headers fetch() sends when the test sets none: Clerk must see the same. */
function sentHeaders(req) {
  return { accept: "*/*", ...req.headers };
}

/** The handshake's parameters that both build (not Clerk's `format=nonce`, docs/browser-sessions.md). */
function handshakeAnswer(reason, location, setCookies) {
  const url = new URL(location);
  const p = url.searchParams;
  const back = new URL(p.get("redirect_url"));
  back.searchParams.delete("__edgegate_hs_state"); // edgegate's login-CSRF state
  const count = setCookies.map((c) => /^__clerk_redirect_count=([^;]*)/.exec(c)?.[1]).find((v) => v !== undefined);
  return {
    kind: "handshake",
    reason,
    path: url.pathname,
    redirectUrl: back.href,
    apiVersion: p.get("__clerk_api_version"),
    suffixedCookies: p.get("suffixed_cookies"),
    session: p.get("__session"),
    devBrowser: p.get("__clerk_db_jwt"),
    redirectCount: count ?? null,
  };
}

async function judgeClerk(req) {
  const logs = [];
  const saved = { fetch: globalThis.fetch, log: console.log, warn: console.warn, error: console.error, info: console.info };
  const capture = (...args) => logs.push(args.map(String).join(" "));
  Object.assign(console, { log: capture, warn: capture, error: capture, info: capture });
  globalThis.fetch = refusingFetch;
  let state;
  try {
    const request = new Request(workers[req.instance].url + req.path, { method: req.method, headers: sentHeaders(req) });
    state = await clients[req.instance].authenticateRequest(request, { authorizedParties: [APP_ORIGIN] });
  } catch (e) {
    return { kind: "error", message: String(e?.message ?? e).slice(0, 120) };
  } finally {
    Object.assign(console, { log: saved.log, warn: saved.warn, error: saved.error, info: saved.info });
    globalThis.fetch = saved.fetch;
  }
  return clerkAnswer(state, logs);
}

function clerkAnswer(state, logs) {
  if (state.status === "handshake") {
    return handshakeAnswer(sameReason("clerk", state.reason), state.headers.get("location"), state.headers.getSetCookie());
  }
  if (state.status === "signed-in") {
    // toAuth() treats a pending session as signed out (edgegate's default, PENDING_SESSIONS).
    const auth = state.toAuth();
    if (!auth.isAuthenticated) return { kind: "signed-out", reason: auth.sessionStatus === "pending" ? "session-pending" : "not-authenticated" };
    return { kind: "signed-in", userId: auth.userId, sessionId: auth.sessionId ?? null, orgId: auth.orgId ?? null };
  }
  const reason = sameReason("clerk", state.reason);
  if (logs.some((l) => CLERK_LOOP_LOG.test(l))) return { kind: "signed-out", reason: "redirect-loop", loopOf: reason };
  return { kind: "signed-out", reason };
}

async function judgeEdge(req) {
  const res = await workers[req.instance].fetch(req.path, { method: req.method, headers: req.headers });
  await res.arrayBuffer();
  return edgeAnswer(res);
}

/** The worker's log line for a request (it may arrive after the response, so looked up late). */
const workerLog = (req) => workerLogs.lines.find((l) => l.includes(`"path":"/app/${req.seq}"`)) ?? null;

function edgeAnswer(res) {
  const status = res.headers.get("x-edgegate-auth-status");
  const location = res.headers.get("location");
  if (res.status === 307 && location && new URL(location).pathname === "/v1/client/handshake") {
    const reason = sameReason("edgegate", new URL(location).searchParams.get("__clerk_hs_reason"));
    return handshakeAnswer(reason, location, res.headers.getSetCookie());
  }
  if (status === "signed-in" && res.headers.get("x-seen-status") === "signed-in") {
    const seen = (n) => res.headers.get(`x-seen-${n}`) || null;
    return { kind: "signed-in", userId: seen("user-id"), sessionId: seen("session-id"), orgId: seen("org-id") };
  }
  if (status === "signed-out" && res.status === 401) {
    return { kind: "signed-out", reason: sameReason("edgegate", res.headers.get("x-edgegate-auth-reason")) };
  }
  return { kind: "other", status: res.status, authStatus: status };
}

/** The answers' compared fields (the edge's log line is for the failure report only). */
const answerKey = ({ message, loopOf, ...rest }) => JSON.stringify(rest);
const sameAnswer = (a, b) => answerKey(a) === answerKey(b);

// ---------------------------------------------------------------------------------------------
// Known differences: the ids listed in docs/clerk-differences.md, and the rules that attribute a
// disagreement to one of them. A rule either explains the disagreement outright (`true`) or
// rewrites the request as edgegate reads it and asks Clerk again (a residual that must then
// agree, or be explained in turn).

function documentedIds() {
  const text = readFileSync(DIFFERENCES_DOC, "utf8");
  return new Set([...text.matchAll(/^\|\s*`([a-z0-9-]+)`\s*\|/gm)].map((m) => m[1]));
}

/** The request with its headers edited. */
function withHeaders(req, edit) {
  const headers = { ...req.headers };
  edit(headers);
  return { ...req, headers };
}

/** The request with its query edited. */
function withQuery(req, edit) {
  const url = new URL(req.path, "http://edgegate.invalid");
  edit(url.searchParams);
  return { ...req, path: url.pathname + url.search };
}

/** The first value of a cookie (Clerk's parser and edgegate's agree on these simple headers). */
function cookieValue(req, name) {
  for (const pair of (req.headers.cookie ?? "").split(";")) {
    const at = pair.indexOf("=");
    if (pair.slice(0, at).trim() === name) return pair.slice(at + 1).trim();
  }
  return undefined;
}

/** The name and value of a session cookie (suffixed or not) holding a token of these shapes. */
function sessionCookieWith(req, shapes) {
  for (const pair of (req.headers.cookie ?? "").split("; ")) {
    const [name, value] = [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)];
    if (/^__session(_|$)/.test(name) && shapes.includes(req.tokens.get(value))) return { name, value };
  }
  return undefined;
}

/** A stand-in no JWT decoder reads (not base64url): what a token edgegate cannot peek at is to it. */
const UNREADABLE = "!.!.!";

/** The request with one cookie's value replaced. */
const withCookie = (req, name, value) =>
  withHeaders(req, (h) => {
    h.cookie = h.cookie.split("; ").map((pair) => (pair.startsWith(`${name}=`) ? `${name}=${value}` : pair)).join("; ");
  });

/** A residual: the rewritten request, Clerk asked again, edgegate's answer kept. */
const askClerk = async (ctx, req) => ({ req, clerk: await judgeClerk(req), edge: ctx.edge });

/** A page load that could start a handshake (Clerk's isRequestEligibleForHandshake). */
function isPageLoad(req) {
  const dest = req.headers["sec-fetch-dest"];
  return req.method === "GET" && (dest === "document" || dest === "iframe" || (!dest && /^text\/html/.test(sentHeaders(req).accept)));
}

/** An Authorization value edgegate takes a token from (session.rs's bearer_token). */
function edgegateHeaderToken(value = "") {
  const v = value.trim();
  const [scheme, ...rest] = v.split(/[ \t]+/);
  if (rest.length === 0) return v !== "" && v.toLowerCase() !== "bearer";
  return scheme.toLowerCase() === "bearer";
}

const hasShape = (req, shapes) => [...req.tokens.values()].some((s) => shapes.includes(s));

/** edgegate's reasons for a token refused at or before its signature (docs/verification.md). */
const UNVERIFIED = ["token-invalid", "token-invalid-algorithm", "token-invalid-signature", "token-unknown-kid", "token-forbidden-header", "token-too-large", "token-needs-backend-api"];
const IAT_BEFORE_UAT = "session-token-iat-before-client-uat";
/** Clerk's cookie reasons decided before any token is read: no token check can explain them. */
const BEFORE_ANY_TOKEN = ["dev-browser-missing", "dev-browser-sync", "session-token-and-uat-missing", "session-token-but-no-client-uat", "client-uat-but-no-session-token"];
const clerkReadToken = (clerk) => !BEFORE_ANY_TOKEN.includes(clerk.loopOf ?? clerk.reason);

/**
 * Stricter token checks: edgegate refuses a token of these shapes with this reason, whatever
 * Clerk made of the token (signed in, or a cookie rule Clerk applies to the token's unverified
 * claims first), but not when Clerk decided before reading any token.
 * Where the strictness also applies to edgegate's peek at the session cookies (Clerk's rules for
 * choosing suffixed or unsuffixed cookies read the unverified claims: `peeks`), such a token is
 * unreadable there, so the other set may be judged; explained when edgegate answers as Clerk
 * does with an unreadable token in its place (up to the token's own reason, when judged).
 * (Non-canonical trailing bits are not here: Clerk's decoder refuses them too.)
 */
const STRICTER = [
  { id: "sid-required", shapes: ["no-sid", "client-id-no-sid"], reason: "token-type-mismatch" },
  { id: "machine-token-id", shapes: ["jti-m2m"], reason: "token-type-mismatch" },
  { id: "opaque-machine-token", shapes: ["opaque-m2m", "opaque-oauth", "opaque-api-key"], reason: "token-needs-backend-api" },
  { id: "duplicate-json-member", shapes: ["duplicate-sub"], reason: "token-invalid", peeks: true },
  { id: "strict-base64url", shapes: ["sig-padded"], reason: "token-invalid" },
  { id: "integer-time-claims", shapes: ["exp-fraction"], reason: "token-invalid" },
  { id: "non-empty-sub", shapes: ["sub-empty"], reason: "token-invalid" },
  { id: "token-size-limit", shapes: ["oversized"], reason: "token-too-large", peeks: true },
];

const RULES = [
  {
    // (a) RFC 9110: the scheme is case-insensitive. edgegate takes the token; Clerk reads only
    // `Bearer` and falls back to the cookies. Explained when edgegate answers as Clerk answers
    // the same request with `Bearer`.
    id: "bearer-scheme-case",
    when: (req) => /^bearer [^ ]/i.test(req.headers.authorization ?? "") && !req.headers.authorization.startsWith("Bearer "),
    explain: (ctx) => askClerk(ctx, withHeaders(ctx.req, (h) => (h.authorization = `Bearer ${h.authorization.slice(7)}`))),
  },
  {
    // (b) `Bearer  <token>`: Clerk splits on the first space and takes `Bearer` as the token.
    id: "bearer-double-space",
    when: (req) => /^Bearer {2,}[^ ]/.test(req.headers.authorization ?? ""),
    explain: (ctx) => askClerk(ctx, withHeaders(ctx.req, (h) => (h.authorization = `Bearer ${h.authorization.slice(7).trimStart()}`))),
  },
  {
    // (c) `Authorization: Bearer` alone: Clerk takes the whole value as the token and refuses;
    // edgegate sees no token there and reads the cookies, as Clerk does without the header.
    id: "bearer-empty",
    when: (req) => /^bearer$/i.test(req.headers.authorization ?? ""),
    explain: (ctx) => askClerk(ctx, withHeaders(ctx.req, (h) => delete h.authorization)),
  },
  {
    // A `__clerk_handshake` edgegate did not start (no matching state): a page load without a
    // header token is signed out with handshake-state-mismatch; anything else goes on as if the
    // parameter were absent (as Clerk, asked again without it, answers).
    id: "handshake-state",
    when: (req) => new URL(req.path, "http://edgegate.invalid").searchParams.has("__clerk_handshake"),
    explain(ctx) {
      if (isPageLoad(ctx.req) && !edgegateHeaderToken(ctx.req.headers.authorization)) {
        return ctx.edge.kind === "signed-out" && ctx.edge.reason === "handshake-state-mismatch";
      }
      return askClerk(ctx, withQuery(ctx.req, (q) => q.delete("__clerk_handshake")));
    },
  },
  {
    // (d) Clerk's loop guard is `=== 3`: at 4 or more it starts another handshake. edgegate's
    // is `>= 3`: it answers as Clerk does at 3.
    id: "redirect-count-above-3",
    when: (req) => Number(cookieValue(req, "__clerk_redirect_count")) > 3,
    explain: (ctx) => ctx.clerk.kind === "handshake" && askClerk(ctx, withCookie(ctx.req, "__clerk_redirect_count", "3")),
  },
  {
    // A header token is never handshaken by edgegate; Clerk handshakes an expired (or not yet
    // valid) one on a page load. edgegate answers as Clerk does when it cannot redirect (POST).
    id: "bearer-never-handshaken",
    when: (req) => req.method === "GET" && /^Bearer [^ ]|^[^ ]+$/.test(req.headers.authorization ?? ""),
    explain: (ctx) =>
      (ctx.clerk.kind === "handshake" || ctx.clerk.reason === "redirect-loop") &&
      askClerk(ctx, { ...ctx.req, method: "POST" }),
  },
  {
    // Clerk compares the cookie token's unverified `iat` with __client_uat before it checks the
    // signature; edgegate reads no claim of a token that failed at or before its signature.
    id: "unverified-token-first",
    when: (req) => req.tokens.size > 0,
    explain: ({ clerk, edge }) =>
      (clerk.reason === IAT_BEFORE_UAT || clerk.loopOf === IAT_BEFORE_UAT) && edge.kind === "signed-out" && UNVERIFIED.includes(edge.reason),
  },
  ...STRICTER.map(({ id, shapes, reason, peeks }) => ({
    id,
    when: (req) => hasShape(req, shapes),
    explain(ctx) {
      if (ctx.edge.kind === "signed-out" && ctx.edge.reason === reason && clerkReadToken(ctx.clerk)) return true;
      const peeked = peeks && sessionCookieWith(ctx.req, shapes);
      if (!peeked) return false;
      const req = withCookie(ctx.req, peeked.name, UNREADABLE);
      req.tokens = new Map(ctx.req.tokens).set(UNREADABLE, ctx.req.tokens.get(peeked.value));
      // A handshake echoes the session cookie it was sent: the stand-in is this rule's, the
      // token edgegate echoes is the one the client sent.
      return askClerk(ctx, req).then((residual) =>
        residual.clerk.session === UNREADABLE ? { ...residual, clerk: { ...residual.clerk, session: peeked.value } } : residual,
      );
    },
  })),
];

/**
 * The ids that explain a disagreement, in the order applied (usually one), or null. `unexplained`
 * collects the disagreements no rule explained, rewritten ones with the rules that rewrote them
 * (`via`): the failure report shows the most rewritten, which often names the real cause better
 * than the original request.
 */
async function attribute(ctx, unexplained = [], depth = 0) {
  if (sameAnswer(ctx.clerk, ctx.edge)) return [];
  if (depth > 3) return null;
  for (const rule of RULES) {
    if (!rule.when(ctx.req)) continue;
    const out = await rule.explain(ctx);
    if (out === true) return [rule.id];
    if (out && typeof out === "object") {
      out.via = [...(ctx.via ?? []), rule.id];
      const rest = await attribute(out, unexplained, depth + 1);
      if (rest) return [rule.id, ...rest];
    }
  }
  unexplained.push(ctx);
  return null;
}

// ---------------------------------------------------------------------------------------------
// Reporting.

/** The request with each token replaced by its shape, so a failure reads in one screen. */
function readable(req) {
  const hide = (s) => {
    let out = s;
    for (const [t, shape] of req.tokens) out = out.split(t).join(`<${shape}>`);
    return out;
  };
  const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, hide(v)]));
  return { instance: req.instance, method: req.method, path: hide(req.path), headers, dims: req.dims };
}

/** An answer for the report: long token parameters cut. */
function brief(answer) {
  const { message, ...rest } = answer;
  if (rest.kind === "handshake") {
    for (const k of ["session", "devBrowser"]) if (rest[k]) rest[k] = `${rest[k].slice(0, 12)}…`;
  }
  return message ? { ...rest, message } : rest;
}

/** A disagreement's kind, for grouping: both answers' kind and reason. */
const signature = (clerk, edge) => `clerk ${clerk.kind} ${clerk.reason ?? ""} / edgegate ${edge.kind} ${edge.reason ?? ""}`;

/** Adds an unexplained disagreement to its group (counted, two examples kept). */
function recordUnexplained(groups, { req, clerk, edge, ids, residuals }) {
  // The most rewritten residual names the cause best (see attribute).
  const deepest = residuals.reduce((a, b) => ((b.via?.length ?? 0) > (a.via?.length ?? 0) ? b : a), { req, clerk, edge });
  const sig = ids
    ? `attributed to ${ids.join(" + ")}, not in docs/clerk-differences.md: ${signature(clerk, edge)}`
    : `${signature(deepest.clerk, deepest.edge)}${deepest.via ? ` (after ${deepest.via.join(" + ")})` : ""}`;
  const group = groups.get(sig) ?? { count: 0, examples: [] };
  group.count++;
  if (group.examples.length < 2) {
    const example = { request: readable(req), clerk: brief(clerk), edgegate: brief(edge), edgegateLog: workerLog(req) };
    if (deepest.via) Object.assign(example, { rewritten: readable(deepest.req), clerkOnRewritten: brief(deepest.clerk) });
    group.examples.push(example);
  }
  groups.set(sig, group);
}

// ---------------------------------------------------------------------------------------------

before(async () => {
  origin = await startOrigin({
    // The identity the origin received, echoed in response headers (HEAD responses have no body).
    respond: ({ headers }) => ({
      status: 200,
      headers: {
        "x-seen-status": headers["x-auth-status"] ?? "",
        "x-seen-user-id": headers["x-auth-user-id"] ?? "",
        "x-seen-session-id": headers["x-auth-session-id"] ?? "",
        "x-seen-org-id": headers["x-auth-org-id"] ?? "",
      },
    }),
  });
  const start = (inst) =>
    startWorker({
      bindings: baseSettings({ publicPem: key.publicPem, originUrl: origin.url, PUBLISHABLE_KEY: inst.publishableKey }),
      options: workerLogs.options,
    });
  workers = {};
  for (const name of Object.keys(INSTANCES)) workers[name] = await start(INSTANCES[name]);
  clients = Object.fromEntries(
    Object.entries(INSTANCES).map(([name, inst]) => [
      name,
      // Telemetry off: authenticateRequest records no event, and the notice would only be noise.
      createClerkClient({ secretKey: inst.secretKey, publishableKey: inst.publishableKey, jwtKey: key.publicPem, telemetry: { disabled: true } }),
    ]),
  );
});

after(async () => {
  for (const w of Object.values(workers ?? {})) await w.dispose();
  await origin?.close();
});

test("clerk_and_edgegate_agree_on_generated_requests_but_for_listed_differences", async (t) => {
  const listed = documentedIds();
  const rng = makeRng(SEED);
  const byId = new Map();
  const unexplained = new Map();
  let agreed = 0;

  for (let seq = 0; seq < COUNT; seq++) {
    const req = generate(rng, seq, nowSeconds());
    const clerk = await judgeClerk(req);
    const edge = await judgeEdge(req);
    if (sameAnswer(clerk, edge)) {
      agreed++;
      continue;
    }
    const residuals = [];
    const ids = await attribute({ req, clerk, edge }, residuals);
    const unlisted = ids?.filter((id) => !listed.has(id)) ?? [];
    if (ids && unlisted.length === 0) {
      for (const id of ids) byId.set(id, (byId.get(id) ?? 0) + 1);
      continue;
    }
    recordUnexplained(unexplained, { req, clerk, edge, ids, residuals });
  }

  t.diagnostic(`seed ${SEED}: ${COUNT} requests, ${agreed} agreed, ${COUNT - agreed} disagreed`);
  for (const [id, n] of [...byId].sort()) t.diagnostic(`  ${id}: ${n}`);
  for (const id of listed) if (!byId.has(id)) t.diagnostic(`  ${id}: not seen in this run`);

  const problems = [];
  const ruleIds = new Set(RULES.map((r) => r.id));
  const stale = [...listed].filter((id) => !ruleIds.has(id));
  if (stale.length) problems.push(`docs/clerk-differences.md lists ${stale.join(", ")}, which no rule in RULES attributes`);
  if (clerkFetches.length) problems.push(`@clerk/backend called fetch ${clerkFetches.length} times: ${[...new Set(clerkFetches)].join(", ")}`);
  const groups = [...unexplained].sort((a, b) => b[1].count - a[1].count);
  for (const [sig, { count, examples }] of groups) {
    problems.push(`${count} × ${sig}\n${examples.map((e) => JSON.stringify(e, null, 2)).join("\n")}`);
  }
  const total = groups.reduce((s, [, g]) => s + g.count, 0);
  assert.equal(
    problems.length,
    0,
    `seed ${SEED} (EDGEGATE_DIFF_SEED=${SEED} EDGEGATE_DIFF_REQUESTS=${COUNT}): ${total} unexplained disagreements\n\n${problems.join("\n\n")}`,
  );
});
