// The edge core end to end (src/pipeline/): thousands of slow requests on one isolate never
// turn into 500s, and any number of configured keys works. The built worker in workerd, a real
// origin on loopback.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { Agent } from "undici";
import {
  APP_ORIGIN,
  baseSettings,
  bearer,
  generateKeys,
  mintToken,
  sessionClaims,
  startOrigin,
  startWorker,
} from "./helpers.mjs";

describe("thousands of slow requests on one isolate", () => {
  const key = generateKeys("ES256");

  test("4400_concurrent_requests_to_a_6_second_origin_end_with_no_500", { timeout: 120_000 }, async () => {
    const { createServer } = await import("node:http");
    const server = createServer((req, res) => {
      setTimeout(() => {
        res.writeHead(200, { "content-type": "text/plain" });
        res.end("slow");
      }, 6000);
    });
    server.keepAliveTimeout = 1;
    await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
    const slowWorker = await startWorker({
      bindings: baseSettings({
        publicPem: key.publicPem,
        originUrl: `http://127.0.0.1:${server.address().port}`,
        PUBLIC_ROUTES: "/public(.*)",
      }),
    });
    const dispatcher = new Agent({ connections: 5000, headersTimeout: 90_000, bodyTimeout: 90_000 });
    try {
      const token = mintToken({ privatePem: key.privatePem, alg: "ES256", claims: sessionClaims({ azp: APP_ORIGIN, exp: Math.floor(Date.now() / 1000) + 600 }) });
      const statuses = new Map();
      const count = (s) => statuses.set(s, (statuses.get(s) ?? 0) + 1);
      const requests = [];
      for (let i = 0; i < 4400; i++) {
        const headers = i % 2 ? bearer(token) : {};
        requests.push(
          fetch(`${slowWorker.url}/public/${i}`, { headers, dispatcher, redirect: "manual" })
            .then(async (res) => {
              await res.arrayBuffer();
              count(res.status);
            })
            .catch(() => count("network-error")),
        );
      }
      await Promise.all(requests);
      const summary = Object.fromEntries(statuses);
      assert.equal(statuses.get(500) ?? 0, 0, `no 500s: ${JSON.stringify(summary)}`);
      for (const status of statuses.keys()) {
        assert.ok(status === 200 || status === 503, `only 200 (or a deliberate 503): ${JSON.stringify(summary)}`);
      }
      assert.ok((statuses.get(200) ?? 0) >= 4000, `nearly all proxied: ${JSON.stringify(summary)}`);
    } finally {
      await dispatcher.close();
      await slowWorker.dispose();
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("any number of configured keys", () => {
  for (const alg of ["RS256", "ES256"]) {
    test(`12_kid_less_${alg}_keys_each_verify_and_a_forged_token_is_401`, async () => {
      const keys = Array.from({ length: 12 }, () => generateKeys(alg));
      const origin = await startOrigin();
      const worker = await startWorker({
        bindings: baseSettings({ publicPem: keys.map((k) => k.publicPem).join("\n"), originUrl: origin.url }),
      });
      try {
        for (const [i, k] of keys.entries()) {
          const token = mintToken({ privatePem: k.privatePem, alg, header: { kid: undefined }, claims: sessionClaims({ azp: APP_ORIGIN, sub: `user_key_${i}` }) });
          const res = await worker.fetch("/api/x", { headers: bearer(token) });
          assert.equal(res.status, 200, `key ${i}`);
          assert.equal(origin.last().headers["x-auth-user-id"], `user_key_${i}`);
        }
        const stranger = generateKeys(alg);
        const forged = mintToken({ privatePem: stranger.privatePem, alg, header: { kid: undefined }, claims: sessionClaims({ azp: APP_ORIGIN }) });
        const before = origin.count;
        const res = await worker.fetch("/api/x", { headers: bearer(forged) });
        assert.equal(res.status, 401);
        assert.equal(res.headers.get("x-edgegate-auth-reason"), "token-invalid-signature");
        assert.equal(origin.count, before);
      } finally {
        await worker.dispose();
        await origin.close();
      }
    });
  }
});
