// Real-browser tests: headless Chromium (Debian's package) driven by playwright-core, against the
// built worker in workerd with a real origin and a Frontend API stub on loopback. Screenshots are
// kept in tests/artifacts/ (git-ignored) for a person to look at. Playwright gives every launch a
// fresh, empty profile of its own.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import {
  APP_ORIGIN,
  ROOT,
  baseSettings,
  generateKeys,
  mintToken,
  nowSeconds,
  sessionClaims,
  startFrontendApi,
  startOrigin,
  startWorker,
} from "./helpers.mjs";

const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const ARTIFACTS = join(ROOT, "tests", "artifacts");
const PK_LIVE = `pk_live_${Buffer.from("clerk.edgegate.test$").toString("base64")}`;

async function launch() {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: scripts/setup.sh installs it`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      "--disable-quic",
      "--disable-sync",
    ],
  });
}

describe("the session page and the handshake in headless Chromium", () => {
  const key = generateKeys("RS256");
  let origin, fapi, worker, browser;

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    origin = await startOrigin({
      respond: (r) =>
        r.path === "/dash"
          ? {
              status: 200,
              headers: { "content-type": "text/html" },
              body: `<!doctype html><title>Dashboard</title><h1 id="who">${r.headers["x-auth-user-id"] ?? "nobody"}</h1>`,
            }
          : null,
    });
    fapi = await startFrontendApi(key, { sub: "user_browser_fresh" });
    worker = await startWorker({
      bindings: baseSettings({
        publicPem: key.publicPem,
        originUrl: origin.url,
        PUBLISHABLE_KEY: PK_LIVE,
        FRONTEND_API_URL: fapi.url,
        SIGN_IN_URL: "https://accounts.edgegate.test/sign-in",
      }),
    });
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await worker?.dispose();
    await fapi?.close();
    await origin?.close();
  });

  test("signed_in_person_sees_who_they_are_on_the_session_page", async () => {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    const now = nowSeconds();
    const token = mintToken({
      privatePem: key.privatePem,
      claims: sessionClaims({
        azp: APP_ORIGIN,
        sub: "user_2browser",
        iat: now,
        nbf: now,
        exp: now + 60,
        o: { id: "org_acme", rol: "admin", slg: "acme", per: "read,manage", fpm: "3" },
        fea: "o:billing",
      }),
    });
    await context.addCookies([
      { name: "__session", value: token, url: worker.url },
      { name: "__client_uat", value: String(now - 10), url: worker.url },
    ]);
    const page = await context.newPage();
    await page.goto(`${worker.url}/__edgegate/`);
    await page.waitForSelector("#state-signed-in:not([hidden])", { timeout: 10000 });
    assert.equal((await page.textContent("#user-id")).trim(), "user_2browser");
    assert.match(await page.textContent("#org"), /org_acme|acme/);
    assert.match(await page.textContent("#org-role"), /org:admin/);
    const permissions = await page.$$eval("#permissions .chip", (els) => els.map((e) => e.textContent.trim()));
    assert.deepEqual(permissions.sort(), ["org:billing:manage", "org:billing:read"]);
    const first = (await page.textContent("#countdown")).trim();
    await page.waitForTimeout(1200);
    const second = (await page.textContent("#countdown")).trim();
    assert.notEqual(first, second, "the expiry countdown moves");
    await page.screenshot({ path: join(ARTIFACTS, "session-signed-in.png"), fullPage: true });
    await context.close();
  });

  test("signed_out_person_sees_a_sign_in_link", async () => {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${worker.url}/__edgegate/`);
    await page.waitForSelector("#state-signed-out:not([hidden])", { timeout: 10000 });
    const href = await page.getAttribute("#sign-in", "href");
    assert.ok(href.startsWith("https://accounts.edgegate.test/sign-in?redirect_url="), href);
    await page.screenshot({ path: join(ARTIFACTS, "session-signed-out.png"), fullPage: true });
    await context.close();
  });

  test("expired_session_cookie_round_trips_through_the_handshake_to_the_origin_page", async () => {
    const context = await browser.newContext();
    const now = nowSeconds();
    const stale = mintToken({
      privatePem: key.privatePem,
      claims: sessionClaims({ azp: APP_ORIGIN, sub: "user_browser_fresh", iat: now - 180, nbf: now - 180, exp: now - 120 }),
    });
    await context.addCookies([
      { name: "__session", value: stale, url: worker.url },
      { name: "__client_uat", value: String(now - 200), url: worker.url },
    ]);
    const page = await context.newPage();
    const response = await page.goto(`${worker.url}/dash?tab=2`);
    assert.equal(response.status(), 200);
    assert.equal(page.url(), `${worker.url}/dash?tab=2`, "back on the page asked for, URL cleaned");
    assert.equal((await page.textContent("#who")).trim(), "user_browser_fresh");
    const jar = await context.cookies(worker.url);
    const fresh = jar.find((c) => c.name === "__session");
    assert.ok(fresh && fresh.value !== stale, "a fresh session cookie is in the browser's jar");
    assert.ok(!jar.some((c) => c.name === "__edgegate_hs_state" && c.value), "state cookie cleared");
    await page.screenshot({ path: join(ARTIFACTS, "handshake-landed.png") });
    await context.close();
  });
});
