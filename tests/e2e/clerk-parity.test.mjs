// Clerk parity end to end: networkless without grace (no request ever reaches the Frontend API),
// the handshake redirect as Clerk's handshake.ts builds it, and Clerk's token sources.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import {
  APP_ORIGIN,
  baseSettings,
  bearer,
  freePort,
  generateKeys,
  mintToken,
  nowSeconds,
  sessionClaims,
  startWorker,
  useGateway,
} from "./helpers.mjs";

const PK_LIVE = `pk_live_${Buffer.from("clerk.edgegate.test$").toString("base64")}`;
const key = generateKeys("RS256");
const token = (overrides = {}) =>
  mintToken({ privatePem: key.privatePem, claims: sessionClaims({ azp: APP_ORIGIN, ...overrides }) });
const pageLoad = (cookie) => ({ headers: { cookie, "sec-fetch-dest": "document", accept: "text/html" } });

/** A Frontend API stand-in that records every request and answers none of them usefully. */
async function countingFrontendApi() {
  const seen = [];
  const server = createServer((req, res) => {
    seen.push(req.url);
    res.writeHead(503);
    res.end();
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, seen, close: () => new Promise((r) => server.close(r)) };
}

describe("networkless without outage grace", () => {
  let fapi;
  before(async () => {
    fapi = await countingFrontendApi();
  });
  after(async () => {
    await fapi?.close();
  });
  const { worker } = useGateway({
    key,
    settings: () => ({ PUBLISHABLE_KEY: PK_LIVE, FRONTEND_API_URL: fapi.url, PUBLIC_ROUTES: "/public(.*)" }),
  });

  test("a_whole_run_of_browser_and_api_requests_sends_the_frontend_api_nothing", async () => {
    const now = nowSeconds();
    const expired = token({ iat: now - 180, nbf: now - 180, exp: now - 120 });
    const fresh = token({ iat: now, nbf: now - 5, sub: "user_fresh" });

    // A visitor with only __client_uat: the handshake, decided without any call.
    let res = await worker.fetch("/dash", pageLoad(`__client_uat=${now - 60}`));
    assert.equal(res.status, 307);
    assert.equal(new URL(res.headers.get("location")).pathname, "/v1/client/handshake");
    assert.equal(res.headers.get("x-edgegate-auth-status"), "handshake");
    // An expired session cookie: the handshake too (not sign-in), and the token travels along.
    res = await worker.fetch("/dash?x=1&__dev_session=legacy&__clerk_db_jwt=d", pageLoad(`__session=${expired}; __client_uat=${now - 200}`));
    assert.equal(res.status, 307);
    const hs = new URL(res.headers.get("location"));
    assert.equal(hs.searchParams.get("__clerk_api_version"), "2026-05-12");
    assert.equal(hs.searchParams.get("__session"), expired);
    assert.equal(hs.searchParams.get("__clerk_hs_reason"), "session-token-expired");
    const redirectUrl = new URL(hs.searchParams.get("redirect_url"));
    assert.equal(redirectUrl.searchParams.get("x"), "1");
    assert.equal(redirectUrl.searchParams.get("__dev_session"), null, "the legacy dev session is removed");
    assert.equal(redirectUrl.searchParams.get("__clerk_db_jwt"), null);
    // A signed-in browser, API calls, Bearer tokens, public pages.
    res = await worker.fetch("/dash", pageLoad(`__session=${fresh}; __client_uat=${now - 10}`));
    assert.equal(res.status, 200);
    res = await worker.fetch("/api/x", { headers: { cookie: `__session=${expired}; __client_uat=${now - 200}` } });
    assert.equal(res.status, 401);
    res = await worker.fetch("/api/x", { headers: bearer(fresh) });
    assert.equal(res.status, 200);
    res = await worker.fetch("/public/a");
    assert.equal(res.status, 200);
    assert.deepEqual(fapi.seen, [], "the Frontend API received nothing");
  });
});

describe("the handshake when the Frontend API does not answer, grace off", () => {
  const { worker } = useGateway({
    key,
    // A port with nothing listening, picked once the origin is up.
    settings: async () => ({
      PUBLISHABLE_KEY: PK_LIVE,
      FRONTEND_API_URL: `http://127.0.0.1:${await freePort()}`,
      SIGN_IN_URL: "https://accounts.edgegate.test/sign-in",
    }),
  });

  test("a_client_uat_only_visitor_gets_the_handshake_not_sign_in", async () => {
    const res = await worker.fetch("/dash", pageLoad(`__client_uat=${nowSeconds() - 60}`));
    assert.equal(res.status, 307);
    assert.equal(new URL(res.headers.get("location")).pathname, "/v1/client/handshake");
  });
});

describe("token sources as Clerk reads them", () => {
  const { origin, worker } = useGateway({ key });

  test("a_bare_authorization_token_is_the_token_and_basic_falls_through_to_the_cookie", async () => {
    let res = await worker.fetch("/api/x", { headers: { authorization: token({ sub: "user_bare" }) } });
    assert.equal(res.status, 200);
    assert.equal(origin.last().headers["x-auth-user-id"], "user_bare");
    res = await worker.fetch("/api/x", { headers: { authorization: "Basic dXNlcjpwYXNz", cookie: `__session=${token({ sub: "user_cookie" })}` } });
    assert.equal(res.status, 200);
    assert.equal(origin.last().headers["x-auth-user-id"], "user_cookie");
  });

  test("the_origin_gets_x_auth_status_and_when_signed_out_x_auth_reason", async () => {
    const pub = await startWorker({ bindings: baseSettings({ publicPem: key.publicPem, originUrl: origin.url, PUBLIC_ROUTES: "/blog(.*)" }) });
    try {
      await pub.fetch("/blog/a");
      assert.equal(origin.last().headers["x-auth-status"], "signed-out");
      assert.equal(origin.last().headers["x-auth-reason"], "token-missing");
      const now = nowSeconds();
      await pub.fetch("/blog/a", { headers: bearer(token({ iat: now - 300, nbf: now - 300, exp: now - 200 })) });
      assert.equal(origin.last().headers["x-auth-reason"], "token-expired");
      await pub.fetch("/blog/a", { headers: { ...bearer(token()), "x-auth-status": "grace", "x-auth-reason": "forged" } });
      assert.equal(origin.last().headers["x-auth-status"], "signed-in");
      assert.equal(origin.last().headers["x-auth-reason"], undefined);
    } finally {
      await pub.dispose();
    }
  });

  test("azp_is_compared_exactly", async () => {
    const res = await worker.fetch("/api/x", { headers: bearer(token({ azp: `${APP_ORIGIN}/` })) });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get("x-edgegate-auth-reason"), "token-invalid-authorized-parties");
  });
});

describe("Clerk's cookie rules where edgegate used to differ", () => {
  const PK_TEST = `pk_test_${Buffer.from("clerk.edgegate.test$").toString("base64")}`;
  const { origin, worker: dev } = useGateway({ key, settings: { PUBLISHABLE_KEY: PK_TEST } });
  const { worker: live } = useGateway({ key, origin, settings: { PUBLISHABLE_KEY: PK_LIVE } });

  test("a_development_instance_without_a_dev_browser_is_signed_out_or_handshaken_whatever_the_session", async () => {
    const now = nowSeconds();
    const cookie = `__session=${token({ iat: now - 5 })}; __client_uat=${now - 60}`;
    const page = await dev.fetch("/dash", pageLoad(cookie));
    assert.equal(page.status, 307);
    assert.equal(new URL(page.headers.get("location")).searchParams.get("__clerk_hs_reason"), "dev-browser-missing");
    const api = await dev.fetch("/api/x", { headers: { cookie } });
    assert.equal(api.status, 401);
    assert.equal(api.headers.get("x-edgegate-auth-reason"), "dev-browser-missing");
    // With the dev browser, the same session signs in; a visitor without cookies is handshaken.
    const ok = await dev.fetch("/api/x", { headers: { cookie: `${cookie}; __clerk_db_jwt=dvb_1` } });
    assert.equal(ok.status, 200);
    const anon = await dev.fetch("/dash", pageLoad(""));
    assert.equal(new URL(anon.headers.get("location")).searchParams.get("__clerk_hs_reason"), "dev-browser-missing");
  });

  test("a_jwt_template_older_than_client_uat_is_token_type_mismatch_not_a_handshake", async () => {
    const now = nowSeconds();
    const template = mintToken({
      privatePem: key.privatePem,
      claims: sessionClaims({ azp: APP_ORIGIN, iat: now - 30, nbf: now - 30 }),
      header: { cat: "cl_B7d4PD222AAA" },
    });
    const res = await live.fetch("/dash", pageLoad(`__session=${template}; __client_uat=${now - 5}`));
    assert.equal(res.status, 401);
    assert.equal(res.headers.get("x-edgegate-auth-reason"), "token-type-mismatch");
  });

  test("a_negative_client_uat_is_a_client_as_parse_int_reads_it", async () => {
    const res = await live.fetch("/dash", pageLoad(`__session=${token({ sub: "user_neg" })}; __client_uat=-1`));
    assert.equal(res.status, 200);
    assert.equal(origin.last().headers["x-auth-user-id"], "user_neg");
  });
});
