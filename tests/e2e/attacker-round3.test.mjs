// What an attacker found in round 3, end to end (the built worker in workerd, a recording
// origin on loopback): each test sends the attack as it was seen and checks that the origin
// never gets what it must not. SECURITY.md lists each defence with its test here.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { APP_ORIGIN, PAGE, bearer, generateKeys, mintToken, nowSeconds, sessionClaims, useGateway } from "./helpers.mjs";

const PK_LIVE = `pk_live_${Buffer.from("clerk.edgegate.test$").toString("base64")}`;
const key = generateKeys("RS256");
const otherKey = generateKeys("RS256");
const sign = (claims, privatePem = key.privatePem, header = {}) => mintToken({ privatePem, claims, header });
const session = (overrides = {}) => sign(sessionClaims({ azp: APP_ORIGIN, ...overrides }));

/** One worker trusting `key` with `settings` and one recording origin for a describe block. */
const gateway = (settings) => useGateway({ key, settings });

describe("1. the handshake loop counter never grants another organisation's page", () => {
  const gw = gateway({
    PUBLISHABLE_KEY: PK_LIVE,
    ORGANIZATION_PATTERNS: "/orgs/:slug, /orgs/:slug/(.*)",
    ROUTE_RULES: "/orgs/:slug/admin(.*)=role:admin",
  });
  const attacker = () => {
    const now = nowSeconds();
    return session({ iat: now, o: { id: "org_attacker", slg: "attackerco", rol: "admin" } });
  };
  const cookie = (count) => `__session=${attacker()}; __client_uat=${nowSeconds() - 60}; __clerk_redirect_count=${count}`;

  test("a_client_set_redirect_count_gets_a_403_page_not_the_victims_admin_page", async () => {
    const before = gw.origin.count;
    const first = await gw.worker.fetch("/orgs/victimco/admin/panel", { headers: { ...PAGE, cookie: cookie(0) } });
    assert.equal(first.status, 307, "below the guard: the activation handshake");
    for (const count of [3, 4, 99]) {
      const res = await gw.worker.fetch("/orgs/victimco/admin/panel", { headers: { ...PAGE, cookie: cookie(count) } });
      assert.equal(res.status, 403, `count ${count}`);
      assert.match(res.headers.get("content-type"), /^text\/html/);
      assert.equal(res.headers.get("x-edgegate-auth-reason"), "organization-mismatch");
      assert.match(await res.text(), /organization-mismatch/);
    }
    const api = await gw.worker.fetch("/orgs/victimco/admin/panel", { headers: { cookie: cookie(3), accept: "application/json" } });
    assert.equal(api.status, 403);
    assert.equal((await api.json()).reason, "organization-mismatch");
    assert.equal(gw.origin.count, before, "the origin never served victimco's page");
    // The session's own organisation still works.
    const own = await gw.worker.fetch("/orgs/attackerco/admin/panel", { headers: { ...PAGE, cookie: cookie(3) } });
    assert.equal(own.status, 200);
    assert.equal(gw.origin.last().headers["x-auth-org-slug"], "attackerco");
  });
});

describe("2. a CORS preflight never carries credentials to the origin", () => {
  const gw = gateway({ ROUTE_RULES: "/admin(.*)=role:admin" });
  const preflight = (extra) => ({
    method: "OPTIONS",
    headers: { origin: APP_ORIGIN, "access-control-request-method": "DELETE", ...extra },
  });

  test("authorization_and_token_cookies_are_stripped_from_an_unauthenticated_preflight", async () => {
    const forged = sign(sessionClaims({ azp: APP_ORIGIN }), otherKey.privatePem);
    const valid = session();
    const cases = [
      { authorization: `Bearer ${forged}` },
      { authorization: `Bearer ${valid}` },
      { cookie: `__session=${valid}; theme=dark; __clerk_db_jwt=dvb_1; __client_uat=5` },
      { authorization: `Bearer ${valid}`, cookie: `__session_abc=${valid}; __refresh_x=r` },
    ];
    for (const extra of cases) {
      const res = await gw.worker.fetch("/admin/users/1?__clerk_handshake=h&keep=1", preflight(extra));
      assert.ok(res.status < 500, `${res.status}`);
      const seen = gw.origin.last();
      assert.equal(seen.method, "OPTIONS");
      assert.equal(seen.headers.authorization, undefined, JSON.stringify(extra));
      const cookies = seen.headers.cookie ?? "";
      assert.doesNotMatch(cookies, /__session|__clerk_db_jwt|__refresh/, cookies);
      if (extra.cookie?.includes("theme")) assert.match(cookies, /theme=dark/);
      assert.equal(seen.url.includes("__clerk_handshake"), false, seen.url);
      assert.match(seen.url, /keep=1/);
      assert.equal(seen.headers["x-auth-status"], "signed-out");
    }
  });
});

describe("3. FORWARD_CLAIMS never forwards a machine token's claims", () => {
  const gw = gateway({
    ROUTE_RULES: "/api/mixed(.*)=token:session|m2m|oauth",
    FORWARD_CLAIMS: "email,org_id",
  });

  test("an_m2m_or_oauth_token_carries_only_the_machine_headers", async () => {
    const now = nowSeconds();
    const m2m = sign(
      {
        iss: "https://clerk.edgegate.test",
        sub: "mch_2vYVtestTESTtestTESTtestTESTtest",
        exp: now + 300,
        iat: now,
        nbf: now - 10,
        jti: "mt_2xKa9Bgv7NxMRDFyQw8LpZ3cTmU1vHjE",
        scopes: "mch_1xxxxx",
        email: "ceo@victim.example",
        org_id: "org_victim",
      },
      key.privatePem,
      { cat: "cl_B7d4PD333AAA" },
    );
    const res = await gw.worker.fetch("/api/mixed/x", { headers: bearer(m2m) });
    assert.equal(res.status, 200);
    const seen = gw.origin.last().headers;
    assert.equal(seen["x-auth-token-type"], "m2m_token");
    assert.equal(seen["x-auth-machine-id"], "mch_2vYVtestTESTtestTESTtestTESTtest");
    for (const name of Object.keys(seen)) {
      assert.ok(!name.startsWith("x-auth-claim-"), `${name}: ${seen[name]}`);
    }
    assert.equal(seen["x-auth-org-id"], undefined);
    // An OAuth access token's claims do not go either.
    const oauth = sign(
      {
        iss: "https://clerk.edgegate.test",
        sub: "user_2vYVtestTESTtestTESTtestTESTtest",
        client_id: "client_2VTWUzvGC5UhdJCNx6xG1D98edc",
        scope: "read:foo",
        jti: "oat_2xKa9Bgv7NxMRDFyQw8LpZ3cTmU1vHjE",
        exp: now + 300,
        iat: now,
        nbf: now - 10,
        email: "ceo@victim.example",
        org_id: "org_victim",
      },
      key.privatePem,
      { typ: "at+jwt" },
    );
    const viaOauth = await gw.worker.fetch("/api/mixed/x", { headers: bearer(oauth) });
    assert.equal(viaOauth.status, 200);
    const oauthSeen = gw.origin.last().headers;
    assert.equal(oauthSeen["x-auth-token-type"], "oauth_token");
    for (const name of Object.keys(oauthSeen)) {
      assert.ok(!name.startsWith("x-auth-claim-"), `${name}: ${oauthSeen[name]}`);
    }
    // A session's claims still go.
    const ok = await gw.worker.fetch("/api/mixed/x", { headers: bearer(session({ email: "ada@example.com" })) });
    assert.equal(ok.status, 200);
    assert.equal(gw.origin.last().headers["x-auth-claim-email"], "ada@example.com");
  });
});

describe("4. with TRUST_FORWARDED, a client-sent host decides nothing", () => {
  const gw = gateway({
    TRUST_FORWARDED: "true",
    SIGN_IN_URL: "https://app.edgegate.test/login",
    ROUTE_RULES: "/login(.*)=role:admin",
    ALLOWED_HOSTS: "app.edgegate.test, real.example.com",
  });

  test("an_explicit_rule_on_the_sign_in_path_holds_whatever_the_forwarded_host", async () => {
    const before = gw.origin.count;
    for (const headers of [
      {},
      { "x-forwarded-host": "app.edgegate.test" },
      { "x-forwarded-host": "app.edgegate.test, real.example.com" },
      { forwarded: "host=app.edgegate.test" },
      { forwarded: "host=app.edgegate.test;proto=https" },
    ]) {
      const res = await gw.worker.fetch("/login", { headers });
      assert.equal(res.status, 401, JSON.stringify(headers));
      const page = await gw.worker.fetch("/login", { headers: { ...PAGE, ...headers } });
      assert.ok([307, 401].includes(page.status), `${page.status} ${JSON.stringify(headers)}`);
    }
    assert.equal(gw.origin.count, before);
    // The sign-in page itself, protected: the 401 page, since a redirect to it would loop.
    const page = await gw.worker.fetch("/login", { headers: { ...PAGE, "x-forwarded-host": "app.edgegate.test" } });
    assert.equal(page.status, 401);
    assert.equal(page.headers.get("location"), null);
  });

  test("only_the_last_item_the_trusted_proxy_added_names_the_public_host", async () => {
    const redirectHost = async (headers) => {
      const res = await gw.worker.fetch("/dash", { headers: { ...PAGE, ...headers } });
      assert.equal(res.status, 307);
      const back = new URL(new URL(res.headers.get("location")).searchParams.get("redirect_url"));
      return back.host;
    };
    assert.equal(await redirectHost({ "x-forwarded-host": "app.edgegate.test, real.example.com" }), "real.example.com");
    assert.equal(await redirectHost({ forwarded: "host=app.edgegate.test, for=192.0.2.1;host=real.example.com" }), "real.example.com");
    // Forwarded and X-Forwarded-Host disagree: one came from the client, neither is used.
    const own = new URL(gw.worker.url).host;
    assert.equal(await redirectHost({ forwarded: "host=app.edgegate.test", "x-forwarded-host": "real.example.com" }), own);
  });
});

describe("4b. the sign-in page stays public without a rule that names it", () => {
  const gw = gateway({
    TRUST_FORWARDED: "true",
    SIGN_IN_URL: "https://app.edgegate.test/login",
    ROUTE_RULES: "/(.*)=org",
  });

  test("a_catch_all_rule_leaves_the_sign_in_page_reachable", async () => {
    const res = await gw.worker.fetch("/login", { headers: { ...PAGE, "x-forwarded-host": "app.edgegate.test" } });
    assert.equal(res.status, 200);
    assert.equal(gw.origin.last().path, "/login");
  });
});

describe("5. forwarded port and scheme", () => {
  const gw = gateway({
    TRUST_FORWARDED: "true",
    SIGN_IN_URL: "https://accounts.edgegate.test/sign-in",
    ALLOWED_HOSTS: "app.edgegate.test",
  });
  const returnTo = (res) => new URL(res.headers.get("location")).searchParams.get("redirect_url");

  test("a_portless_allowed_host_allows_the_default_port_only", async () => {
    const res = await gw.worker.fetch("/dash", {
      headers: { ...PAGE, "x-forwarded-host": "app.edgegate.test:4444", "x-forwarded-proto": "https" },
    });
    assert.equal(res.status, 307);
    assert.doesNotMatch(returnTo(res), /4444/);
    const ok = await gw.worker.fetch("/dash", {
      headers: { ...PAGE, "x-forwarded-host": "app.edgegate.test", "x-forwarded-proto": "https" },
    });
    assert.equal(returnTo(ok), "https://app.edgegate.test/dash");
  });

  test("a_forwarded_http_never_downgrades_a_request_that_reached_the_edge_over_https", async () => {
    // dispatchFetch hands workerd a request whose URL is https, as the edge would.
    const res = await gw.worker.mf.dispatchFetch("https://app.edgegate.test/dash?x=1", {
      headers: { ...PAGE, "x-forwarded-host": "app.edgegate.test:4444", "x-forwarded-proto": "http" },
      redirect: "manual",
    });
    assert.equal(res.status, 307);
    assert.equal(returnTo(res), "https://app.edgegate.test/dash?x=1");
    const plain = await gw.worker.mf.dispatchFetch("https://app.edgegate.test/dash", {
      headers: { ...PAGE, "x-forwarded-host": "app.edgegate.test", "x-forwarded-proto": "http" },
      redirect: "manual",
    });
    assert.equal(returnTo(plain), "https://app.edgegate.test/dash");
  });
});

describe("6. framework-internal and client-address headers never reach the origin", () => {
  const gw = gateway({ PUBLIC_ROUTES: "/public(.*)" });
  const STRIPPED = [
    "True-Client-IP",
    "Client-IP",
    "X-Remote-Addr",
    "X-Remote-IP",
    "X-Host",
    "x-invoke-path",
    "x-invoke-query",
    "x-invoke-output",
    "x-invoke-status",
    "x-invoke-error",
    "x-matched-path",
    "x-now-route-matches",
    "x-prerender-revalidate",
    "x-prerender-revalidate-if-generated",
    "x-middleware-invoke",
  ];
  const APP_ROUTER = {
    RSC: "1",
    "Next-Router-State-Tree": "%5B%22%22%5D",
    "Next-Router-Prefetch": "1",
    "Next-Url": "/dash",
    "x-middleware-prefetch": "1",
  };
  const spellings = (name) => [name, name.toUpperCase(), name.toLowerCase().replaceAll("-", "_")];

  test("every_spelling_is_stripped_and_the_app_routers_headers_pass", async () => {
    for (const [path, auth] of [["/public/page", {}], ["/dash", bearer(session())]]) {
      for (const name of STRIPPED) {
        for (const spelling of spellings(name)) {
          const res = await gw.worker.fetch(path, { headers: { ...auth, ...APP_ROUTER, [spelling]: "1.2.3.4" } });
          assert.equal(res.status, 200, `${path} ${spelling}`);
          const seen = gw.origin.last().headers;
          const normalised = name.toLowerCase();
          assert.equal(seen[normalised], undefined, `${path}: ${spelling} reached the origin`);
          assert.equal(seen[normalised.replaceAll("-", "_")], undefined, `${path}: ${spelling} reached the origin`);
          for (const [n, v] of Object.entries(APP_ROUTER)) {
            assert.equal(seen[n.toLowerCase()], v, `${path}: ${n} must pass`);
          }
        }
      }
    }
  });
});
