// Issue 2: the first end-to-end checks, against the built worker in workerd with a real origin.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { APP_ORIGIN, WWW_DIR, bearer, generateKeys, mintToken, nowSeconds, sessionClaims, useGateway } from "./helpers.mjs";

describe("gateway with an RS256 key", () => {
  const key = generateKeys("RS256");
  const otherKey = generateKeys("RS256");
  const { origin, worker } = useGateway({ key });

  const claims = (overrides = {}) => sessionClaims({ azp: APP_ORIGIN, ...overrides });

  test("valid_rs256_bearer_token_reaches_origin_with_identity", async () => {
    const before = origin.count;
    const sub = "user_2valid0000000000000000000";
    const token = mintToken({ privatePem: key.privatePem, claims: claims({ sub }) });
    const res = await worker.fetch("/hello?x=1", { headers: bearer(token) });
    const body = await res.text();
    assert.equal(res.status, 200, body);
    assert.equal(origin.count, before + 1, "the origin saw exactly one request");
    const seen = origin.last();
    assert.equal(seen.method, "GET");
    assert.equal(seen.url, "/hello?x=1");
    assert.equal(seen.headers["x-auth-user-id"], sub);
    assert.deepEqual(JSON.parse(body), { origin: true, method: "GET", path: "/hello" });
  });

  test("no_token_is_401_and_never_reaches_origin", async () => {
    const before = origin.count;
    const res = await worker.fetch("/hello", { headers: { accept: "application/json" } });
    await res.arrayBuffer();
    assert.equal(res.status, 401);
    assert.equal(origin.count, before);
  });

  test("expired_token_is_401_and_never_reaches_origin", async () => {
    const before = origin.count;
    const now = nowSeconds();
    const token = mintToken({
      privatePem: key.privatePem,
      claims: claims({ iat: now - 600, nbf: now - 600, exp: now - 300 }),
    });
    const res = await worker.fetch("/hello", { headers: bearer(token) });
    await res.arrayBuffer();
    assert.equal(res.status, 401);
    assert.equal(origin.count, before);
  });

  test("token_signed_by_another_key_is_401_and_never_reaches_origin", async () => {
    const before = origin.count;
    const token = mintToken({ privatePem: otherKey.privatePem, claims: claims() });
    const res = await worker.fetch("/hello", { headers: bearer(token) });
    await res.arrayBuffer();
    assert.equal(res.status, 401);
    assert.equal(origin.count, before);
  });

  test("www_index_is_served_at_edgegate_root", async () => {
    const before = origin.count;
    const res = await worker.fetch("/__edgegate/");
    const body = await res.text();
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
    assert.equal(body, readFileSync(join(WWW_DIR, "index.html"), "utf8"));
    assert.equal(origin.count, before, "www pages never reach the origin");
  });

  test("health_answers_200_json", async () => {
    const before = origin.count;
    const res = await worker.fetch("/__edgegate/health");
    const text = await res.text();
    assert.equal(res.status, 200, text);
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
    const json = JSON.parse(text);
    assert.equal(json.valid, true);
    assert.equal(origin.count, before);
  });
});

describe("gateway with an ES256 key", () => {
  const key = generateKeys("ES256");
  const { origin, worker } = useGateway({ key });

  test("valid_es256_bearer_token_reaches_origin_with_identity", async () => {
    const sub = "user_2es2560000000000000000000";
    const token = mintToken({
      privatePem: key.privatePem,
      alg: "ES256",
      claims: sessionClaims({ azp: APP_ORIGIN, sub }),
    });
    const res = await worker.fetch("/api/items", { headers: bearer(token) });
    await res.arrayBuffer();
    assert.equal(res.status, 200);
    assert.equal(origin.count, 1);
    assert.equal(origin.last().headers["x-auth-user-id"], sub);
  });
});
