// Organisation sync end to end (ORGANIZATION_PATTERNS, PERSONAL_ACCOUNT_PATTERNS): a page load
// whose URL names another organisation than the session's goes through the Frontend API stub's
// handshake with `organization_id` and comes back with the organisation active; API calls get
// 403 `organization-mismatch`; an organisation the user cannot activate does not loop (a 403 page
// after three handshakes). Then the
// same round trip in headless Chromium.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";
import { APP_ORIGIN, generateKeys, mintToken, nowSeconds, sessionClaims, useGateway, PAGE, jarWith } from "./helpers.mjs";

const PK_LIVE = `pk_live_${Buffer.from("clerk.edgegate.test$").toString("base64")}`;
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const ORGS = [
  { id: "org_acme", slug: "acme", role: "admin" },
  { id: "org_beta", slug: "beta", role: "member" },
];
const SYNC_SETTINGS = {
  PUBLISHABLE_KEY: PK_LIVE,
  ORGANIZATION_PATTERNS: "/orgs/:slug, /orgs/:slug/(.*)",
  PERSONAL_ACCOUNT_PATTERNS: "/me, /me/(.*)",
};

/** A session token for `user_org` whose active organisation is `org` (one of ORGS, or none). */
function sessionFor(key, org) {
  const now = nowSeconds();
  const o = org ? { o: { id: org.id, slg: org.slug, rol: org.role } } : {};
  return mintToken({
    privatePem: key.privatePem,
    claims: sessionClaims({ azp: APP_ORIGIN, sub: "user_org", iat: now, nbf: now, exp: now + 60, ...o }),
  });
}


/**
 * A page load followed as a browser would: every 307 (to the Frontend API stub or back) until an
 * answer that is not a redirect. Returns that answer and the hops (`{status, location}`).
 */
async function navigate(worker, path, jar) {
  const hops = [];
  let url = new URL(path, worker.url);
  for (let i = 0; i < 20; i++) {
    const atWorker = url.origin === worker.url;
    const res = atWorker
      ? await worker.fetch(url.pathname + url.search, { headers: { ...PAGE, cookie: jar.header() } })
      : await fetch(url, { redirect: "manual" });
    if (atWorker) jar.take(res);
    if (res.status !== 307) return { res, hops, url };
    const location = new URL(res.headers.get("location"), url);
    hops.push({ status: res.status, from: url.origin, location });
    url = location;
  }
  throw new Error(`more than 20 redirects: ${JSON.stringify(hops)}`);
}

describe("organisation sync through the Frontend API stub", () => {
  const key = generateKeys("RS256");
  const { origin, worker, fapi } = useGateway({
    key,
    frontendApi: { sub: "user_org", organizations: ORGS, activeOrg: "org_beta" },
    settings: SYNC_SETTINGS,
  });

  test("a_page_for_another_organisation_activates_it_through_the_handshake", async () => {
    fapi.setActiveOrg("org_beta");
    const jar = jarWith({ __session: sessionFor(key, ORGS[1]), __client_uat: String(nowSeconds() - 100) });
    const originBefore = origin.count;

    // 1. The first answer: a 307 to the stub's handshake, asking for acme.
    const first = await worker.fetch("/orgs/acme/x?tab=2", { headers: { ...PAGE, cookie: jar.header() } });
    assert.equal(first.status, 307);
    assert.equal(first.headers.get("x-edgegate-auth-status"), "handshake");
    const hs = new URL(first.headers.get("location"));
    assert.equal(hs.origin + hs.pathname, `${fapi.url}/v1/client/handshake`);
    assert.equal(hs.searchParams.get("organization_id"), "acme");
    assert.equal(hs.searchParams.get("__clerk_hs_reason"), "active-organization-mismatch");
    assert.equal([...hs.searchParams.keys()].at(-1), "organization_id", "appended last, as Clerk does");
    assert.equal(new URL(hs.searchParams.get("redirect_url")).pathname, "/orgs/acme/x");
    assert.equal(origin.count, originBefore, "nothing reached the origin");

    // 2. The whole round trip, as a browser follows it.
    const seenBefore = fapi.seen.length;
    const { res, hops, url } = await navigate(worker, "/orgs/acme/x?tab=2", jar);
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(url.pathname + url.search, "/orgs/acme/x?tab=2", "back on the page asked for, URL cleaned");
    assert.deepEqual(
      hops.map((h) => h.location.origin === fapi.url),
      [true, false, false],
      "to the stub, back with the handshake, then the clean URL",
    );
    const asked = fapi.seen.slice(seenBefore).filter((s) => s.path === "/v1/client/handshake");
    assert.equal(asked.length, 1);
    assert.equal(asked[0].query.organization_id, "acme", "the stub got the activation parameter");
    assert.equal(fapi.activeOrg, "org_acme");
    assert.equal(res.headers.get("x-edgegate-auth-status"), "signed-in");
    assert.equal(origin.last().path, "/orgs/acme/x");
    assert.equal(origin.last().headers["x-auth-org-slug"], "acme");
    assert.equal(origin.last().headers["x-auth-org-id"], "org_acme");

    // 3. The fresh session is in the jar: the next page load goes straight through.
    const again = await worker.fetch("/orgs/acme/y", { headers: { ...PAGE, cookie: jar.header() } });
    assert.equal(again.status, 200);
  });

  test("a_personal_account_page_deactivates_the_organisation", async () => {
    fapi.setActiveOrg("org_acme");
    const jar = jarWith({ __session: sessionFor(key, ORGS[0]), __client_uat: String(nowSeconds() - 100) });
    const seenBefore = fapi.seen.length;
    const { res, hops } = await navigate(worker, "/me/profile", jar);
    assert.equal(res.status, 200, await res.clone().text());
    const hs = hops[0].location;
    assert.equal(hs.origin, fapi.url);
    assert.equal(hs.searchParams.get("organization_id"), "", "empty: the personal account");
    const asked = fapi.seen.slice(seenBefore).find((s) => s.path === "/v1/client/handshake");
    assert.equal(asked.query.organization_id, "");
    assert.equal(fapi.activeOrg, null);
    assert.equal(origin.last().path, "/me/profile");
    assert.equal(origin.last().headers["x-auth-org-id"], undefined);
    assert.equal(origin.last().headers["x-auth-user-id"], "user_org");
  });

  test("api_calls_get_403_organization_mismatch_and_never_a_redirect", async () => {
    const cookie = `__session=${sessionFor(key, ORGS[1])}; __client_uat=${nowSeconds() - 100}`;
    const seenBefore = fapi.seen.length;
    const originBefore = origin.count;
    const res = await worker.fetch("/orgs/acme/api/items", { headers: { cookie, accept: "application/json" } });
    assert.equal(res.status, 403);
    assert.equal(res.headers.get("x-edgegate-auth-reason"), "organization-mismatch");
    assert.equal(res.headers.get("x-edgegate-auth-status"), "signed-in");
    assert.equal(res.headers.get("location"), null);
    assert.deepEqual(await res.json(), { error: "forbidden", reason: "organization-mismatch" });
    const bearer = await worker.fetch("/orgs/acme/api/items", {
      headers: { authorization: `Bearer ${sessionFor(key, ORGS[1])}` },
    });
    assert.equal(bearer.status, 403);
    assert.equal(bearer.headers.get("x-edgegate-auth-reason"), "organization-mismatch");
    const personal = await worker.fetch("/me/api", { headers: { cookie, accept: "application/json" } });
    assert.equal(personal.status, 403);
    assert.equal(fapi.seen.length, seenBefore, "the stub was never asked");
    assert.equal(origin.count, originBefore, "nothing reached the origin");
    // The active organisation's own API passes.
    const ok = await worker.fetch("/orgs/beta/api/items", { headers: { cookie, accept: "application/json" } });
    assert.equal(ok.status, 200);
    assert.equal(origin.last().headers["x-auth-org-slug"], "beta");
  });

  test("an_organisation_the_user_cannot_activate_gives_up_after_three_handshakes", async () => {
    fapi.setActiveOrg("org_beta");
    const jar = jarWith({ __session: sessionFor(key, ORGS[1]), __client_uat: String(nowSeconds() - 100) });
    const seenBefore = fapi.seen.length;
    const originBefore = origin.count;
    const { res, hops } = await navigate(worker, "/orgs/nope/x", jar);
    const toStub = hops.filter((h) => h.location.origin === fapi.url);
    assert.equal(toStub.length, 3, `three handshakes, then no more: ${JSON.stringify(hops)}`);
    assert.ok(toStub.every((h) => h.location.searchParams.get("organization_id") === "nope"));
    const asked = fapi.seen.slice(seenBefore).filter((s) => s.path === "/v1/client/handshake");
    assert.equal(asked.length, 3);
    // Unlike Clerk, never the page with another organisation's session: a 403 page.
    assert.equal(res.status, 403, await res.clone().text());
    assert.match(res.headers.get("content-type"), /^text\/html/);
    assert.equal(res.headers.get("x-edgegate-auth-reason"), "organization-mismatch");
    assert.equal(origin.count, originBefore, "the origin never saw /orgs/nope with beta's session");
    assert.equal(fapi.activeOrg, "org_beta", "the active organisation stayed");
  });
});

describe("organisation sync in headless Chromium", () => {
  const key = generateKeys("RS256");
  let browser;
  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: scripts/setup.sh installs it`);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
    });
  });
  after(async () => {
    await browser?.close();
  });
  const { worker, fapi } = useGateway({
    key,
    frontendApi: { sub: "user_org", organizations: ORGS, activeOrg: "org_beta" },
    settings: SYNC_SETTINGS,
    respond: (r) => ({
      status: 200,
      headers: { "content-type": "text/html" },
      body: `<!doctype html><title>Org</title><h1 id="org">${r.headers["x-auth-org-slug"] ?? "personal"}</h1>`,
    }),
  });

  test("following_a_link_to_another_organisation_lands_with_it_active", async () => {
    const context = await browser.newContext();
    const beta = sessionFor(key, ORGS[1]);
    await context.addCookies([
      { name: "__session", value: beta, url: worker.url },
      { name: "__client_uat", value: String(nowSeconds() - 100), url: worker.url },
    ]);
    const page = await context.newPage();
    const seenBefore = fapi.seen.length;
    const response = await page.goto(`${worker.url}/orgs/acme/dash?tab=2`);
    assert.equal(response.status(), 200);
    assert.equal(page.url(), `${worker.url}/orgs/acme/dash?tab=2`, "back on the page asked for, URL cleaned");
    assert.equal((await page.textContent("#org")).trim(), "acme");
    const asked = fapi.seen.slice(seenBefore).filter((s) => s.path === "/v1/client/handshake");
    assert.deepEqual(
      asked.map((s) => s.query.organization_id),
      ["acme"],
    );
    const jar = await context.cookies(worker.url);
    const fresh = jar.find((c) => c.name === "__session");
    assert.ok(fresh && fresh.value !== beta, "a fresh session cookie is in the browser's jar");
    // Back to the personal account.
    await page.goto(`${worker.url}/me`);
    assert.equal((await page.textContent("#org")).trim(), "personal");
    assert.equal(page.url(), `${worker.url}/me`);
    await context.close();
  });
});
