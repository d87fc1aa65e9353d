// verifyAssertion on WHATWG Requests and plain objects: the identity mapping, every refusal code,
// the replay cache and the option checks.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import {
  AssertionError,
  ERROR_CODES,
  MemoryReplayCache,
  defaultReplayCache,
  pathAndQuery,
  verifyAssertion,
} from "../index.js";
import { OTHER_SECRET, SECRET, assertionClaims, baseIdentity, mint, nowSeconds } from "./helpers.mjs";

const AUD = "http://127.0.0.1:8788";
const opts = (extra = {}) => ({ audience: AUD, replayCache: new MemoryReplayCache(), ...extra });
const request = (path, token, { method = "GET", headers = {} } = {}) =>
  new Request(`${AUD}${path}`, {
    method,
    headers: token === undefined ? headers : { ...headers, "x-edgegate-assertion": token },
  });

async function refused(promise, code) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof AssertionError, `expected an AssertionError, got ${e}`);
    assert.equal(e.code, code, e.message);
    assert.equal(e.status, 401);
    assert.ok(ERROR_CODES.includes(e.code));
    return true;
  });
}

describe("accepted assertions", () => {
  test("a genuine assertion maps to the identity", async () => {
    const c = assertionClaims({ audience: AUD, htu: "/api/things?x=1&y=%20z" });
    const id = await verifyAssertion(request("/api/things?x=1&y=%20z", mint(c)), SECRET, opts());
    assert.deepEqual({ ...id, orgPermissions: [...id.orgPermissions] }, { ...baseIdentity, requestId: c.jti });
    assert.ok(Object.isFrozen(id));
  });

  test("the optional claims map when present", async () => {
    const c = assertionClaims({
      audience: AUD,
      method: "POST",
      htu: "/x",
      org_permissions: ["org:billing:manage", "org:sys_memberships:read"],
      fva: [3, -1],
      fea: "o:dashboard,u:beta",
      pla: "u:free",
      auth_status: "grace",
    });
    const id = await verifyAssertion(request("/x", mint(c), { method: "POST" }), SECRET, opts());
    assert.deepEqual([...id.orgPermissions], ["org:billing:manage", "org:sys_memberships:read"]);
    assert.deepEqual([...id.factorVerificationAge], [3, -1]);
    assert.equal(id.features, "o:dashboard,u:beta");
    assert.equal(id.plan, "u:free");
    assert.equal(id.grace, true);
  });

  test("grace: true marks outage grace", async () => {
    const c = assertionClaims({ audience: AUD, grace: true });
    const id = await verifyAssertion(request("/", mint(c)), SECRET, opts());
    assert.equal(id.grace, true);
  });

  test("a signed-out assertion gives signedIn false and null fields", async () => {
    const c = assertionClaims({ audience: AUD, htu: "/public/page", session: false, auth_status: "signed-out" });
    const id = await verifyAssertion(request("/public/page", mint(c)), SECRET, opts());
    assert.deepEqual(
      { ...id, orgPermissions: [...id.orgPermissions] },
      {
        signedIn: false,
        tokenType: null,
        userId: null,
        machineId: null,
        clientId: null,
        scopes: [],
        sessionId: null,
        orgId: null,
        orgRole: null,
        orgSlug: null,
        orgPermissions: [],
        actor: null,
        factorVerificationAge: null,
        features: null,
        plan: null,
        grace: false,
        requestId: c.jti,
      },
    );
  });

  test("a plain object with method, url and headers.get works, with a relative url", async () => {
    const c = assertionClaims({ audience: AUD, method: "DELETE", htu: "/items/7?force=1" });
    const token = mint(c);
    const req = { method: "DELETE", url: "/items/7?force=1", headers: { get: (n) => (n === "x-edgegate-assertion" ? token : null) } };
    const id = await verifyAssertion(req, SECRET, opts());
    assert.equal(id.userId, "user_2abc");
  });

  test("the audience option is normalised to the origin (trailing slash, path prefix)", async () => {
    for (const audience of [`${AUD}/`, `${AUD}/base/path`]) {
      const c = assertionClaims({ audience: AUD });
      const id = await verifyAssertion(request("/", mint(c)), SECRET, opts({ audience }));
      assert.equal(id.signedIn, true);
    }
  });

  test("within the clock tolerance, a just-expired or slightly future assertion is accepted", async () => {
    const now = nowSeconds();
    const expired = assertionClaims({ audience: AUD, now: now - 62 }); // exp = now - 2
    await verifyAssertion(request("/", mint(expired)), SECRET, opts());
    const future = assertionClaims({ audience: AUD, now: now + 3 });
    await verifyAssertion(request("/", mint(future)), SECRET, opts());
  });

  test("verifying the same Request object twice is not a replay", async () => {
    const req = request("/", mint(assertionClaims({ audience: AUD })));
    const o = opts();
    const a = await verifyAssertion(req, SECRET, o);
    const b = await verifyAssertion(req, SECRET, o);
    assert.equal(a, b);
  });
});

describe("refusals", () => {
  const genuine = (extra = {}) => assertionClaims({ audience: AUD, htu: "/api/x?a=1", ...extra });
  const check = (token, code, { path = "/api/x?a=1", method = "GET", o = opts() } = {}) =>
    refused(verifyAssertion(request(path, token, { method }), SECRET, o), code);

  test("missing header", () => check(undefined, "assertion-missing"));
  test("empty header", () => check("", "assertion-missing"));
  test("garbled token", async () => {
    await check("not-a-jwt", "assertion-malformed");
    await check("a.b.c", "assertion-malformed");
    await check("e30.e30.e30.e30", "assertion-malformed");
    // Signed correctly, but the payload is not base64url JSON: refused after the signature check.
    const h = mint(genuine()).split(".")[0];
    for (const payload of ["!!!", Buffer.from("not json").toString("base64url"), Buffer.from("[1]").toString("base64url")]) {
      const sig = createHmac("sha256", SECRET).update(`${h}.${payload}`).digest("base64url");
      await check(`${h}.${payload}.${sig}`, "assertion-malformed");
    }
    // A garbled payload with the wrong signature is a signature failure (checked first).
    const t = mint(genuine());
    await check(`${t.split(".")[0]}.!!!.${t.split(".")[2]}`, "assertion-bad-signature");
  });
  test("two assertion headers (joined with a comma)", async () => {
    const t = mint(genuine());
    await check(`${t}, ${t}`, "assertion-malformed");
  });
  test("wrong secret", () => check(mint(genuine(), { secret: OTHER_SECRET }), "assertion-bad-signature"));
  test("tampered payload", async () => {
    const [h, , s] = mint(genuine()).split(".");
    const p = Buffer.from(JSON.stringify(genuine({ sub: "user_evil" }))).toString("base64url");
    await check(`${h}.${p}.${s}`, "assertion-bad-signature");
  });
  test("alg none", () => check(mint(genuine(), { header: { alg: "none", typ: "JWT" } }), "assertion-wrong-algorithm"));
  test("HS512 (even with the right secret)", () =>
    check(mint(genuine(), { header: { alg: "HS512", typ: "JWT" } }), "assertion-wrong-algorithm"));
  test("HS384", () => check(mint(genuine(), { header: { alg: "HS384", typ: "JWT" } }), "assertion-wrong-algorithm"));
  test("RS256 header", () => check(mint(genuine(), { header: { alg: "RS256", typ: "JWT" } }), "assertion-wrong-algorithm"));
  test("wrong typ", () => check(mint(genuine(), { header: { alg: "HS256", typ: "at+jwt" } }), "assertion-invalid"));
  test("unknown crit header", () =>
    check(mint(genuine(), { header: { alg: "HS256", typ: "JWT", crit: ["x"], x: 1 } }), "assertion-invalid"));
  test("expired", () => check(mint(genuine({ now: nowSeconds() - 70 })), "assertion-expired"));
  test("iat in the future beyond the tolerance", () => check(mint(genuine({ now: nowSeconds() + 30 })), "assertion-not-yet-valid"));
  test("nbf in the future", () => check(mint(genuine({ nbf: nowSeconds() + 30 })), "assertion-not-yet-valid"));
  test("a smaller clock tolerance is honoured", () =>
    check(mint(genuine({ now: nowSeconds() - 62 })), "assertion-expired", { o: opts({ clockToleranceSec: 0 }) }));
  test("wrong audience", async () => {
    await check(mint(genuine({ aud: "http://127.0.0.1:9999" })), "assertion-wrong-audience");
    await check(mint(genuine({ aud: "https://127.0.0.1:8788" })), "assertion-wrong-audience");
  });
  test("wrong issuer", () => check(mint(genuine({ iss: "clerk" })), "assertion-wrong-issuer"));
  test("method mismatch", async () => {
    await check(mint(genuine()), "assertion-method-mismatch", { method: "POST" });
    await check(mint(genuine({ htm: "get" })), "assertion-method-mismatch");
  });
  test("path mismatch", () => check(mint(genuine()), "assertion-path-mismatch", { path: "/api/y?a=1" }));
  test("query change is a path mismatch", async () => {
    await check(mint(genuine()), "assertion-path-mismatch", { path: "/api/x?a=2" });
    await check(mint(genuine()), "assertion-path-mismatch", { path: "/api/x" });
    await check(mint(genuine()), "assertion-path-mismatch", { path: "/api/x?a=1&b=2" });
    await check(mint(genuine({ htu: "/api/x" })), "assertion-path-mismatch", { path: "/api/x?" });
  });
  test("replayed assertion", async () => {
    const o = opts();
    const token = mint(genuine());
    await verifyAssertion(request("/api/x?a=1", token), SECRET, o);
    await check(token, "assertion-replayed", { o });
  });
  test("the default replay cache is shared by calls without replayCache", async () => {
    const token = mint(genuine());
    await verifyAssertion(request("/api/x?a=1", token), SECRET, { audience: AUD });
    await refused(verifyAssertion(request("/api/x?a=1", token), SECRET, { audience: AUD }), "assertion-replayed");
    assert.ok(defaultReplayCache.size >= 1);
  });
  test("replayCache: false accepts a replay within the lifetime", async () => {
    const token = mint(genuine());
    await verifyAssertion(request("/api/x?a=1", token), SECRET, opts({ replayCache: false }));
    await verifyAssertion(request("/api/x?a=1", token), SECRET, opts({ replayCache: false }));
  });
  test("a refused assertion does not use up its jti", async () => {
    const o = opts();
    const c = genuine();
    await check(mint(c), "assertion-path-mismatch", { path: "/other", o });
    await verifyAssertion(request("/api/x?a=1", mint(c)), SECRET, o);
  });
  test("missing required claims", async () => {
    for (const claim of ["iss", "aud", "iat", "exp", "jti", "htm", "htu"]) {
      const c = genuine();
      delete c[claim];
      await check(mint(c), "assertion-invalid");
    }
  });
  test("claims of the wrong type", async () => {
    const bad = [
      { sub: 42 },
      { org_permissions: "org:a" },
      { org_permissions: [1] },
      { fva: [1] },
      { fva: [1, 1.5] },
      { fea: ["a"] },
      { grace: "yes" },
      { auth_status: "maybe" },
      { auth_status: "signed-out" }, // with a sub
      { jti: 7 },
      { htu: 1 },
      { iat: "now" },
    ];
    for (const extra of bad) await check(mint(genuine(extra)), "assertion-invalid").catch((e) => assert.fail(`${JSON.stringify(extra)}: ${e.message}`));
    await check(mint(assertionClaims({ audience: AUD, htu: "/api/x?a=1", session: false, auth_status: "signed-in" })), "assertion-invalid");
  });
});

describe("options and helpers", () => {
  test("a short or missing secret is a TypeError, not an AssertionError", async () => {
    const req = request("/", "x");
    await assert.rejects(verifyAssertion(req, "short", opts()), TypeError);
    await assert.rejects(verifyAssertion(req, undefined, opts()), TypeError);
  });
  test("audience is required and must be http(s)", async () => {
    const req = request("/", "x");
    await assert.rejects(verifyAssertion(req, SECRET, {}), TypeError);
    await assert.rejects(verifyAssertion(req, SECRET, { audience: "ftp://x" }), TypeError);
    await assert.rejects(verifyAssertion(req, SECRET, { audience: "not a url" }), TypeError);
    await assert.rejects(verifyAssertion(req, SECRET, { audience: AUD, clockToleranceSec: -1 }), TypeError);
    await assert.rejects(verifyAssertion(req, SECRET, { audience: AUD, replayCache: {} }), TypeError);
  });
  test("a Uint8Array secret works", async () => {
    const c = assertionClaims({ audience: AUD });
    const id = await verifyAssertion(request("/", mint(c)), new TextEncoder().encode(SECRET), opts());
    assert.equal(id.userId, "user_2abc");
  });
  test("pathAndQuery keeps the request target as received", () => {
    assert.equal(pathAndQuery("http://h:1/a/b?x=1#frag"), "/a/b?x=1");
    assert.equal(pathAndQuery("https://h"), "/");
    assert.equal(pathAndQuery("https://h?x"), "/?x");
    assert.equal(pathAndQuery("/a%2Fb?q=%7B"), "/a%2Fb?q=%7B");
  });
  test("MemoryReplayCache is bounded and forgets expired entries", () => {
    let now = 1000;
    const cache = new MemoryReplayCache({ maxEntries: 3, now: () => now });
    assert.equal(cache.markUsed("a", 1060), true);
    assert.equal(cache.markUsed("a", 1060), false);
    cache.markUsed("b", 1060);
    cache.markUsed("c", 1060);
    cache.markUsed("d", 1060); // evicts "a", the oldest
    assert.equal(cache.size, 3);
    assert.equal(cache.markUsed("d", 1060), false);
    now = 1061;
    assert.equal(cache.markUsed("e", 1121), true);
    assert.equal(cache.size, 1);
    assert.equal(cache.markUsed("b", 1121), true);
  });
});

describe("machine-token assertions", () => {
  const machine = (extra) => assertionClaims({ audience: AUD, session: false, auth_status: "signed-in", ...extra });

  test("an M2M token maps to its machine, with no user", async () => {
    const c = machine({ token_type: "m2m_token", machine_id: "mch_2abc", scopes: ["mch_1", "mch_2"] });
    const id = await verifyAssertion(request("/", mint(c)), SECRET, opts());
    assert.equal(id.signedIn, true);
    assert.equal(id.tokenType, "m2m_token");
    assert.equal(id.userId, null);
    assert.equal(id.machineId, "mch_2abc");
    assert.deepEqual([...id.scopes], ["mch_1", "mch_2"]);
  });

  test("an OAuth token maps to its user and client", async () => {
    const c = machine({ token_type: "oauth_token", sub: "user_2abc", client_id: "client_1", scopes: ["read"] });
    const id = await verifyAssertion(request("/", mint(c)), SECRET, opts());
    assert.equal(id.tokenType, "oauth_token");
    assert.equal(id.userId, "user_2abc");
    assert.equal(id.clientId, "client_1");
    assert.deepEqual([...id.scopes], ["read"]);
  });

  test("inconsistent machine claims are refused", async () => {
    for (const extra of [
      { token_type: "m2m_token" },
      { token_type: "m2m_token", machine_id: "mch_1", sub: "user_1" },
      { token_type: "session_token", sub: "user_1", machine_id: "mch_1" },
      { token_type: "api_key", sub: "user_1" },
      { token_type: "m2m_token", machine_id: "mch_1", scopes: "a b" },
    ]) {
      await refused(verifyAssertion(request("/", mint(machine(extra))), SECRET, opts()), "assertion-invalid");
    }
  });
});
