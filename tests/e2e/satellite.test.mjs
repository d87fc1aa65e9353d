// Satellite domains end to end: two workers in workerd, a primary on http://127.0.0.1:P and a
// satellite on http://localhost:S (two hosts, so two cookie jars), each with its own Frontend
// API stub. A production satellite signs in on the primary and syncs through its own Frontend
// API on the way back (`__clerk_synced=false`), never loops when the primary has no session,
// and never redirects an API call; a development satellite syncs through the primary, which
// answers only to the satellite it lists; the primary refreshes its session once for a
// navigation from its satellite. Then the production round trip in headless Chromium.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";
import {
  APP_ORIGIN,
  baseSettings,
  freePort,
  generateKeys,
  mintToken,
  nowSeconds,
  sessionClaims,
  startFrontendApi,
  startOrigin,
  startWorker,
  PAGE,
  jarWith,
} from "./helpers.mjs";

const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const instance = Buffer.from("clerk.edgegate.test$").toString("base64");
const PK_LIVE = `pk_live_${instance}`;
const PK_TEST = `pk_test_${instance}`;

/** A session of the instance for a browser on `party`. */
function sessionFor(key, party) {
  const now = nowSeconds();
  return mintToken({
    privatePem: key.privatePem,
    claims: sessionClaims({ azp: party, sub: "user_sat", iat: now, nbf: now, exp: now + 60 }),
  });
}

/**
 * The pair: origin, two stubs, a primary and a satellite (`pk` for both, `satellite`/`primary`
 * extra settings). The primary's `/sign-in` is a page with a link back to its `redirect_url`.
 */
async function startPair(key, pk, { satellite = {}, primary = {} } = {}) {
  const [satPort, primPort] = [await freePort(), await freePort()];
  const satUrl = `http://localhost:${satPort}`;
  const primUrl = `http://127.0.0.1:${primPort}`;
  const origin = await startOrigin({
    respond: (r) => {
      const url = new URL(r.url, "http://origin");
      const back = url.searchParams.get("redirect_url") ?? "";
      const body =
        url.pathname === "/sign-in"
          ? `<!doctype html><title>Sign in</title><a id="continue" href="${back.replace(/"/g, "&quot;")}">Continue</a>`
          : `<!doctype html><title>App</title><h1 id="user">${r.headers["x-auth-user-id"] ?? "signed-out"}</h1>`;
      return { status: 200, headers: { "content-type": "text/html" }, body };
    },
  });
  const fapiSat = await startFrontendApi(key, { sub: "user_sat", azp: "redirect" });
  const fapiPrim = await startFrontendApi(key, { sub: "user_sat", azp: "redirect" });
  const parties = `${APP_ORIGIN}, ${satUrl}, ${primUrl}`;
  const common = { publicPem: key.publicPem, originUrl: origin.url, AUTHORIZED_PARTIES: parties };
  const sat = await startWorker({
    bindings: baseSettings({
      ...common,
      PUBLISHABLE_KEY: pk,
      IS_SATELLITE: "true",
      DOMAIN: `localhost:${satPort}`,
      CLERK_PROXY_URL: fapiSat.url,
      SIGN_IN_URL: `${primUrl}/sign-in`,
      PUBLIC_ROUTES: "/, /pub(.*)",
      ...satellite,
    }),
    options: { port: satPort },
  });
  const prim = await startWorker({
    bindings: baseSettings({
      ...common,
      PUBLISHABLE_KEY: pk,
      FRONTEND_API_URL: fapiPrim.url,
      SIGN_IN_URL: "/sign-in",
      PUBLIC_ROUTES: "/sign-in(.*), /pub(.*)",
      SATELLITE_DOMAINS: satUrl,
      ...primary,
    }),
    options: { port: primPort },
  });
  const satWorker = { ...sat, url: satUrl };
  return {
    origin,
    fapiSat,
    fapiPrim,
    sat: satWorker,
    prim,
    async close() {
      await sat.dispose();
      await prim.dispose();
      await fapiSat.close();
      await fapiPrim.close();
      await origin.close();
    },
  };
}

/**
 * A page load followed as a browser would, across both workers (each with its jar) and the
 * stubs, until an answer that is not a 307. Returns it, the hops and the last URL.
 */
async function navigate(pair, start, jars) {
  const hops = [];
  let url = new URL(start);
  for (let i = 0; i < 20; i++) {
    const worker = url.origin === pair.sat.url ? "sat" : url.origin === pair.prim.url ? "prim" : null;
    const res = worker
      ? await fetch(url, { redirect: "manual", headers: { ...PAGE, cookie: jars[worker].header() } })
      : await fetch(url, { redirect: "manual" });
    if (worker) jars[worker].take(res);
    if (res.status !== 307) return { res, hops, url };
    const location = new URL(res.headers.get("location"), url);
    // A handshake names its reason in the Frontend API URL; a refusal in its header.
    const reason = res.headers.get("x-edgegate-auth-reason") ?? location.searchParams.get("__clerk_hs_reason");
    hops.push({ at: worker ?? url.origin, status: res.headers.get("x-edgegate-auth-status"), reason, location });
    url = location;
  }
  throw new Error(`more than 20 redirects: ${JSON.stringify(hops)}`);
}

const handshakes = (stub, since) => stub.seen.slice(since).filter((s) => s.path === "/v1/client/handshake");

describe("a production satellite and its primary, each with a Frontend API stub", () => {
  const key = generateKeys("RS256");
  let pair;
  before(async () => {
    pair = await startPair(key, PK_LIVE);
  });
  after(async () => {
    await pair?.close();
  });

  test("sign_in_on_the_primary_then_the_satellite_syncs_through_its_frontend_api", async () => {
    const jars = { sat: jarWith(), prim: jarWith() };
    const satSeen = pair.fapiSat.seen.length;
    // 1. The first visit: no sync (Clerk Core 3), straight to the primary's sign-in.
    const first = await fetch(`${pair.sat.url}/dashboard?tab=1`, { redirect: "manual", headers: PAGE });
    assert.equal(first.status, 307);
    assert.equal(first.headers.get("x-edgegate-auth-reason"), "session-token-and-uat-missing");
    const signIn = new URL(first.headers.get("location"));
    assert.equal(signIn.origin + signIn.pathname, `${pair.prim.url}/sign-in`);
    const back = signIn.searchParams.get("redirect_url");
    assert.equal(back, `${pair.sat.url}/dashboard?tab=1&__clerk_synced=false`);
    assert.equal(handshakes(pair.fapiSat, satSeen).length, 0, "no sync on a first visit");

    // 2. Signed in on the primary, the browser comes back and the satellite syncs.
    pair.fapiSat.setSignedIn(true);
    const { res, hops, url } = await navigate(pair, back, jars);
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(url.toString(), `${pair.sat.url}/dashboard?tab=1`, "the marker is gone once synced");
    assert.deepEqual(
      hops.map((h) => h.at),
      ["sat", pair.fapiSat.url, "sat"],
      "to the satellite's Frontend API, back with the handshake, then the clean URL",
    );
    assert.equal(hops[0].reason, "satellite-needs-syncing");
    assert.equal(hops[0].status, "handshake");
    const asked = handshakes(pair.fapiSat, satSeen);
    assert.equal(asked.length, 1);
    assert.ok(asked[0].query.redirect_url.includes("__clerk_synced=true"), "the way back is marked synced");
    assert.equal(pair.origin.last().headers["x-auth-user-id"], "user_sat");
    assert.ok(jars.sat.get("__session"), "the satellite has its own session cookie");

    // 3. The next page load goes straight through.
    const again = await fetch(`${pair.sat.url}/dashboard`, {
      redirect: "manual",
      headers: { ...PAGE, cookie: jars.sat.header() },
    });
    assert.equal(again.status, 200);
    assert.equal(handshakes(pair.fapiSat, satSeen).length, 1);
  });

  test("signed_out_at_the_primary_the_sync_comes_back_once_and_never_loops", async () => {
    pair.fapiSat.setSignedIn(false);
    const jars = { sat: jarWith(), prim: jarWith() };
    const satSeen = pair.fapiSat.seen.length;
    const { res, url } = await navigate(pair, `${pair.sat.url}/pub/page?__clerk_synced=false`, jars);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-edgegate-auth-status"), "signed-out");
    assert.equal(url.searchParams.get("__clerk_synced"), "true", "the loop guard stays in the URL");
    assert.equal(handshakes(pair.fapiSat, satSeen).length, 1, "one sync, no more");
    // Reloading that page starts no other sync; auto sync is off, so a plain visit neither.
    const reload = await navigate(pair, url.toString(), jars);
    assert.equal(reload.res.status, 200);
    await navigate(pair, `${pair.sat.url}/pub/other`, jars);
    assert.equal(handshakes(pair.fapiSat, satSeen).length, 1);
    pair.fapiSat.setSignedIn(true);
  });

  test("api_calls_and_form_posts_on_the_satellite_are_never_redirected", async () => {
    const satSeen = pair.fapiSat.seen.length;
    const api = await fetch(`${pair.sat.url}/api/items?__clerk_synced=false`, {
      redirect: "manual",
      headers: { accept: "application/json", "sec-fetch-dest": "empty" },
    });
    assert.equal(api.status, 401);
    assert.equal(api.headers.get("location"), null);
    const post = await fetch(`${pair.sat.url}/pub/form?__clerk_synced=false`, {
      method: "POST",
      redirect: "manual",
      headers: PAGE,
      body: "a=1",
    });
    assert.notEqual(post.status, 307);
    assert.ok(post.status < 500);
    assert.equal(handshakes(pair.fapiSat, satSeen).length, 0);
  });

  test("a_navigation_from_the_satellite_refreshes_the_primarys_session_once", async () => {
    const jars = {
      sat: jarWith(),
      prim: jarWith({ __session: sessionFor(key, pair.prim.url), __client_uat: String(nowSeconds() - 100) }),
    };
    const primSeen = pair.fapiPrim.seen.length;
    const first = await fetch(`${pair.prim.url}/dashboard`, {
      redirect: "manual",
      headers: { ...PAGE, cookie: jars.prim.header(), referer: `${pair.sat.url}/somewhere` },
    });
    assert.equal(first.status, 307);
    assert.equal(first.headers.get("x-edgegate-auth-status"), "handshake");
    const hs = new URL(first.headers.get("location"));
    assert.equal(hs.origin + hs.pathname, `${pair.fapiPrim.url}/v1/client/handshake`);
    assert.equal(hs.searchParams.get("__clerk_hs_reason"), "primary-domain-cross-origin-sync");
    assert.equal(handshakes(pair.fapiPrim, primSeen).length, 0);
    // From anywhere else, or the primary itself: straight through.
    for (const referer of ["https://search.example.org/", `${pair.prim.url}/x`]) {
      const res = await fetch(`${pair.prim.url}/dashboard`, {
        redirect: "manual",
        headers: { ...PAGE, cookie: jars.prim.header(), referer },
      });
      assert.equal(res.status, 200, referer);
    }
  });
});

describe("a development satellite syncs through its primary", () => {
  const key = generateKeys("RS256");
  let pair;
  before(async () => {
    pair = await startPair(key, PK_TEST);
  });
  after(async () => {
    await pair?.close();
  });

  test("the_primary_sends_its_dev_browser_back_and_the_satellite_signs_in", async () => {
    const jars = {
      sat: jarWith(),
      prim: jarWith({
        __clerk_db_jwt: "dvb_primary",
        __session: sessionFor(key, pair.prim.url),
        __client_uat: String(nowSeconds() - 100),
      }),
    };
    const satSeen = pair.fapiSat.seen.length;
    const { res, hops, url } = await navigate(pair, `${pair.sat.url}/dashboard?__clerk_synced=false`, jars);
    assert.equal(res.status, 200, await res.clone().text());
    assert.deepEqual(
      hops.map((h) => [h.at, h.status, h.reason]),
      [
        ["sat", "handshake", null],
        ["prim", "handshake", null],
        ["sat", "handshake", "dev-browser-sync"],
        [pair.fapiSat.url, null, null],
        ["sat", "handshake", null],
      ],
      JSON.stringify(hops),
    );
    const toPrimary = hops[0].location;
    assert.equal(toPrimary.origin + toPrimary.pathname, `${pair.prim.url}/sign-in`);
    assert.equal(toPrimary.searchParams.get("__clerk_redirect_url"), `${pair.sat.url}/dashboard?__clerk_synced=false`);
    const backToSat = hops[1].location;
    assert.equal(backToSat.searchParams.get("__clerk_synced"), "true");
    assert.equal(backToSat.searchParams.get("__clerk_db_jwt"), "dvb_primary");
    const asked = handshakes(pair.fapiSat, satSeen);
    assert.equal(asked.length, 1);
    assert.equal(asked[0].query.__clerk_db_jwt, "dvb_primary", "the satellite adopts the primary's dev browser");
    assert.equal(url.pathname, "/dashboard");
    assert.equal(pair.origin.last().headers["x-auth-user-id"], "user_sat");
  });

  test("a_signed_out_visit_goes_to_the_primarys_sign_in_with_the_satellites_dev_browser", async () => {
    const res = await fetch(`${pair.sat.url}/dashboard?tab=1`, {
      redirect: "manual",
      headers: { ...PAGE, cookie: "__clerk_db_jwt=dvb_sat; __client_uat=0" },
    });
    assert.equal(res.status, 307, await res.text());
    const to = new URL(res.headers.get("location"));
    assert.equal(to.origin + to.pathname, `${pair.prim.url}/sign-in`);
    assert.equal(to.searchParams.get("redirect_url"), `${pair.sat.url}/dashboard?tab=1&__clerk_synced=false`);
    assert.equal(to.searchParams.get("__clerk_db_jwt"), "dvb_sat", "Clerk's createRedirect, cross-origin");
  });

  test("the_primary_never_sends_a_browser_to_an_origin_it_does_not_list", async () => {
    const cookie = `__clerk_db_jwt=dvb_primary; __session=${sessionFor(key, pair.prim.url)}; __client_uat=${nowSeconds() - 100}`;
    const hostile = [
      "https://evil.example/steal",
      `http://localhost.evil.example:${new URL(pair.sat.url).port}/x`,
      `http://localhost:1/x`,
      `https://${new URL(pair.sat.url).host}/x`,
      `http://user@${new URL(pair.sat.url).host}/x`,
      "javascript:alert(1)",
      "//evil.example/x",
    ];
    for (const raw of hostile) {
      const res = await fetch(`${pair.prim.url}/pub/x?__clerk_redirect_url=${encodeURIComponent(raw)}`, {
        redirect: "manual",
        headers: { ...PAGE, cookie },
      });
      assert.ok(res.status < 500, raw);
      const to = res.headers.get("location") ?? "";
      assert.ok(!to.includes("evil.example") && !to.includes("dvb_primary"), `${raw} -> ${to}`);
    }
  });
});

describe("a production satellite in headless Chromium", () => {
  const key = generateKeys("RS256");
  let pair, browser;
  before(async () => {
    pair = await startPair(key, PK_LIVE);
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: scripts/setup.sh installs it`);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
      ],
    });
  });
  after(async () => {
    await browser?.close();
    await pair?.close();
  });

  test("a_visitor_signs_in_on_the_primary_and_lands_signed_in_on_the_satellite", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const satSeen = pair.fapiSat.seen.length;
    await page.goto(`${pair.sat.url}/dashboard?tab=1`);
    assert.equal(new URL(page.url()).origin, pair.prim.url, "on the primary's sign-in page");
    assert.equal(new URL(page.url()).pathname, "/sign-in");
    // The user signs in at the primary; its page sends the browser back.
    pair.fapiSat.setSignedIn(true);
    await Promise.all([page.waitForURL(`${pair.sat.url}/dashboard?tab=1`), page.click("#continue")]);
    assert.equal((await page.textContent("#user")).trim(), "user_sat");
    assert.equal(handshakes(pair.fapiSat, satSeen).length, 1, "one sync");
    const satCookies = await context.cookies(pair.sat.url);
    assert.ok(satCookies.some((c) => c.name === "__session" && c.value), "a session in the satellite's jar");
    const primCookies = await context.cookies(pair.prim.url);
    assert.ok(!primCookies.some((c) => c.name === "__session"), "the primary's jar is its own");
    // A reload keeps the session without another sync.
    await page.reload();
    assert.equal((await page.textContent("#user")).trim(), "user_sat");
    assert.equal(handshakes(pair.fapiSat, satSeen).length, 1);
    await context.close();
  });
});
