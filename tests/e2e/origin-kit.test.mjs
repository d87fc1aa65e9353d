// The origin kit (origin/, @edgegate/origin) end to end: the built worker in workerd proxies to a
// real Hono origin on loopback that verifies X-Edgegate-Assertion with the kit's middleware.
// Genuine traffic through the worker is accepted with the right identity; direct requests (no
// assertion, a forged one, a captured one replayed) are refused with the kit's codes.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { APP_ORIGIN, bearer, generateKeys, mintToken, nowSeconds, sessionClaims, useGateway } from "./helpers.mjs";
// Relative import: the kit's own dependencies (hono, @hono/node-server, jose) resolve from origin/.
import { startHonoOrigin } from "../../origin/examples/hono-origin.mjs";

const key = generateKeys("RS256");
const token = (overrides = {}) =>
  mintToken({ privatePem: key.privatePem, claims: sessionClaims({ azp: APP_ORIGIN, ...overrides }) });
const SECRET = "origin-kit-e2e-secret-at-least-32-characters";

describe("origin kit behind the worker", () => {
  const seen = []; // every Request the origin received, before verification
  const lastSeen = () => seen[seen.length - 1];
  const { origin, worker } = useGateway({
    key,
    settings: { PUBLIC_ROUTES: "/public(.*)", ORIGIN_ASSERTION_SECRET: SECRET },
    startOrigin: () =>
      startHonoOrigin({ secret: SECRET, tap: (req) => seen.push({ method: req.method, url: req.url, headers: new Headers(req.headers) }) }),
  });

  const direct = (path, init = {}) => fetch(origin.url + path, { redirect: "manual", ...init });
  async function refused(res, reason) {
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), { error: "unauthenticated", reason });
  }

  test("a genuine signed-in request through the worker is accepted with the right identity", async () => {
    const t = token({ sub: "user_kit", sid: "sess_kit", o: { id: "org_kit", rol: "admin", slg: "kit" } });
    const res = await worker.fetch("/api/me?tab=profile&x=%20y", { method: "POST", headers: bearer(t), body: "{}" });
    assert.equal(res.status, 200, await res.clone().text());
    const { identity, method } = await res.json();
    assert.equal(method, "POST");
    assert.equal(identity.signedIn, true);
    assert.equal(identity.userId, "user_kit");
    assert.equal(identity.sessionId, "sess_kit");
    assert.equal(identity.orgId, "org_kit");
    assert.equal(identity.orgRole, "org:admin");
    assert.equal(identity.orgSlug, "kit");
    assert.equal(identity.grace, false);
    assert.equal(identity.requestId, lastSeen().headers.get("x-request-id"));
    assert.ok(Array.isArray(identity.orgPermissions));
  });

  test("a public route through the worker with no token reaches the origin signed out", async () => {
    const res = await worker.fetch("/public/page?ref=home");
    assert.equal(res.status, 200, await res.clone().text());
    const { identity } = await res.json();
    assert.equal(identity.signedIn, false);
    assert.equal(identity.userId, null);
    assert.equal(identity.sessionId, null);
    assert.ok(lastSeen().headers.get("x-edgegate-assertion"), "the worker signs signed-out requests too");
  });

  test("a signed-in request on a public route carries its identity", async () => {
    const res = await worker.fetch("/public/page", { headers: bearer(token({ sub: "user_pub" })) });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).identity.userId, "user_pub");
  });

  test("a request sent directly to the origin is refused: assertion-missing", async () => {
    await refused(await direct("/api/me"), "assertion-missing");
    // Identity headers alone prove nothing.
    await refused(await direct("/api/me", { headers: { "x-auth-user-id": "user_kit" } }), "assertion-missing");
  });

  test("a direct request with a forged assertion (wrong secret) is refused", async () => {
    const b64 = (v) => Buffer.from(JSON.stringify(v)).toString("base64url");
    const now = nowSeconds();
    const input = `${b64({ alg: "HS256", typ: "JWT" })}.${b64({
      iss: "edgegate", aud: origin.url, iat: now, exp: now + 60, jti: "forged-1", htm: "GET", htu: "/api/me", sub: "user_evil",
    })}`;
    const forged = `${input}.${createHmac("sha256", "not-the-secret-but-also-32-characters-long").update(input).digest("base64url")}`;
    await refused(await direct("/api/me", { headers: { "x-edgegate-assertion": forged } }), "assertion-bad-signature");
    const none = `${b64({ alg: "none", typ: "JWT" })}.${input.split(".")[1]}.`;
    await refused(await direct("/api/me", { headers: { "x-edgegate-assertion": none } }), "assertion-wrong-algorithm");
  });

  test("an assertion captured from a genuine request and replayed directly is refused", async () => {
    const res = await worker.fetch("/api/orders?page=2", { headers: bearer(token({ sub: "user_victim" })) });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).identity.userId, "user_victim");
    const captured = lastSeen().headers.get("x-edgegate-assertion");
    assert.ok(captured);
    const h = { "x-edgegate-assertion": captured };
    await refused(await direct("/api/orders?page=2", { headers: h }), "assertion-replayed");
    await refused(await direct("/api/admin", { headers: h }), "assertion-path-mismatch");
    await refused(await direct("/api/orders?page=3", { headers: h }), "assertion-path-mismatch");
    await refused(await direct("/api/orders?page=2", { method: "DELETE", headers: h }), "assertion-method-mismatch");
  });
});

// The worker's `htu` is the request target the origin receives, so a strict origin accepts
// genuine traffic even where the worker rewrites the target (a query's unsafe characters
// percent-encoded, ORIGIN_URL's base path added).
describe("htu equals the forwarded request target (worker side)", () => {
  const { origin, worker } = useGateway({
    key,
    settings: { ORIGIN_ASSERTION_SECRET: SECRET },
    startOrigin: () => startHonoOrigin({ secret: SECRET }),
  });
  // The same origin under a base path.
  const { worker: prefixed } = useGateway({
    key,
    origin,
    settings: () => ({ ORIGIN_URL: `${origin.url}/base`, ORIGIN_ASSERTION_SECRET: SECRET }),
  });

  test(
    "a query with characters the worker percent-encodes ({ } | ^ `) is accepted",
    async () => {
      const res = await worker.fetch("/api/search?q={x}|^`", { headers: bearer(token()) });
      assert.equal(res.status, 200, await res.clone().text());
    },
  );

  test(
    "an ORIGIN_URL with a path prefix is accepted",
    async () => {
      const res = await prefixed.fetch("/api/me", { headers: bearer(token()) });
      assert.equal(res.status, 200, await res.clone().text());
      assert.match((await res.json()).url, /\/base\/api\/me$/);
    },
  );
});
