// The Hono and Express middlewares over real HTTP on 127.0.0.1 (random ports): the example
// origins (examples/*.mjs) answer the identity as JSON; refusals are 401 JSON with the code.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { Hono } from "hono";
import { serve } from "@hono/node-server";
import express from "express";
import { startHonoOrigin } from "../examples/hono-origin.mjs";
import { startExpressOrigin } from "../examples/express-origin.mjs";
import { MemoryReplayCache } from "../index.js";
import { edgegate as honoEdgegate } from "../hono.js";
import { edgegate as expressEdgegate, requestView } from "../express.js";
import { OTHER_SECRET, SECRET, assertionClaims, baseIdentity, mint, nowSeconds, withAssertion } from "./helpers.mjs";

async function listen(server) {
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  return `http://127.0.0.1:${server.address().port}`;
}

for (const [name, start] of [
  ["hono", startHonoOrigin],
  ["express", startExpressOrigin],
]) {
  describe(`${name} middleware`, () => {
    let origin;
    before(async () => {
      origin = await start({ secret: SECRET });
    });
    after(() => origin?.close());

    const send = (path, token, init = {}) =>
      fetch(origin.url + path, token === undefined ? init : withAssertion(token, init));
    const claims = (extra = {}) => assertionClaims({ audience: origin.url, ...extra });
    async function refused(res, reason) {
      assert.equal(res.status, 401);
      assert.match(res.headers.get("content-type"), /^application\/json/);
      assert.equal(res.headers.get("cache-control"), "no-store");
      assert.deepEqual(await res.json(), { error: "unauthenticated", reason });
    }

    test("a genuine assertion is accepted and mapped to the identity", async () => {
      const c = claims({ method: "POST", htu: "/api/orders?page=2&q=a%20b", org_permissions: ["org:orders:read"], fva: [0, 5], fea: "o:dashboard", pla: "u:free", auth_status: "signed-in" });
      const res = await send("/api/orders?page=2&q=a%20b", mint(c), { method: "POST", body: "{}" });
      assert.equal(res.status, 200);
      const body = await res.json();
      assert.equal(body.method, "POST");
      assert.deepEqual(body.identity, {
        ...baseIdentity,
        orgPermissions: ["org:orders:read"],
        factorVerificationAge: [0, 5],
        features: "o:dashboard",
        plan: "u:free",
        requestId: c.jti,
      });
    });

    test("missing header", async () => refused(await send("/api/x"), "assertion-missing"));
    test("garbled token", async () => refused(await send("/api/x", "garbage.token"), "assertion-malformed"));
    test("wrong secret", async () =>
      refused(await send("/api/x", mint(claims({ htu: "/api/x" }), { secret: OTHER_SECRET })), "assertion-bad-signature"));
    test("alg none", async () =>
      refused(await send("/api/x", mint(claims({ htu: "/api/x" }), { header: { alg: "none", typ: "JWT" } })), "assertion-wrong-algorithm"));
    test("HS512", async () =>
      refused(await send("/api/x", mint(claims({ htu: "/api/x" }), { header: { alg: "HS512", typ: "JWT" } })), "assertion-wrong-algorithm"));
    test("expired", async () =>
      refused(await send("/api/x", mint(claims({ htu: "/api/x", now: nowSeconds() - 120 }))), "assertion-expired"));
    test("iat in the future beyond tolerance", async () =>
      refused(await send("/api/x", mint(claims({ htu: "/api/x", now: nowSeconds() + 60 }))), "assertion-not-yet-valid"));
    test("wrong aud", async () =>
      refused(await send("/api/x", mint(claims({ htu: "/api/x", aud: "http://127.0.0.1:1" }))), "assertion-wrong-audience"));
    test("wrong iss", async () =>
      refused(await send("/api/x", mint(claims({ htu: "/api/x", iss: "someone-else" }))), "assertion-wrong-issuer"));
    test("method mismatch", async () =>
      refused(await send("/api/x", mint(claims({ htu: "/api/x" })), { method: "DELETE" }), "assertion-method-mismatch"));
    test("path mismatch", async () =>
      refused(await send("/api/y", mint(claims({ htu: "/api/x" }))), "assertion-path-mismatch"));
    test("query change is a path mismatch", async () => {
      await refused(await send("/api/x?admin=1", mint(claims({ htu: "/api/x" }))), "assertion-path-mismatch");
      await refused(await send("/api/x?a=2", mint(claims({ htu: "/api/x?a=1" }))), "assertion-path-mismatch");
    });
    test("a replayed assertion", async () => {
      const token = mint(claims({ htu: "/api/once" }));
      assert.equal((await send("/api/once", token)).status, 200);
      await refused(await send("/api/once", token), "assertion-replayed");
    });
    test("signed out: refused on a protected route, allowed through on /public/*", async () => {
      await refused(await send("/api/x", mint(claims({ htu: "/api/x", session: false }))), "signed-out");
      const c = claims({ htu: "/public/page?ref=home", session: false, auth_status: "signed-out" });
      const res = await send("/public/page?ref=home", mint(c));
      assert.equal(res.status, 200);
      const { identity } = await res.json();
      assert.equal(identity.signedIn, false);
      assert.equal(identity.userId, null);
      assert.equal(identity.requestId, c.jti);
    });
    test("the signed-out allowance still needs a genuine assertion", async () => {
      await refused(await send("/public/page"), "assertion-missing");
      await refused(await send("/public/page", mint(claims({ htu: "/public/page", session: false }), { secret: OTHER_SECRET })), "assertion-bad-signature");
    });
    test("a signed-in request on /public/* gets its identity", async () => {
      const res = await send("/public/page", mint(claims({ htu: "/public/page" })));
      assert.equal(res.status, 200);
      assert.equal((await res.json()).identity.userId, "user_2abc");
    });
  });
}

describe("stacked middlewares and configuration", () => {
  test("hono: two edgegate() on one route verify once (no false replay)", async () => {
    const app = new Hono();
    const o = { secret: SECRET, audience: "http://placeholder.invalid", replayCache: new MemoryReplayCache() };
    let audience;
    const lenient = honoEdgegate({ ...o, audience: () => audience, allowSignedOut: true });
    const strict = honoEdgegate({ ...o, audience: () => audience });
    app.use("*", lenient);
    app.use("/private/*", strict);
    app.get("*", (c) => c.json(c.get("edgegate")));
    const server = await new Promise((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
    });
    try {
      audience = `http://127.0.0.1:${server.address().port}`;
      const ok = await fetch(`${audience}/private/a`, withAssertion(mint(assertionClaims({ audience, htu: "/private/a" }))));
      assert.equal(ok.status, 200);
      assert.equal((await ok.json()).userId, "user_2abc");
      const out = await fetch(`${audience}/private/a`, withAssertion(mint(assertionClaims({ audience, htu: "/private/a", session: false }))));
      assert.equal(out.status, 401);
      assert.equal((await out.json()).reason, "signed-out");
    } finally {
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test("express: two middlewares in a mounted router see the original URL and verify once", async () => {
    const app = express();
    const router = express.Router();
    const cache = new MemoryReplayCache();
    const server = createServer(app);
    const url = await listen(server);
    const o = { secret: SECRET, audience: url, replayCache: cache };
    router.use(expressEdgegate({ ...o, allowSignedOut: true }));
    router.get("/thing", expressEdgegate(o), (req, res) => res.json({ identity: req.edgegate, url: req.url, originalUrl: req.originalUrl }));
    app.use("/mounted", router);
    try {
      const res = await fetch(`${url}/mounted/thing?x=1`, withAssertion(mint(assertionClaims({ audience: url, htu: "/mounted/thing?x=1" }))));
      assert.equal(res.status, 200);
      const body = await res.json();
      assert.equal(body.url, "/thing?x=1");
      assert.equal(body.originalUrl, "/mounted/thing?x=1");
      assert.equal(body.identity.userId, "user_2abc");
    } finally {
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test("express middleware works on plain node:http too", async () => {
    const server = createServer();
    const url = await listen(server);
    const mw = expressEdgegate({ secret: SECRET, audience: url, replayCache: false });
    server.on("request", (req, res) => mw(req, res, () => res.end(JSON.stringify(req.edgegate))));
    try {
      const res = await fetch(`${url}/n?q=1`, withAssertion(mint(assertionClaims({ audience: url, htu: "/n?q=1" }))));
      assert.equal(res.status, 200);
      assert.equal((await res.json()).userId, "user_2abc");
      const bad = await fetch(`${url}/n?q=1`);
      assert.equal(bad.status, 401);
      assert.deepEqual(await bad.json(), { error: "unauthenticated", reason: "assertion-missing" });
    } finally {
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test("requestView joins repeated headers (so two assertions are refused, not one picked)", () => {
    const view = requestView({ method: "GET", url: "/a", headers: { "x-edgegate-assertion": ["a", "b"], host: "h" } });
    assert.equal(view.headers.get("X-Edgegate-Assertion"), "a, b");
    assert.equal(view.headers.get("missing"), null);
    assert.equal(view.url, "/a");
  });

  test("bad configuration fails when the middleware is created", () => {
    for (const make of [honoEdgegate, expressEdgegate]) {
      assert.throws(() => make({ secret: "short", audience: "http://127.0.0.1:1" }), TypeError);
      assert.throws(() => make({ secret: SECRET }), TypeError);
      assert.throws(() => make({ secret: SECRET, audience: "http://127.0.0.1:1", allowSignedOut: "yes" }), TypeError);
      assert.throws(() => make(), TypeError);
    }
    assert.throws(() => honoEdgegate({ secret: SECRET, audience: () => "x", clockToleranceSec: -5 }), TypeError);
  });
});
