// JWKS refresh (JWKS_URL): the built worker in workerd under Miniflare with a real KV namespace,
// the `scheduled` event, and a JWKS server on loopback. A key that appears only in the JWKS is
// accepted after a refresh and refused before; a JWKS server that fails, hangs, returns junk or
// an empty set leaves the embedded key working; weak fetched keys are refused; the request path
// never fetches the JWKS.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { createPublicKey, generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  APP_ORIGIN,
  baseSettings,
  bearer,
  generateKeys,
  logCollector,
  mintToken,
  nowSeconds,
  sessionClaims,
  startOrigin,
  startWorker,
} from "./helpers.mjs";

const CRON = "*/15 * * * *";

function jwkOf(publicPem, kid) {
  return { ...createPublicKey(publicPem).export({ format: "jwk" }), kid, use: "sig" };
}

function rsaKeys({ bits = 2048, exponent = 0x10001 } = {}) {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", {
    modulusLength: bits,
    publicExponent: exponent,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  return { alg: "RS256", publicPem: publicKey, privatePem: privateKey };
}

/** A JWKS server whose answer `mode` the test sets; counts every request it gets. */
async function startJwksServer() {
  const state = { mode: "ok", body: '{"keys":[]}', hits: 0 };
  const server = createServer((req, res) => {
    state.hits++;
    switch (state.mode) {
      case "ok":
        res.writeHead(200, { "content-type": "application/json" });
        return res.end(state.body);
      case "fail":
        res.writeHead(503);
        return res.end("down");
      case "junk":
        res.writeHead(200, { "content-type": "text/html" });
        return res.end("<html>not json</html>");
      case "huge":
        res.writeHead(200, { "content-type": "application/json" });
        return res.end(JSON.stringify({ keys: [], pad: "x".repeat(200_000) }));
      case "hang":
        return; // never answers
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}/.well-known/jwks.json`;
  return {
    url,
    state,
    close: () => {
      server.closeAllConnections?.();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

const claims = () => sessionClaims({ azp: APP_ORIGIN }, nowSeconds());

describe("JWKS refresh through KV and the Cron Trigger", () => {
  const embedded = generateKeys("RS256");
  const rotated = generateKeys("ES256");
  let origin, jwks, kvDir, first, second;
  const settings = () => baseSettings({ publicPem: embedded.publicPem, originUrl: origin.url, JWKS_URL: jwks.url });
  const logs = logCollector();
  const kvOptions = () => ({ kvNamespaces: ["EDGEGATE_KEYS"], kvPersist: kvDir, ...logs.options });
  const embeddedToken = () => mintToken({ ...embedded, claims: claims(), header: { kid: undefined } });
  const rotatedToken = () => mintToken({ ...rotated, claims: claims(), header: { kid: "ins_rotated" } });
  const scheduled = async (worker) => (await worker.mf.getWorker()).scheduled({ cron: CRON });
  const kv = (worker) => worker.mf.getKVNamespace("EDGEGATE_KEYS");

  before(async () => {
    origin = await startOrigin();
    jwks = await startJwksServer();
    kvDir = mkdtempSync(join(tmpdir(), "edgegate-kv-"));
    jwks.state.body = JSON.stringify({ keys: [jwkOf(rotated.publicPem, "ins_rotated")] });
    first = await startWorker({ bindings: settings(), options: kvOptions() });
  });
  after(async () => {
    await first?.dispose();
    await second?.dispose();
    await jwks?.close();
    await origin?.close();
    rmSync(kvDir, { recursive: true, force: true });
  });

  test("a_key_only_in_the_jwks_is_refused_before_a_refresh_and_accepted_after", async () => {
    const before = await first.fetch("/api/x", { headers: bearer(rotatedToken()) });
    assert.equal(before.status, 401);
    assert.equal((await first.fetch("/api/x", { headers: bearer(embeddedToken()) })).status, 200);
    assert.equal(jwks.state.hits, 0, "the request path never fetches the JWKS");

    await scheduled(first);
    assert.equal(jwks.state.hits, 1);
    const stored = JSON.parse(await (await kv(first)).get("jwks"));
    assert.deepEqual(stored.keys.map((k) => k.kid), ["ins_rotated"]);
    assert.equal((await first.fetch("/api/x", { headers: bearer(rotatedToken()) })).status, 200);
    assert.equal((await first.fetch("/api/x", { headers: bearer(embeddedToken()) })).status, 200);

    const health = await (await first.fetch("/__edgegate/health")).json();
    const sources = Object.fromEntries(health.key_details.map((k) => [k.kid, k.source]));
    assert.equal(sources.ins_rotated, "fetched");
    assert.ok(health.key_details.some((k) => k.source === "embedded" && k.fingerprint.startsWith("sha256:")));
    assert.equal(health.jwks.last_refresh_result, "ok");
    assert.equal(health.jwks.kv_bound, true);
  });

  test("another_isolate_picks_the_stored_keys_up_in_the_background_without_fetching_clerk", async () => {
    const hits = jwks.state.hits;
    second = await startWorker({ bindings: settings(), options: kvOptions() });
    // The first request is decided with the embedded keys alone; it starts the KV read.
    const firstAnswer = await second.fetch("/api/x", { headers: bearer(rotatedToken()) });
    assert.equal(firstAnswer.status, 401);
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await second.fetch("/api/x", { headers: bearer(rotatedToken()) })).status;
    }
    assert.equal(status, 200, "the stored key was picked up");
    assert.equal(jwks.state.hits, hits, "isolates read KV, never the JWKS server");
  });

  for (const mode of ["fail", "junk", "huge", "empty", "hang"]) {
    test(`a_jwks_answer_that_is_${mode}_changes_nothing_and_the_embedded_key_keeps_working`, { timeout: 30_000 }, async () => {
      const storedBefore = await (await kv(first)).get("jwks");
      jwks.state.mode = mode === "empty" ? "ok" : mode;
      const good = jwks.state.body;
      if (mode === "empty") jwks.state.body = '{"keys":[]}';
      try {
        await scheduled(first);
      } finally {
        jwks.state.mode = "ok";
        jwks.state.body = good;
      }
      assert.equal(await (await kv(first)).get("jwks"), storedBefore, "the stored set is untouched");
      assert.equal((await first.fetch("/api/x", { headers: bearer(embeddedToken()) })).status, 200);
      assert.equal((await first.fetch("/api/x", { headers: bearer(rotatedToken()) })).status, 200);
      const status = JSON.parse(await (await kv(first)).get("jwks-status"));
      const expected = { fail: "status-503", junk: "malformed", huge: "too-large", empty: "no-usable-key", hang: "unreachable" }[mode];
      assert.equal(status.result, expected);
    });
  }

  test("fetched_keys_with_e_3_or_1024_bits_are_refused", { timeout: 30_000 }, async () => {
    const e3 = rsaKeys({ exponent: 3 });
    const small = rsaKeys({ bits: 1024 });
    const good = jwks.state.body;
    jwks.state.body = JSON.stringify({ keys: [jwkOf(e3.publicPem, "ins_e3"), jwkOf(small.publicPem, "ins_small")] });
    try {
      await scheduled(first);
    } finally {
      jwks.state.body = good;
    }
    const status = JSON.parse(await (await kv(first)).get("jwks-status"));
    assert.equal(status.result, "no-usable-key");
    // The refresh's log line names each refused key (docs/key-rotation.md).
    const failed = logs.events("jwks-refresh-failed").at(-1);
    assert.equal(failed?.result, "no-usable-key", logs.lines.join("\n"));
    assert.equal(failed.refused?.length, 2, JSON.stringify(failed));
    for (const [keys, kid] of [[e3, "ins_e3"], [small, "ins_small"]]) {
      const token = mintToken({ ...keys, claims: claims(), header: { kid } });
      assert.equal((await first.fetch("/api/x", { headers: bearer(token) })).status, 401, kid);
    }
    assert.equal((await first.fetch("/api/x", { headers: bearer(embeddedToken()) })).status, 200);
  });
});

describe("JWKS_URL without a KV binding", () => {
  test("works exactly as without JWKS_URL and never fetches", async () => {
    const embedded = generateKeys("RS256");
    const origin = await startOrigin();
    const jwks = await startJwksServer();
    const worker = await startWorker({ bindings: baseSettings({ publicPem: embedded.publicPem, originUrl: origin.url, JWKS_URL: jwks.url }) });
    try {
      const token = mintToken({ ...embedded, claims: claims(), header: { kid: undefined } });
      assert.equal((await worker.fetch("/api/x", { headers: bearer(token) })).status, 200);
      await (await worker.mf.getWorker()).scheduled({ cron: CRON });
      assert.equal(jwks.state.hits, 0);
      const health = await (await worker.fetch("/__edgegate/health")).json();
      assert.equal(health.jwks.kv_bound, false);
    } finally {
      await worker.dispose();
      await jwks.close();
      await origin.close();
    }
  });
});
