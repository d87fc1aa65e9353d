// Route grammar end to end (docs/routes.md): Clerk's `:path*`/`:path+`/`:param?` patterns,
// PROTECTED_ROUTES, and the `feature:`, `plan:` and `reverification:` requirements, with the
// built worker in workerd and a recording origin.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { APP_ORIGIN, baseSettings, bearer, generateKeys, mintToken, nowSeconds, sessionClaims, startOrigin, startWorker, useGateway } from "./helpers.mjs";

const key = generateKeys("RS256");
const token = (overrides = {}) =>
  mintToken({ privatePem: key.privatePem, claims: sessionClaims({ azp: APP_ORIGIN, ...overrides }, nowSeconds()) });
const page = { "sec-fetch-dest": "document", accept: "text/html" };

describe("PROTECTED_ROUTES with Clerk's parameter modifiers", () => {
  const { origin, worker } = useGateway({
    key,
    settings: { PROTECTED_ROUTES: "/dashboard/:path*, /files/:path+, /user/:id?" },
  });

  test("only_the_listed_patterns_need_a_session", async () => {
    for (const path of ["/dashboard", "/dashboard/a/b", "/DASHBOARD/x", "/files/a", "/files/a/b", "/user", "/user/7"]) {
      const res = await worker.fetch(path);
      assert.equal(res.status, 401, path);
      assert.equal(res.headers.get("x-edgegate-auth-reason"), "token-missing", path);
      assert.equal((await worker.fetch(path, { headers: bearer(token()) })).status, 200, path);
    }
    for (const path of ["/", "/files", "/user/7/extra", "/pricing", "/dashboardx"]) {
      const before = origin.count;
      const res = await worker.fetch(path);
      assert.equal(res.status, 200, path);
      assert.equal(origin.count, before + 1, path);
      assert.equal(origin.last().headers["x-auth-status"], "signed-out", path);
    }
  });
});

describe("PUBLIC_ROUTES and PROTECTED_ROUTES together", () => {
  test("is_a_setting_problem_named_by_health", async () => {
    const origin = await startOrigin();
    const worker = await startWorker({
      bindings: baseSettings({ publicPem: key.publicPem, originUrl: origin.url, PUBLIC_ROUTES: "/", PROTECTED_ROUTES: "/app(.*)" }),
    });
    try {
      const health = await worker.fetch("/__edgegate/health");
      assert.equal(health.status, 503);
      const body = await health.json();
      assert.ok(body.problems.some((p) => p.includes("PROTECTED_ROUTES") || p.includes("PUBLIC_ROUTES")), JSON.stringify(body));
      assert.equal((await worker.fetch("/app", { headers: bearer(token()) })).status, 503);
    } finally {
      await worker.dispose();
      await origin.close();
    }
  });
});

describe("feature, plan and reverification rules", () => {
  const { worker } = useGateway({
    key,
    settings: {
      ROUTE_RULES: "/reports/:path*=feature:reports; /pro/:path*=plan:org:pro; /settings/security/:path*=reverification:strict",
    },
  });

  test("features_and_plans_come_from_fea_and_pla_with_their_scopes", async () => {
    assert.equal((await worker.fetch("/reports/q1", { headers: bearer(token({ fea: "u:reports" })) })).status, 200);
    assert.equal((await worker.fetch("/reports/q1", { headers: bearer(token({ fea: "o:reports,u:beta" })) })).status, 200);
    const missing = await worker.fetch("/reports/q1", { headers: bearer(token({ fea: "u:beta" })) });
    assert.equal(missing.status, 403);
    assert.equal(missing.headers.get("x-edgegate-auth-reason"), "missing-feature");
    assert.equal((await worker.fetch("/pro", { headers: bearer(token({ pla: "o:pro" })) })).status, 200);
    const userPlan = await worker.fetch("/pro", { headers: bearer(token({ pla: "u:pro" })) });
    assert.equal(userPlan.status, 403, "plan:org:pro wants the organisation's plan");
    assert.equal(userPlan.headers.get("x-edgegate-auth-reason"), "missing-plan");
  });

  test("a_stale_second_factor_gets_clerks_reverification_error_for_api_calls_and_a_page_for_page_loads", async () => {
    assert.equal((await worker.fetch("/settings/security", { headers: bearer(token({ fva: [5, 3] })) })).status, 200);
    const stale = await worker.fetch("/settings/security", { headers: bearer(token({ fva: [5, 30] })) });
    assert.equal(stale.status, 403);
    assert.equal(stale.headers.get("x-edgegate-auth-reason"), "reverification-required");
    assert.deepEqual(await stale.json(), {
      clerk_error: { type: "forbidden", reason: "reverification-error", metadata: { reverification: { level: "second_factor", afterMinutes: 10 } } },
    });
    const none = await worker.fetch("/settings/security", { headers: bearer(token()) });
    assert.equal(none.status, 403, "no fva never holds");
    const pageLoad = await worker.fetch("/settings/security", { headers: { ...bearer(token({ fva: [5, 30] })), ...page } });
    assert.equal(pageLoad.status, 403);
    assert.match(pageLoad.headers.get("content-type") ?? "", /text\/html/);
    assert.equal(pageLoad.headers.get("x-edgegate-auth-reason"), "reverification-required");
  });
});
