// Hardening end to end: nothing a client sends can steer the origin, and no machine token poses
// as a user. The built worker in workerd, a recording origin on loopback.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { APP_ORIGIN, bearer, generateKeys, mintToken, nowSeconds, sessionClaims, useGateway } from "./helpers.mjs";

const key = generateKeys("RS256");
const sign = (claims, header = {}) => mintToken({ privatePem: key.privatePem, claims, header });
const session = (overrides = {}) => sign(sessionClaims({ azp: APP_ORIGIN, ...overrides }));
const PK_LIVE = `pk_live_${Buffer.from("clerk.edgegate.test$").toString("base64")}`;

/** Tokens in Clerk's machine formats, signed by the instance key (as Clerk's fixtures shape them). */
function machineTokens() {
  const now = nowSeconds();
  const m2m = {
    iss: "https://clerk.edgegate.test",
    sub: "mch_2vYVtestTESTtestTESTtestTESTtest",
    aud: ["mch_1xxxxx", "mch_2xxxxx"],
    exp: now + 300,
    iat: now,
    nbf: now - 10,
    jti: "mt_2xKa9Bgv7NxMRDFyQw8LpZ3cTmU1vHjE",
    scopes: "mch_1xxxxx mch_2xxxxx",
  };
  const oauth = {
    iss: "https://clerk.edgegate.test",
    sub: "user_2vYVtestTESTtestTESTtestTESTtest",
    client_id: "client_2VTWUzvGC5UhdJCNx6xG1D98edc",
    scope: "read:foo write:bar",
    jti: "oat_2xKa9Bgv7NxMRDFyQw8LpZ3cTmU1vHjE",
    exp: now + 300,
    iat: now,
    nbf: now - 10,
  };
  return {
    "m2m (mch_ subject, no cat)": sign(m2m),
    "m2m with the machine cat": sign(m2m, { cat: "cl_B7d4PD333AAA" }),
    "oauth access token (typ at+jwt)": sign(oauth, { typ: "at+jwt" }),
    "oauth access token (client_id, no sid)": sign(oauth),
    "session-shaped with an mt_ id": session({ jti: "mt_1" }),
  };
}

describe("headers a client must never get through", () => {
  const { origin, worker } = useGateway({
    key,
    settings: { PUBLIC_ROUTES: "/public(.*)", STRIP_REQUEST_HEADERS: "X-Internal-Role, x-acme-*" },
  });

  const hostile = {
    "X-Original-URL": "/admin",
    "X-Rewrite-URL": "/admin",
    "X-HTTP-Method-Override": "DELETE",
    "X-HTTP-Method": "DELETE",
    "X-Method-Override": "DELETE",
    "X-Forwarded-Prefix": "/admin",
    "X-Forwarded-Uri": "/admin",
    "X-Forwarded-Path": "/admin",
    "X-Envoy-Original-Path": "/admin",
    "x-middleware-subrequest": "middleware:middleware:middleware:middleware:middleware",
    "x-clerk-auth-status": "signed-in",
    "x-clerk-auth-reason": "x",
    "x-clerk-auth-message": "x",
    "x-clerk-auth-token": "x",
    "x-clerk-auth-signature": "x",
    "x-clerk-request-data": "x",
    "x-clerk-redirect-to": "/admin",
    "x-clerk-something-new": "x",
    X_Original_Url: "/admin",
    X_MIDDLEWARE_SUBREQUEST: "middleware",
    x_clerk_auth_status: "signed-in",
    "x-internal-role": "admin",
    x_internal_role: "admin",
    "x-acme-tenant": "root",
    "X-Kept-Header": "kept",
  };
  const check = (where) => {
    const h = origin.last().headers;
    for (const name of Object.keys(hostile)) {
      const lower = name.toLowerCase();
      if (lower === "x-kept-header") continue;
      assert.equal(h[lower], undefined, `${where}: ${name} reached the origin`);
    }
    for (const name of Object.keys(h)) {
      assert.ok(!/^x[-_]clerk[-_]/.test(name), `${where}: ${name}`);
      assert.ok(!/^x[-_]forwarded[-_](prefix|uri|path)/.test(name), `${where}: ${name}`);
    }
    assert.equal(h["x-kept-header"], "kept", where);
  };

  test("override_and_internal_headers_are_stripped_on_public_and_signed_in_requests", async () => {
    let res = await worker.fetch("/public/x", { headers: hostile });
    assert.equal(res.status, 200);
    assert.equal(origin.last().path, "/public/x");
    assert.equal(origin.last().method, "GET");
    check("public, signed out");

    res = await worker.fetch("/api/x", { headers: { ...hostile, ...bearer(session({ sub: "user_real" })) } });
    assert.equal(res.status, 200);
    assert.equal(origin.last().headers["x-auth-user-id"], "user_real");
    check("protected, signed in");

    res = await worker.fetch("/api/x", { method: "POST", body: "{}", headers: { ...hostile, ...bearer(session()) } });
    assert.equal(res.status, 200);
    assert.equal(origin.last().method, "POST");
    check("POST");
  });
});

describe("machine tokens are never user sessions", () => {
  const settings = { PUBLIC_ROUTES: "/public(.*)", AZP_MISSING: "allow" };
  const { origin, worker: strict } = useGateway({ key, settings });
  const { worker: templates } = useGateway({ key, origin, settings: { ...settings, SID_MISSING: "allow" } });

  test("machine_tokens_as_bearer_or_session_cookie_get_token_type_mismatch_whatever_the_settings", async () => {
    for (const [name, token] of Object.entries(machineTokens())) {
      for (const [label, worker] of [["default", strict], ["SID_MISSING=allow", templates]]) {
        for (const [source, headers] of [
          ["bearer", bearer(token)],
          ["cookie", { cookie: `__session=${token}` }],
        ]) {
          const before = origin.count;
          const res = await worker.fetch("/api/x", { headers });
          const where = `${name}, ${label}, ${source}`;
          assert.equal(res.status, 401, where);
          assert.equal(res.headers.get("x-edgegate-auth-reason"), "token-type-mismatch", where);
          assert.equal(origin.count, before, `${where}: reached the origin`);
          // On a public route it goes through signed out: never as the machine "user".
          const pub = await worker.fetch("/public/x", { headers });
          assert.equal(pub.status, 200, where);
          assert.equal(pub.headers.get("x-edgegate-auth-status"), "signed-out", where);
          assert.equal(origin.last().headers["x-auth-user-id"], undefined, where);
        }
      }
    }
  });

  test("tokens_without_sid_are_refused_by_default_and_templates_pass_with_sid_missing_allow", async () => {
    const sessionless = session({ sid: undefined, sub: "user_template" });
    const template = sign(sessionClaims({ azp: APP_ORIGIN, sid: undefined, sub: "user_template" }), { cat: "cl_B7d4PD222AAA" });
    for (const t of [sessionless, template]) {
      const res = await strict.fetch("/api/x", { headers: bearer(t) });
      assert.equal(res.status, 401);
      assert.equal(res.headers.get("x-edgegate-auth-reason"), "token-type-mismatch");
      const ok = await templates.fetch("/api/x", { headers: bearer(t) });
      assert.equal(ok.status, 200);
      assert.equal(origin.last().headers["x-auth-user-id"], "user_template");
    }
    // A genuine session token works on both.
    for (const w of [strict, templates]) {
      const res = await w.fetch("/api/x", { headers: bearer(session({ sub: "user_s" })) });
      assert.equal(res.status, 200);
      assert.equal(origin.last().headers["x-auth-user-id"], "user_s");
    }
  });
});

describe("paths an origin could decode twice", () => {
  const { origin, worker } = useGateway({ key, settings: { PUBLIC_ROUTES: "/public(.*)" } });

  test("double_encoded_dot_slash_and_backslash_are_400_and_never_reach_the_origin", async () => {
    const before = origin.count;
    for (const path of [
      "/public/%252e%252e/admin",
      "/public/%252E%252E/admin",
      "/public/..%252fadmin",
      "/public/x%252Fadmin",
      "/public/%255c..%255cadmin",
      "/public/%255Cadmin",
      "/public/%25252e%25252e/admin",
    ]) {
      const res = await worker.fetch(path);
      assert.equal(res.status, 400, path);
      assert.deepEqual(await res.json(), { error: "bad-request", reason: "path-double-encoded" }, path);
    }
    assert.equal(origin.count, before);
    // A single encoded percent is fine, and the matched path is what the origin receives.
    const res = await worker.fetch("/public/100%25");
    assert.equal(res.status, 200);
    assert.equal(origin.last().path, "/public/100%25");
  });

  test("a_path_whose_canonical_form_is_too_long_is_414", async () => {
    const before = origin.count;
    // 6,000 raw bytes of "é" become 18,000 bytes of escapes.
    const res = await worker.fetch(`/public/${"é".repeat(3000)}`);
    assert.equal(res.status, 414);
    assert.equal(res.headers.get("x-edgegate-auth-reason"), "path-too-long");
    assert.equal(origin.count, before);
    const fits = await worker.fetch(`/public/${"é".repeat(2000)}`);
    assert.equal(fits.status, 200);
  });
});

describe("preflights and shared caches", () => {
  const { origin, worker } = useGateway({
    key,
    settings: { PUBLIC_ROUTES: "/public(.*)", ROUTE_RULES: "/admin(.*)=role:org:admin", CORS_PREFLIGHT: "origin" },
    respond: (r) => {
      if (r.method === "OPTIONS") {
        return {
          status: 200,
          headers: {
            "access-control-allow-origin": "https://other.example",
            "access-control-allow-methods": "POST",
            "access-control-allow-headers": "authorization",
            "access-control-max-age": "600",
            "x-secret-admin-data": "leak",
            "set-cookie": "admin=1",
            "content-type": "text/plain",
          },
          body: "the admin page's full body",
        };
      }
      if (r.path === "/api/public-cache") {
        return { status: 200, headers: { "cache-control": "public, max-age=600", vary: "Accept-Encoding" }, body: "x" };
      }
      if (r.path === "/api/private") {
        return { status: 200, headers: { "cache-control": "private, max-age=60" }, body: "x" };
      }
      return null;
    },
  });

  test("an_unauthenticated_preflight_on_a_rule_protected_route_gets_status_and_cors_headers_only", async () => {
    const res = await worker.fetch("/admin/users", {
      method: "OPTIONS",
      headers: { origin: "https://other.example", "access-control-request-method": "POST" },
    });
    assert.equal(origin.last().method, "OPTIONS");
    assert.equal(origin.last().path, "/admin/users");
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "");
    assert.equal(res.headers.get("access-control-allow-origin"), "https://other.example");
    assert.equal(res.headers.get("access-control-allow-methods"), "POST");
    assert.equal(res.headers.get("access-control-max-age"), "600");
    assert.equal(res.headers.get("x-secret-admin-data"), null);
    assert.equal(res.headers.get("set-cookie"), null);
    assert.equal(res.headers.get("content-type"), null);
  });

  test("a_signed_in_response_varies_on_authorization_and_cookie_unless_private", async () => {
    let res = await worker.fetch("/api/public-cache", { headers: bearer(session()) });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("cache-control"), "public, max-age=600");
    assert.equal(res.headers.get("vary"), "Accept-Encoding, Authorization, Cookie");
    res = await worker.fetch("/api/x", { headers: bearer(session()) });
    assert.equal(res.headers.get("vary"), "Authorization, Cookie");
    res = await worker.fetch("/api/private", { headers: bearer(session()) });
    assert.equal(res.headers.get("vary"), null);
    // Signed out, nothing is added.
    res = await worker.fetch("/public/x");
    assert.equal(res.headers.get("vary"), null);
  });
});

/** The status line and headers of one raw HTTP/1.1 GET, as the client's socket receives them. */
function rawHead(url, path, headers) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      const lines = Object.entries(headers).map(([n, v]) => `${n}: ${v}\r\n`).join("");
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nConnection: close\r\n${lines}\r\n`);
    });
    let text = "";
    socket.on("data", (d) => {
      text += d;
      const end = text.indexOf("\r\n\r\n");
      if (end >= 0) {
        socket.destroy();
        resolve(text.slice(0, end).toLowerCase());
      }
    });
    socket.on("error", reject);
  });
}

describe("an origin's connection-level headers", () => {
  const { worker } = useGateway({
    key,
    // The lean profile: a response with nothing else to change is sent on untouched.
    settings: { LOG_REQUESTS: "refusals", AUTH_STATUS_HEADER: "false" },
    respond: (r) => ({
      status: 200,
      headers: r.path === "/named"
        ? { "cache-control": "private", connection: "keep-alive, x-hop", "keep-alive": "timeout=5", "x-hop": "secret" }
        : { "cache-control": "private", connection: "keep-alive", "keep-alive": "timeout=5" },
      body: "x",
    }),
  });

  test("connection_keep_alive_and_the_headers_connection_names_never_reach_the_client", async () => {
    for (const path of ["/plain", "/named"]) {
      const head = await rawHead(worker.url, path, bearer(session()));
      assert.match(head, /^http\/1\.1 200/, path);
      assert.doesNotMatch(head, /\r\nkeep-alive:/, path);
      assert.doesNotMatch(head, /\r\nx-hop:/, path);
      assert.doesNotMatch(head, /\r\nconnection: keep-alive, x-hop/, path);
    }
  });
});

describe("handshake leftovers", () => {
  const settings = { PUBLIC_ROUTES: "/public(.*)", PUBLISHABLE_KEY: PK_LIVE, FRONTEND_API_URL: "http://127.0.0.1:9" };
  const { origin, worker } = useGateway({ key, settings });
  const { worker: noToken } = useGateway({ key, origin, settings: { ...settings, FORWARD_TOKEN: "false" } });

  test("a_failed_handshake_parameter_never_outranks_a_valid_bearer_token_nor_clears_cookies", async () => {
    const res = await worker.fetch("/api/x?__clerk_handshake=junk", {
      headers: { ...bearer(session({ sub: "user_bearer" })), cookie: "__clerk_handshake=inprogress; __edgegate_hs_state=s" },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-edgegate-auth-status"), "signed-in");
    assert.equal(origin.last().headers["x-auth-user-id"], "user_bearer");
    assert.deepEqual(res.headers.getSetCookie(), []);
    // An API call without a token cannot have started a handshake: refused, cookies kept.
    const api = await worker.fetch("/api/x?__clerk_handshake=junk", { headers: { cookie: "__clerk_handshake=inprogress" } });
    assert.equal(api.status, 401);
    assert.deepEqual(api.headers.getSetCookie(), []);
    // A page load that could have started one clears them.
    const page = await worker.fetch("/api/x?__clerk_handshake=junk", {
      headers: { "sec-fetch-dest": "document", accept: "text/html", cookie: "__clerk_handshake=inprogress" },
    });
    assert.ok(page.headers.getSetCookie().some((c) => c.startsWith("__clerk_handshake=;")), "page load clears");
    // A page's fetch with a valid session and a leftover handshake cookie stays signed in.
    const now = nowSeconds();
    const cookieSession = session({ sub: "user_cookie", iat: now, nbf: now - 5 });
    const fetchCall = await worker.fetch("/api/x", {
      headers: { "sec-fetch-dest": "empty", cookie: `__session=${cookieSession}; __client_uat=${now - 10}; __clerk_handshake=junk` },
    });
    assert.equal(fetchCall.status, 200);
    assert.equal(origin.last().headers["x-auth-user-id"], "user_cookie");
    assert.deepEqual(fetchCall.headers.getSetCookie(), []);
  });

  test("with_forward_token_false_no_token_bearing_cookie_or_parameter_reaches_the_origin", async () => {
    const res = await noToken.fetch("/public/page?a=1&__clerk_handshake=eyJhbGciOi.junk.sig&__clerk_db_jwt=dvb_x&b=2&__clerk_ticket=ticket_secret", {
      headers: {
        referer: "https://app.edgegate.test/sign-in?__clerk_ticket=referer_ticket&x=1",
        "sec-fetch-dest": "document",
        accept: "text/html",
        cookie:
          "__clerk_handshake=hs_secret; __refresh_abc=refresh_secret; __clerk_db_jwt=dvb_secret; __session=sess_secret; __client_uat=0; theme=dark",
      },
    });
    assert.equal(res.status, 200);
    const seen = origin.last();
    assert.equal(seen.url, "/public/page?a=1&b=2");
    const cookie = seen.headers.cookie ?? "";
    for (const secret of ["hs_secret", "refresh_secret", "dvb_secret", "sess_secret"]) {
      assert.ok(!cookie.includes(secret), `${secret} reached the origin: ${cookie}`);
    }
    assert.ok(cookie.includes("theme=dark"));
    assert.equal(seen.headers.referer, "https://app.edgegate.test/sign-in?x=1");
    assert.equal(seen.headers.authorization, undefined);
  });
});
