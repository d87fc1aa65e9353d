// Issue 7 end to end: Clerk's handshake without any network call from the worker (a local
// Frontend API stub on loopback stands in for Clerk), and outage grace with the stub down.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { APP_ORIGIN, generateKeys, mintToken, nowSeconds, sessionClaims, useGateway } from "./helpers.mjs";

const PK_LIVE = `pk_live_${Buffer.from("clerk.edgegate.test$").toString("base64")}`;
const PK_TEST = `pk_test_${Buffer.from("clerk.edgegate.test$").toString("base64")}`;

/** A port with nothing listening: the Frontend API is "down". */
async function closedPort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

const pageLoad = (cookie) => ({
  headers: { cookie, "sec-fetch-dest": "document", accept: "text/html" },
});

/** `name=value` pairs from Set-Cookie headers (attributes dropped). */
function cookiePairs(res) {
  return res.headers.getSetCookie().map((c) => c.split(";")[0]);
}

describe("handshake round trip through a Frontend API stub", () => {
  const key = generateKeys("RS256");
  const { origin, worker, fapi } = useGateway({
    key,
    frontendApi: { sub: "user_handshake", extraCookies: ["evil=1; Path=/"] },
    settings: { PUBLISHABLE_KEY: PK_LIVE, SIGN_IN_URL: "https://accounts.edgegate.test/sign-in" },
  });

  test("expired_cookie_page_load_goes_to_the_stub_and_back_to_the_origin", async () => {
    const now = nowSeconds();
    const stale = mintToken({
      privatePem: key.privatePem,
      claims: sessionClaims({ azp: APP_ORIGIN, iat: now - 180, nbf: now - 180, exp: now - 120 }),
    });
    const originBefore = origin.count;

    // 1. The expired session on a page load: a 307 to the Frontend API handshake.
    const first = await worker.fetch("/dash?tab=2", pageLoad(`__session=${stale}; __client_uat=${now - 200}`));
    assert.equal(first.status, 307);
    assert.equal(first.headers.get("x-edgegate-auth-status"), "handshake");
    assert.equal(first.headers.get("cache-control"), "no-store");
    const hs = new URL(first.headers.get("location"));
    assert.equal(hs.origin, fapi.url);
    assert.equal(hs.pathname, "/v1/client/handshake");
    assert.equal(hs.searchParams.get("__clerk_hs_reason"), "session-token-expired");
    assert.equal(hs.searchParams.get("suffixed_cookies"), "false");
    assert.equal(hs.searchParams.get("format"), null, "never format=nonce");
    const redirectUrl = new URL(hs.searchParams.get("redirect_url"));
    assert.equal(redirectUrl.origin, worker.url);
    assert.equal(redirectUrl.pathname, "/dash");
    assert.equal(redirectUrl.searchParams.get("tab"), "2");
    const state = redirectUrl.searchParams.get("__edgegate_hs_state");
    assert.ok(state && state.length >= 32, "a random state travels in redirect_url");
    const setCookies = first.headers.getSetCookie();
    const stateCookie = setCookies.find((c) => c.startsWith("__edgegate_hs_state="));
    assert.ok(stateCookie, "state cookie set");
    assert.match(stateCookie, /HttpOnly/);
    assert.equal(stateCookie.split(";")[0], `__edgegate_hs_state=${state}`);
    assert.ok(setCookies.some((c) => c.startsWith("__clerk_redirect_count=1")));
    assert.equal(origin.count, originBefore, "nothing reached the origin");

    // 2. The stub mints a handshake token and sends the browser back.
    const stubRes = await fetch(hs, { redirect: "manual" });
    assert.equal(stubRes.status, 307);
    const back = new URL(stubRes.headers.get("location"));
    assert.ok(back.searchParams.get("__clerk_handshake"));

    // 3. The worker resolves it: Clerk's cookies set, foreign ones dropped, URL cleaned.
    const resolved = await worker.fetch(back.pathname + back.search, pageLoad(`__edgegate_hs_state=${state}`));
    assert.equal(resolved.status, 307);
    const clean = new URL(resolved.headers.get("location"));
    assert.equal(clean.pathname, "/dash");
    assert.equal(clean.searchParams.get("tab"), "2");
    assert.equal(clean.searchParams.get("__clerk_handshake"), null);
    assert.equal(clean.searchParams.get("__edgegate_hs_state"), null);
    const pairs = cookiePairs(resolved);
    const session = pairs.find((p) => p.startsWith("__session="));
    const uat = pairs.find((p) => p.startsWith("__client_uat="));
    assert.ok(session && uat, "fresh __session and __client_uat");
    assert.ok(!pairs.some((p) => p.startsWith("evil=")), "a foreign cookie is never planted");
    assert.ok(pairs.includes("__edgegate_hs_state="), "the state cookie is cleared");
    assert.equal(origin.count, originBefore);

    // 4. The next request carries the fresh session and reaches the origin.
    const final = await worker.fetch(clean.pathname + clean.search, pageLoad(`${session}; ${uat}`));
    assert.equal(final.status, 200, await final.clone().text());
    assert.equal(final.headers.get("x-edgegate-auth-status"), "signed-in");
    assert.equal(origin.last().headers["x-auth-user-id"], "user_handshake");
  });

  test("handshake_token_without_the_state_cookie_plants_nothing", async () => {
    const now = nowSeconds();
    const handshake = mintToken({
      privatePem: key.privatePem,
      claims: { iat: now, handshake: [`__session=planted; Path=/`] },
    });
    const res = await worker.fetch(
      `/dash?__clerk_handshake=${handshake}&__edgegate_hs_state=attacker`,
      pageLoad(""),
    );
    assert.notEqual(res.status, 200);
    const pairs = cookiePairs(res);
    assert.ok(!pairs.some((p) => p.startsWith("__session=planted")));
    assert.equal(res.headers.get("x-edgegate-auth-reason"), "handshake-state-mismatch");
  });

  test("api_calls_with_an_expired_cookie_get_401_not_a_handshake", async () => {
    const now = nowSeconds();
    const stale = mintToken({
      privatePem: key.privatePem,
      claims: sessionClaims({ azp: APP_ORIGIN, iat: now - 180, nbf: now - 180, exp: now - 120 }),
    });
    const res = await worker.fetch("/api/items", {
      headers: { cookie: `__session=${stale}; __client_uat=${now - 200}`, accept: "application/json" },
    });
    assert.equal(res.status, 401);
    assert.equal((await res.json()).reason, "session-token-expired");
  });

  test("signed_out_visitor_without_client_uat_is_never_handshaken", async () => {
    const res = await worker.fetch("/dash", pageLoad(""));
    assert.equal(res.status, 307);
    assert.ok(res.headers.get("location").startsWith("https://accounts.edgegate.test/sign-in?redirect_url="));
  });
});

describe("development instance", () => {
  const key = generateKeys("RS256");
  const { worker } = useGateway({ key, frontendApi: {}, settings: { PUBLISHABLE_KEY: PK_TEST } });

  test("dev_browser_token_is_passed_to_the_handshake", async () => {
    const now = nowSeconds();
    const stale = mintToken({
      privatePem: key.privatePem,
      claims: sessionClaims({ azp: APP_ORIGIN, iat: now - 180, nbf: now - 180, exp: now - 120 }),
    });
    const res = await worker.fetch(
      "/dash",
      pageLoad(`__session=${stale}; __client_uat=${now - 200}; __clerk_db_jwt=dvb_123`),
    );
    assert.equal(res.status, 307);
    const hs = new URL(res.headers.get("location"));
    assert.equal(hs.searchParams.get("__clerk_db_jwt"), "dvb_123");
  });
});

describe("outage grace", () => {
  const key = generateKeys("RS256");
  // The Frontend API is down: one closed port for both workers, picked once the origin is up.
  let down;
  const settings = (extra) => async () => ({
    PUBLISHABLE_KEY: PK_LIVE,
    FRONTEND_API_URL: (down ??= await closedPort()),
    SIGN_IN_URL: "https://accounts.edgegate.test/sign-in",
    ...extra,
  });
  const { origin, worker: graceOn } = useGateway({ key, settings: settings({ OUTAGE_GRACE_SECONDS: "600" }) });
  const { worker: graceOff } = useGateway({ key, origin, settings: settings({}) });

  const staleCookie = (worker, expAgo = 30) => {
    const now = nowSeconds();
    const token = mintToken({
      privatePem: key.privatePem,
      claims: sessionClaims({
        azp: APP_ORIGIN,
        iat: now - expAgo - 60,
        nbf: now - expAgo - 60,
        exp: now - expAgo,
      }),
    });
    return `__session=${token}; __client_uat=${now - expAgo - 90}`;
  };

  test("a_forged_expired_token_gets_no_grace_and_never_reaches_the_origin", async () => {
    // Expired like a grace candidate, but signed by another key: the run that assumes the
    // signature passed ends at the outage probe, which is never acted on as a guess.
    const other = generateKeys("RS256");
    const now = nowSeconds();
    const forged = mintToken({
      privatePem: other.privatePem,
      claims: sessionClaims({ azp: APP_ORIGIN, iat: now - 90, nbf: now - 90, exp: now - 30 }),
    });
    const before = origin.count;
    for (const round of [1, 2]) {
      const res = await graceOn.fetch("/dash", pageLoad(`__session=${forged}; __client_uat=${now - 120}`));
      await res.arrayBuffer();
      assert.notEqual(res.status, 200, `request ${round}`);
      assert.notEqual(res.headers.get("x-edgegate-auth-status"), "grace", `request ${round}`);
      assert.equal(res.headers.get("x-edgegate-auth-reason"), "token-invalid-signature", `request ${round}`);
    }
    assert.equal(origin.count, before);
  });

  test("frontend_api_down_and_grace_on_reaches_origin_with_grace_header", async () => {
    const before = origin.count;
    const res = await graceOn.fetch("/dash", pageLoad(staleCookie(graceOn)));
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(res.headers.get("x-edgegate-auth-status"), "grace");
    assert.equal(origin.count, before + 1);
    assert.equal(origin.last().headers["x-auth-grace"], "1");
    const health = await (await graceOn.fetch("/__edgegate/health")).json();
    assert.equal(health.frontend_api, "unreachable");
  });

  test("grace_never_outlives_exp_plus_grace", async () => {
    const res = await graceOn.fetch("/api/x", { headers: { cookie: staleCookie(graceOn, 3600) } });
    assert.equal(res.status, 401);
  });

  test("grace_off_decides_the_handshake_without_asking_the_frontend_api", async () => {
    // Networkless, as Clerk with jwtKey: with grace off there is no outage check, so an expired
    // cookie on a page load gets the handshake even while the Frontend API does not answer.
    const before = origin.count;
    const res = await graceOff.fetch("/dash", pageLoad(staleCookie(graceOff)));
    assert.equal(res.status, 307);
    assert.equal(new URL(res.headers.get("location")).pathname, "/v1/client/handshake");
    assert.equal(res.headers.get("x-edgegate-auth-status"), "handshake");
    assert.equal(origin.count, before);
  });
});
