// Issue 4 end to end: every outcome of the gateway in workerd, with a real origin on loopback.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { createServer } from "node:http";
import {
  APP_ORIGIN,
  PAGE,
  baseSettings,
  bearer,
  generateKeys,
  logCollector,
  mintToken,
  nowSeconds,
  sessionClaims,
  startWorker,
  useGateway,
} from "./helpers.mjs";

const key = generateKeys("RS256");
const token = (overrides = {}) =>
  mintToken({ privatePem: key.privatePem, claims: sessionClaims({ azp: APP_ORIGIN, ...overrides }) });
const ASSERTION_SECRET = "an-origin-assertion-secret-of-32-chars-or-more";

describe("proxied requests", () => {
  const { origin, worker } = useGateway({
    key,
    settings: {
      PUBLIC_ROUTES: "/, /blog/:slug, /public(.*)",
      ROUTE_RULES: "/admin(.*)=role:org:admin; /billing(.*)=permission:org:billing:manage",
      FORWARD_CLAIMS: "email,meta",
      ORIGIN_ASSERTION_SECRET: ASSERTION_SECRET,
      SIGN_IN_URL: "https://accounts.edgegate.test/sign-in",
    },
    respond: (r) => {
      if (r.path === "/redirect-me") {
        return { status: 302, headers: { location: `${origin.url}/landing?x=1` } };
      }
      if (r.path === "/cookies") {
        return { status: 200, headers: { "set-cookie": ["a=1; Path=/", "b=2; Path=/"] }, body: "ok" };
      }
      if (r.path === "/missing") return { status: 404, body: "nope" };
      if (r.path === "/boom") return { status: 500, body: "origin error" };
      return null;
    },
  });

  test("method_path_query_and_streamed_body_arrive_intact", async () => {
    const body = Buffer.alloc(1024 * 1024, 7);
    const res = await worker.fetch("/api/upload?x=1&y=%20z", {
      method: "POST",
      headers: { ...bearer(token()), "content-type": "application/octet-stream" },
      body,
    });
    assert.equal(res.status, 200);
    const seen = origin.last();
    assert.equal(seen.method, "POST");
    assert.equal(seen.url, "/api/upload?x=1&y=%20z");
    assert.equal(seen.body.length, body.length);
    assert.equal(createHash("sha256").update(seen.body).digest("hex"), createHash("sha256").update(body).digest("hex"));
  });

  test("identity_headers_claims_request_id_and_assertion_reach_the_origin", async () => {
    const t = token({
      sub: "user_ident",
      sid: "sess_ident",
      email: "a@example.com",
      meta: { plan: "pro" },
      act: { sub: "user_admin" },
      o: { id: "org_1", rol: "admin", slg: "acme", per: "read,manage", fpm: "3" },
      fea: "o:billing",
    });
    const res = await worker.fetch("/api/me", { headers: { ...bearer(t), "cf-ray": "8f00aa11bb22cc33-LHR" } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-edgegate-auth-status"), "signed-in");
    const h = origin.last().headers;
    assert.equal(h["x-auth-user-id"], "user_ident");
    assert.equal(h["x-auth-session-id"], "sess_ident");
    assert.equal(h["x-auth-org-id"], "org_1");
    assert.equal(h["x-auth-org-role"], "org:admin");
    assert.equal(h["x-auth-org-slug"], "acme");
    assert.equal(h["x-auth-org-permissions"], "org:billing:read,org:billing:manage");
    assert.equal(h["x-auth-actor"], "user_admin");
    assert.equal(h["x-auth-claim-email"], "a@example.com");
    assert.deepEqual(JSON.parse(h["x-auth-claim-meta"]), { plan: "pro" });
    assert.equal(h["x-request-id"], "8f00aa11bb22cc33-LHR");
    assert.equal(h["authorization"], `Bearer ${t}`, "FORWARD_TOKEN defaults to true");
    // The assertion: an HS256 JWT the origin can verify with the shared secret.
    const [hd, pl, sig] = h["x-edgegate-assertion"].split(".");
    const expected = createHmac("sha256", ASSERTION_SECRET).update(`${hd}.${pl}`).digest("base64url");
    assert.equal(sig, expected);
    const claims = JSON.parse(Buffer.from(pl, "base64url").toString());
    assert.equal(claims.sub, "user_ident");
    assert.equal(claims.aud, origin.url);
    assert.ok(claims.exp > nowSeconds() && claims.exp <= nowSeconds() + 61);
  });

  test("spoofed_identity_headers_never_reach_the_origin_in_any_spelling", async () => {
    const spoof = {
      "X-Auth-User-Id": "evil",
      "x-auth-org-role": "org:admin",
      "X_Auth_User_Id": "evil",
      "X-Edgegate-Assertion": "forged",
      "x-edgegate-auth-status": "signed-in",
      "X-Auth-Grace": "1",
      "X-Forwarded-For": "6.6.6.6",
      "X-Forwarded-Host": "evil.example",
      "cf-connecting-ip": "203.0.113.9",
    };
    const check = (where) => {
      const h = origin.last().headers;
      for (const name of Object.keys(h)) {
        if (name.startsWith("x-auth-") || name.startsWith("x_auth_") || name.startsWith("x-edgegate-")) {
          assert.notEqual(h[name], "evil", `${where}: ${name}`);
          assert.notEqual(h[name], "forged", `${where}: ${name}`);
        }
      }
      assert.equal(h["x_auth_user_id"], undefined, where);
      assert.equal(h["x-forwarded-for"], "203.0.113.9", `${where}: X-Forwarded-For from CF-Connecting-IP, replaced`);
      assert.notEqual(h["x-forwarded-host"], "evil.example", where);
    };
    // Protected route, signed in.
    await worker.fetch("/api/x", { headers: { ...spoof, ...bearer(token({ sub: "user_real" })) } });
    check("protected");
    assert.equal(origin.last().headers["x-auth-user-id"], "user_real");
    assert.equal(origin.last().headers["x-auth-org-role"], undefined);
    // Public route, signed out.
    await worker.fetch("/blog/hello", { headers: spoof });
    check("public");
    assert.equal(origin.last().headers["x-auth-user-id"], undefined);
    // CORS preflight.
    const pre = await worker.fetch("/api/x", {
      method: "OPTIONS",
      headers: { ...spoof, origin: "https://other.example", "access-control-request-method": "POST" },
    });
    assert.equal(pre.status, 200);
    assert.equal(origin.last().method, "OPTIONS");
    check("preflight");
  });

  test("public_routes_need_no_token_and_still_get_identity_when_signed_in", async () => {
    let res = await worker.fetch("/blog/hello");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-edgegate-auth-status"), "signed-out");
    res = await worker.fetch("/public/a/b", { headers: bearer(token({ sub: "user_pub" })) });
    assert.equal(res.status, 200);
    assert.equal(origin.last().headers["x-auth-user-id"], "user_pub");
  });

  test("route_rules_give_403_json_and_case_cannot_dodge_them", async () => {
    for (const path of ["/admin", "/ADMIN/x", "/Admin/"]) {
      const res = await worker.fetch(path, {
        headers: bearer(token({ o: { id: "org_1", rol: "member" } })),
      });
      assert.equal(res.status, 403, path);
      assert.deepEqual(await res.json(), { error: "forbidden", reason: "missing-role" });
      assert.equal(res.headers.get("x-edgegate-auth-status"), "signed-in");
      assert.equal(res.headers.get("x-edgegate-auth-reason"), "missing-role");
      assert.equal(res.headers.get("cache-control"), "private, no-store");
    }
    const res = await worker.fetch("/billing", {
      headers: bearer(token({ o: { id: "org_1", rol: "member", per: "read", fpm: "1" }, fea: "o:billing" })),
    });
    assert.equal(res.status, 403);
    assert.equal((await res.json()).reason, "missing-permission");
    const ok = await worker.fetch("/admin/panel", { headers: bearer(token({ o: { id: "org_1", rol: "admin" } })) });
    assert.equal(ok.status, 200);
  });

  test("path_confusion_never_bypasses_a_rule", async () => {
    const member = bearer(token({ o: { id: "org_1", rol: "member" } }));
    const before = origin.count;
    for (const path of ["/%61dmin", "//admin", "/./admin", "/public/../admin", "/blog/../admin", "/%2e%2e/admin", "/ADMIN"]) {
      const res = await worker.fetch(path, { headers: member });
      assert.ok([400, 403].includes(res.status), `${path} -> ${res.status}`);
    }
    for (const path of ["/admin%2fx", "/admin%5cx", "/admin;x=1"]) {
      const res = await worker.fetch(path, { headers: member });
      assert.ok([400, 403].includes(res.status), `${path} -> ${res.status}`);
    }
    assert.equal(origin.count, before, "none reached the origin");
  });

  test("signed_out_page_load_redirects_and_api_call_gets_401_json", async () => {
    const page = await worker.fetch("/dashboard?tab=1", { headers: { "sec-fetch-dest": "document" } });
    assert.equal(page.status, 307);
    const loc = new URL(page.headers.get("location"));
    assert.equal(loc.origin + loc.pathname, "https://accounts.edgegate.test/sign-in");
    assert.equal(loc.searchParams.get("redirect_url"), `${worker.url}/dashboard?tab=1`);
    const html = await worker.fetch("/dashboard", { headers: { accept: "text/html,application/xhtml+xml" } });
    assert.equal(html.status, 307);
    const api = await worker.fetch("/api/items", { headers: { accept: "application/json" } });
    assert.equal(api.status, 401);
    assert.deepEqual(await api.json(), { error: "unauthenticated", reason: "token-missing" });
    assert.equal(api.headers.get("www-authenticate"), 'Bearer error="invalid_token"');
    assert.equal(api.headers.get("x-edgegate-auth-status"), "signed-out");
    assert.equal(api.headers.get("x-edgegate-auth-reason"), "token-missing");
    assert.equal(api.headers.get("cache-control"), "private, no-store");
    const post = await worker.fetch("/dashboard", { method: "POST", headers: { accept: "text/html" } });
    assert.equal(post.status, 401, "a form POST is never redirected");
  });

  test("origin_redirects_reach_the_client_unfollowed_and_rewritten", async () => {
    const res = await worker.fetch("/redirect-me", { headers: bearer(token()) });
    assert.equal(res.status, 302);
    assert.equal(res.headers.get("location"), `${worker.url}/landing?x=1`);
  });

  test("several_set_cookie_headers_stay_several_and_origin_statuses_pass_through", async () => {
    const res = await worker.fetch("/cookies", { headers: bearer(token()) });
    assert.deepEqual(res.headers.getSetCookie(), ["a=1; Path=/", "b=2; Path=/"]);
    assert.equal((await worker.fetch("/missing", { headers: bearer(token()) })).status, 404);
    assert.equal((await worker.fetch("/boom", { headers: bearer(token()) })).status, 500);
  });

  test("session_endpoint_shows_the_session_or_401", async () => {
    const t = token({ sub: "user_sess", exp: nowSeconds() + 50 });
    let res = await worker.fetch("/__edgegate/session", { headers: bearer(t) });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("cache-control"), "private, no-store");
    const body = await res.json();
    assert.equal(body.user_id, "user_sess");
    for (const k of ["session_id", "session_status", "org_id", "org_role", "org_slug", "org_permissions", "actor", "factor_verification_age", "expires_at"]) {
      assert.ok(k in body, k);
    }
    res = await worker.fetch("/__edgegate/session", { headers: { cookie: `__session=${t}` } });
    assert.equal(res.status, 200);
    res = await worker.fetch("/__edgegate/session");
    assert.equal(res.status, 401);
    assert.equal(res.headers.get("cache-control"), "private, no-store");
  });

  test("health_reports_version_and_key_ids_never_secrets", async () => {
    const res = await worker.fetch("/__edgegate/health");
    assert.equal(res.status, 200);
    const text = await res.text();
    const body = JSON.parse(text);
    assert.equal(body.valid, true);
    assert.ok(body.version);
    assert.equal(body.keys.length, 1);
    assert.ok(!text.includes("BEGIN") && !text.includes(ASSERTION_SECRET));
  });
});

describe("forwarded headers", () => {
  const { origin, worker: trusting } = useGateway({
    key,
    settings: { SIGN_IN_URL: "/sign-in", TRUST_FORWARDED: "true", ALLOWED_HOSTS: "app.edgegate.test" },
  });
  const { worker: plain } = useGateway({ key, origin, settings: { SIGN_IN_URL: "/sign-in" } });

  const hostile = [
    "example.com[invalid]",
    "[::1",
    "example.com:99999",
    "ex ample.com",
    "a".repeat(10240),
    ",".repeat(1000),
    "évil.example",
    "",
    "evil.example",
  ];

  test("malformed_x_forwarded_host_never_gives_a_500_with_trust_on_or_off", async () => {
    for (const w of [trusting, plain]) {
      for (const value of hostile) {
        for (const headers of [
          { "x-forwarded-host": value },
          { forwarded: `host="${value}";proto=https` },
          { forwarded: value, "x-forwarded-proto": value },
        ]) {
          const res = await w.fetch("/api/x", { headers: { ...headers, ...bearer(token()) } });
          assert.ok(res.status < 500, `${JSON.stringify(headers).slice(0, 80)} -> ${res.status}`);
        }
      }
    }
  });

  test("a_spoofed_host_never_lands_in_a_redirect", async () => {
    for (const w of [trusting, plain]) {
      for (const value of hostile) {
        const res = await w.fetch("/dash", {
          headers: { "x-forwarded-host": value, forwarded: `host=${value}`, "sec-fetch-dest": "document" },
        });
        assert.equal(res.status, 307);
        const location = res.headers.get("location");
        assert.ok(!location.includes("evil") && !location.includes("invalid"), location);
      }
    }
  });

  test("an_allowed_forwarded_host_is_used_when_trusted", async () => {
    const res = await trusting.fetch("/dash", {
      headers: { "x-forwarded-host": "app.edgegate.test", "x-forwarded-proto": "https", "sec-fetch-dest": "document" },
    });
    assert.equal(res.status, 307);
    assert.equal(res.headers.get("location"), "https://app.edgegate.test/sign-in?redirect_url=https%3A%2F%2Fapp.edgegate.test%2Fdash");
    await trusting.fetch("/api/x", {
      headers: { "x-forwarded-host": "app.edgegate.test", "x-forwarded-proto": "https", ...bearer(token()) },
    });
    assert.equal(origin.last().headers["x-forwarded-host"], "app.edgegate.test");
    assert.equal(origin.last().headers["x-forwarded-proto"], "https");
  });
});

describe("origin failures", () => {
  let slow, worker, deadWorker;
  const slowRequests = [];
  before(async () => {
    slow = createServer((req, res) => {
      if (req.url.startsWith("/stream")) {
        // Headers at once, the body's end only after twice the timeout.
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("first;");
        setTimeout(() => res.end("last"), 700);
        return;
      }
      // A request the gateway gave up on is cancelled: the origin sees its connection close
      // before it would have answered.
      const seen = { url: req.url, closedEarly: false };
      slowRequests.push(seen);
      res.on("close", () => {
        if (!res.writableFinished) seen.closedEarly = true;
      });
      setTimeout(() => {
        if (!res.destroyed) {
          res.writeHead(200);
          res.end("late");
        }
      }, 5000);
    });
    await new Promise((r) => slow.listen(0, "127.0.0.1", r));
    const dead = createServer();
    await new Promise((r) => dead.listen(0, "127.0.0.1", r));
    const deadPort = dead.address().port;
    await new Promise((r) => dead.close(r));
    worker = await startWorker({
      bindings: baseSettings({
        publicPem: key.publicPem,
        originUrl: `http://127.0.0.1:${slow.address().port}`,
        UPSTREAM_TIMEOUT_MS: "300",
      }),
    });
    deadWorker = await startWorker({
      bindings: baseSettings({ publicPem: key.publicPem, originUrl: `http://127.0.0.1:${deadPort}` }),
    });
  });
  after(async () => {
    await worker?.dispose();
    await deadWorker?.dispose();
    slow?.closeAllConnections?.();
    await new Promise((r) => slow.close(r));
  });

  test("origin_down_gives_502_json_without_its_address", async () => {
    const res = await deadWorker.fetch("/api/x", { headers: bearer(token()) });
    assert.equal(res.status, 502);
    const text = await res.text();
    assert.deepEqual(JSON.parse(text), { error: "origin-unreachable" });
    assert.ok(!text.includes("127.0.0.1"));
  });

  test("origin_slower_than_upstream_timeout_gives_504_json", async () => {
    const res = await worker.fetch("/api/x", { headers: bearer(token()) });
    assert.equal(res.status, 504);
    assert.deepEqual(await res.json(), { error: "origin-timeout" });
    // The origin fetch is not left running once the client has its 504.
    const deadline = Date.now() + 3000;
    const givenUp = () => slowRequests.find((r) => r.url === "/api/x");
    while (!givenUp()?.closedEarly && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(givenUp(), "the origin saw the request");
    assert.equal(givenUp().closedEarly, true, "the given-up origin request was cancelled");
  });

  test("upstream_timeout_covers_the_response_headers_not_a_body_already_streaming", async () => {
    const started = Date.now();
    const res = await worker.fetch("/stream", { headers: bearer(token()) });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "first;last");
    assert.ok(Date.now() - started >= 600, "the body really did outlast UPSTREAM_TIMEOUT_MS");
  });
});

describe("misconfiguration", () => {
  let worker;
  const logs = logCollector();
  before(async () => {
    worker = await startWorker({
      bindings: { CLERK_JWT_KEY: key.publicPem, AUTHORIZED_PARTIES: APP_ORIGIN, CLOCK_SKEW_MS: "999999" },
      options: logs.options,
    });
  });
  after(async () => worker?.dispose());

  test("health_names_the_broken_settings_and_every_other_path_is_a_503_pointing_there", async () => {
    const health = await worker.fetch("/__edgegate/health");
    assert.equal(health.status, 503);
    const body = await health.json();
    assert.equal(body.valid, false);
    // Each problem's text, naming its setting, never a value.
    assert.deepEqual(body.problems.map((p) => p.split(":")[0]).sort(), ["CLOCK_SKEW_MS", "ORIGIN_URL"]);
    assert.ok(body.problems.every((p) => !p.includes("999999")), JSON.stringify(body.problems));
    assert.ok(body.problems.some((p) => p.startsWith("CLOCK_SKEW_MS: must be an integer")), JSON.stringify(body.problems));
    const other = await worker.fetch("/anything", { headers: bearer(token()) });
    assert.equal(other.status, 503);
    const text = await other.text();
    assert.ok(!text.includes("999999") && !text.includes("CLOCK_SKEW_MS") && !text.includes("BEGIN"));
  });

  test("a_browser_opening_the_session_page_gets_a_readable_page_and_the_log_line_names_the_request", async () => {
    const res = await worker.fetch("/__edgegate/", { headers: { ...PAGE, "cf-ray": "8f0e2c1a9b3d4e5f-LHR" } });
    assert.equal(res.status, 503);
    assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8");
    assert.equal(res.headers.get("x-edgegate-auth-reason"), "misconfigured");
    const html = await res.text();
    assert.match(html, /<h1>Gateway not configured<\/h1>/);
    assert.ok(html.includes('<a href="/__edgegate/health">/__edgegate/health</a>'), html);
    assert.ok(html.includes("README"), html);
    // No setting's name or value.
    for (const secret of ["999999", "CLOCK_SKEW_MS", "ORIGIN_URL", "BEGIN", APP_ORIGIN]) assert.ok(!html.includes(secret), secret);
    // An API call still gets JSON.
    const api = await worker.fetch("/__edgegate/session");
    assert.deepEqual(await api.json(), { error: "misconfigured", health: "/__edgegate/health" });

    // The log line carries the request id (CF-Ray here, else a generated one) and the path.
    const parsed = logs.lines.map((l) => {
      try {
        return JSON.parse(l);
      } catch {
        return null;
      }
    });
    const line = parsed.find((v) => v?.request_id === "8f0e2c1a9b3d4e5f-LHR");
    assert.ok(line, logs.lines.join("\n"));
    assert.equal(line.path, "/__edgegate/");
    assert.equal(line.status, 503);
    assert.equal(line.reason, "misconfigured");
    assert.equal(line.fault, "config");
    const apiLine = parsed.find((v) => v?.path === "/__edgegate/session");
    assert.match(apiLine?.request_id ?? "", /^[0-9a-f]{32}$/, logs.lines.join("\n"));
  });
});

describe("token sources", () => {
  const PK = `pk_live_${Buffer.from("clerk.edgegate.test$").toString("base64")}`;
  // Clerk's suffix: first 8 chars of base64url(SHA-1(publishable key)).
  const suffix = createHash("sha1").update(PK).digest("base64url").slice(0, 8);
  const { origin, worker } = useGateway({ key, settings: { PUBLISHABLE_KEY: PK } });

  test("suffixed_session_cookie_is_preferred_and_bearer_wins_over_cookies", async () => {
    const now = nowSeconds();
    const plainTok = token({ sub: "user_plain", iat: now - 5 });
    const suffixedTok = token({ sub: "user_suffixed", iat: now - 5 });
    const cookie = `__session=${plainTok}; __client_uat=${now - 10}; __session_${suffix}=${suffixedTok}; __client_uat_${suffix}=${now - 10}`;
    let res = await worker.fetch("/api/x", { headers: { cookie } });
    assert.equal(res.status, 200);
    assert.equal(origin.last().headers["x-auth-user-id"], "user_suffixed");
    res = await worker.fetch("/api/x", { headers: { cookie, ...bearer(token({ sub: "user_bearer" })) } });
    assert.equal(origin.last().headers["x-auth-user-id"], "user_bearer");
  });

  test("junk_cookie_headers_never_fail_the_request", async () => {
    for (const cookie of ["=;;;==", '__session="', "a".repeat(8000), "__session=\u00ff\u00fe; x", "__session=; __session=x"]) {
      const res = await worker.fetch("/api/x", { headers: { cookie } });
      assert.equal(res.status, 401, cookie.slice(0, 20));
    }
  });
});
