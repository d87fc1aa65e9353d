// Real-browser tests: headless Chromium (Debian's package) driven by playwright-core, against the
// built worker in workerd with a real origin and a Frontend API stub on loopback. Screenshots are
// kept in tests/artifacts/ (git-ignored) for a person to look at, the session page's at desktop
// (1280 px) and phone (360 px) widths; the assertions are on the DOM, never on pixels. Playwright
// gives every launch a fresh, empty profile of its own.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
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
  useGateway,
} from "./helpers.mjs";

const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const ARTIFACTS = join(ROOT, "tests", "artifacts");
const SHOTS = join(ARTIFACTS, "session-page");
const PK_LIVE = `pk_live_${Buffer.from("clerk.edgegate.test$").toString("base64")}`;
const PK_TEST = `pk_test_${Buffer.from("foo-bar-12.clerk.accounts.dev$").toString("base64")}`;
const WIDTHS = [1280, 360];

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

const shot = (page, name, width) => page.screenshot({ path: join(SHOTS, `${name}-${width}.png`), fullPage: true });
const visible = (page, selector) => page.isVisible(selector);

/** A browser context whose cookie jar holds a session for `claims` on `worker`. */
async function signedIn(browser, worker, key, width, claims) {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  const now = nowSeconds();
  const token = mintToken({
    privatePem: key.privatePem,
    claims: sessionClaims({ azp: APP_ORIGIN, iat: now, nbf: now, exp: now + 60, ...claims }),
  });
  await context.addCookies([
    { name: "__session", value: token, url: worker.url },
    { name: "__client_uat", value: String(now - 10), url: worker.url },
  ]);
  return context;
}

async function openSessionPage(context, worker, state) {
  const page = await context.newPage();
  await page.goto(`${worker.url}/__edgegate/`);
  await page.waitForSelector(`#state-${state}:not([hidden])`, { timeout: 10000 });
  return page;
}

/** The codes a `code()` function in a Rust source returns (its string literals). */
/** The codes every `pub fn code(&self)` of a Rust file returns. */
function rustCodes(file) {
  const src = readFileSync(join(ROOT, file), "utf8");
  const bodies = src.split("pub fn code(&self)").slice(1);
  assert.ok(bodies.length > 0, `${file} has a code()`);
  return bodies.flatMap((rest) => [...rest.slice(0, rest.indexOf("\n    }\n")).matchAll(/"([a-z][a-z0-9-]+)"/g)].map((m) => m[1]));
}

describe("the session page and the handshake in headless Chromium", () => {
  const key = generateKeys("RS256");
  let browser;
  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
  });
  const { origin, worker } = useGateway({
    key,
    frontendApi: { sub: "user_browser_fresh" },
    settings: { PUBLISHABLE_KEY: PK_LIVE, SIGN_IN_URL: "https://accounts.edgegate.test/sign-in" },
    respond: (r) =>
      r.path === "/dash"
        ? {
            status: 200,
            headers: { "content-type": "text/html" },
            body: `<!doctype html><title>Dashboard</title><h1 id="who">${r.headers["x-auth-user-id"] ?? "nobody"}</h1>`,
          }
        : null,
  });

  test("signed_in_person_sees_who_they_are_on_the_session_page", async () => {
    for (const width of WIDTHS) {
      const context = await signedIn(browser, worker, key, width, {
        sub: "user_2browser",
        o: { id: "org_acme", rol: "admin", slg: "acme", per: "read,manage", fpm: "3" },
        fea: "o:billing",
      });
      const page = await openSessionPage(context, worker, "signed-in");
      assert.equal((await page.textContent("#user-id")).trim(), "user_2browser");
      assert.match(await page.textContent("#org"), /org_acme|acme/);
      assert.match(await page.textContent("#org-role"), /org:admin/);
      const permissions = await page.$$eval("#permissions .chip", (els) => els.map((e) => e.textContent.trim()));
      assert.deepEqual(permissions.sort(), ["org:billing:manage", "org:billing:read"]);
      // The countdown is the token's refresh, in seconds, and it moves.
      assert.equal((await page.textContent("#countdown-label")).trim(), "Session token refreshes in");
      const first = (await page.textContent("#countdown")).trim();
      assert.match(first, /^\d+ s$/);
      await page.waitForTimeout(1200);
      const second = (await page.textContent("#countdown")).trim();
      assert.notEqual(first, second, "the refresh countdown moves");
      assert.doesNotMatch(await page.textContent("#state-signed-in"), /expire/i);
      await shot(page, "signed-in", width);
      await page.emulateMedia({ colorScheme: "dark" });
      await shot(page, "signed-in-dark", width);
      await context.close();
    }
  });

  test("avatars_differ_per_user_and_use_initials_when_the_token_names_the_person", async () => {
    const avatarOf = async (claims) => {
      const context = await signedIn(browser, worker, key, 1280, claims);
      const page = await openSessionPage(context, worker, "signed-in");
      const got = await page.$eval("#avatar", (el) => ({ text: el.textContent, bg: el.style.background }));
      const line = await page.textContent("#session-line");
      await context.close();
      return { ...got, line };
    };
    // Clerk user ids all start "user_2": the avatar comes from a hash of the whole id.
    const a = await avatarOf({ sub: "user_2aB3cD4eF5gH6iJ7kL8mN9oP0qR" });
    const b = await avatarOf({ sub: "user_2zY9xW8vU7tS6rQ5pO4nM3lK2jI" });
    for (const v of [a, b]) {
      assert.match(v.text, /^[A-Z0-9]{2}$/);
      assert.ok(v.bg, "a colour of its own");
    }
    assert.ok(a.text !== b.text || a.bg !== b.bg, `two users, two avatars: ${JSON.stringify([a, b])}`);
    assert.deepEqual(await avatarOf({ sub: "user_2aB3cD4eF5gH6iJ7kL8mN9oP0qR" }), a, "stable per user");
    // Custom session claims with the person's name or email: their initials.
    const named = await avatarOf({ sub: "user_2named", name: "Ada Lovelace", email: "ada@example.com" });
    assert.equal(named.text, "AL");
    assert.match(named.line, /Ada Lovelace · ada@example\.com/);
    assert.equal((await avatarOf({ sub: "user_2mail", email: "grace.hopper@example.com" })).text, "GR");
  });

  test("a_token_due_for_refresh_never_reads_expired_while_signed_in", async () => {
    const context = await signedIn(browser, worker, key, 360, { sub: "user_2soon", exp: nowSeconds() + 2 });
    const page = await openSessionPage(context, worker, "signed-in");
    await page.waitForFunction(() => document.getElementById("countdown").textContent === "due for refresh", null, {
      timeout: 6000,
    });
    assert.equal((await page.textContent("#countdown-label")).trim(), "Session token");
    assert.ok(await visible(page, "#refresh-due"), "a reload link once the token is due");
    assert.ok(await visible(page, "#state-signed-in"));
    assert.doesNotMatch(await page.textContent("#state-signed-in"), /expire/i);
    await page.waitForTimeout(1100); // the meter's last second of transition, for the screenshot
    await shot(page, "token-due", 360);
    await context.close();
  });

  test("signed_out_person_sees_a_sign_in_link_and_the_reason_in_words", async () => {
    for (const width of WIDTHS) {
      const context = await browser.newContext({ viewport: { width, height: 900 } });
      const page = await openSessionPage(context, worker, "signed-out");
      const href = await page.getAttribute("#sign-in", "href");
      assert.ok(href.startsWith("https://accounts.edgegate.test/sign-in?redirect_url="), href);
      assert.equal(new URL(href).searchParams.get("redirect_url"), `${worker.url}/__edgegate/`);
      assert.ok(await visible(page, "#sign-in"));
      assert.equal(await visible(page, "#sign-in-missing"), false);
      const code = (await page.textContent("#reason-code")).trim();
      const sentence = (await page.textContent("#signed-out-reason")).trim();
      assert.match(code, /^[a-z-]+$/);
      assert.ok(!sentence.includes(code), `a sentence, not the code: ${sentence}`);
      assert.match(sentence, /^[A-Z].*\.$/);
      assert.match(await page.$eval("#reason-code", (el) => getComputedStyle(el).fontFamily), /mono/i);
      await shot(page, "signed-out", width);
      await context.close();
    }
  });

  test("a_refused_token_is_explained_in_a_sentence_with_its_code_beside_it", async () => {
    const context = await signedIn(browser, worker, key, 1280, { sub: "user_2elsewhere", azp: "https://other.example" });
    const page = await openSessionPage(context, worker, "signed-out");
    assert.equal((await page.textContent("#reason-code")).trim(), "token-invalid-authorized-parties");
    assert.match(await page.textContent("#signed-out-reason"), /issued for another site.*AUTHORIZED_PARTIES/);
    await context.close();
  });

  test("every_reason_code_the_session_endpoint_can_give_has_a_sentence", () => {
    const app = readFileSync(join(ROOT, "www", "app.js"), "utf8");
    const codes = ["src/clerk/auth_reason.rs", "src/token/token_error.rs"].flatMap(rustCodes);
    assert.ok(codes.length > 30, `found ${codes.length} codes`);
    const missing = codes.filter((c) => !app.includes(`"${c}": "`));
    assert.deepEqual(missing, [], "www/app.js REASONS lacks these codes");
  });

  test("the_curl_snippet_fits_its_box_and_copies", async () => {
    for (const width of WIDTHS) {
      const context = await browser.newContext({ viewport: { width, height: 900 } });
      await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: worker.url });
      const page = await openSessionPage(context, worker, "signed-out");
      const box = await page.$eval("#curl", (pre) => {
        const r = pre.getBoundingClientRect(), card = pre.closest("article").getBoundingClientRect();
        return { scroll: pre.scrollWidth, client: pre.clientWidth, right: r.right, cardRight: card.right, page: document.documentElement.scrollWidth };
      });
      assert.ok(box.scroll <= box.client + 1, `nothing hidden in the box at ${width}px: ${JSON.stringify(box)}`);
      assert.ok(box.right <= box.cardRight + 0.5, `inside its card at ${width}px: ${JSON.stringify(box)}`);
      assert.ok(box.page <= width, `no sideways page scroll at ${width}px: ${JSON.stringify(box)}`);
      await page.click("#copy-curl");
      await page.waitForFunction(() => document.getElementById("copy-curl").textContent !== "Copy", null, { timeout: 3000 });
      assert.equal((await page.textContent("#copy-curl")).trim(), "Copied");
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), (await page.textContent("#curl")).trim());
      await page.locator(".howto").screenshot({ path: join(SHOTS, `howto-${width}.png`) });
      await context.close();
    }
  });

  test("the_curl_example_calls_the_page_s_own_origin_and_the_origin_card_agrees_with_the_kit", async () => {
    // The suite's worker listens on 127.0.0.1, as under scripts/dev.sh.
    assert.match(worker.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await openSessionPage(context, worker, "signed-out");
    assert.equal((await page.textContent("#curl")).trim(), `curl -H "Authorization: Bearer $TOKEN" ${worker.url}/api/…`);
    const card = (await page.textContent("#at-origin")).replace(/\s+/g, " ");
    assert.match(card, /Verify X-Edgegate-Assertion with the origin kit, @edgegate\/origin/);
    assert.match(card, /X-Auth-User-Id/);
    await context.close();
  });

  test("the_favicon_is_the_gateways_own_svg_not_a_401_from_the_origin", async () => {
    const res = await worker.fetch("/__edgegate/favicon.svg");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type"), /^image\/svg\+xml/);
    assert.match(await res.text(), /^<svg /);
    const context = await browser.newContext();
    const page = await openSessionPage(context, worker, "signed-out");
    const icon = await page.$eval('link[rel="icon"]', (l) => ({ href: l.href, type: l.type }));
    assert.deepEqual(icon, { href: `${worker.url}/__edgegate/favicon.svg`, type: "image/svg+xml" });
    assert.equal(await page.evaluate(async (u) => (await fetch(u)).status, icon.href), 200);
    assert.ok(!origin.requests.some((r) => r.path === "/favicon.ico"), "no /favicon.ico went to the origin");
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

describe("the session page's sign-in link without SIGN_IN_URL", () => {
  const key = generateKeys("RS256");
  let origin, fapi, browser;
  const workers = [];
  const start = async (extra) => {
    const w = await startWorker({ bindings: baseSettings({ publicPem: key.publicPem, originUrl: origin.url, ...extra }) });
    workers.push(w);
    return w;
  };

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    origin = await startOrigin();
    fapi = await startFrontendApi(key);
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    for (const w of workers) await w.dispose();
    await fapi?.close();
    await origin?.close();
  });

  test("a_production_key_links_to_its_account_portal_with_the_way_back", async () => {
    const worker = await start({ PUBLISHABLE_KEY: PK_LIVE, FRONTEND_API_URL: fapi.url });
    for (const width of WIDTHS) {
      const context = await browser.newContext({ viewport: { width, height: 900 } });
      const page = await openSessionPage(context, worker, "signed-out");
      const href = new URL(await page.getAttribute("#sign-in", "href"));
      assert.equal(href.origin + href.pathname, "https://accounts.edgegate.test/sign-in");
      assert.equal(href.searchParams.get("redirect_url"), `${worker.url}/__edgegate/`);
      assert.ok(await visible(page, "#sign-in"));
      await shot(page, "signed-out-account-portal", width);
      await context.close();
    }
  });

  test("a_development_key_links_to_its_accounts_dev_portal", async () => {
    const worker = await start({ PUBLISHABLE_KEY: PK_TEST, FRONTEND_API_URL: fapi.url });
    const res = await worker.fetch("/__edgegate/session", { headers: { accept: "application/json" } });
    assert.equal(res.status, 401);
    const body = await res.json();
    const href = new URL(body.sign_in_url);
    assert.equal(href.origin + href.pathname, "https://foo-bar-12.accounts.dev/sign-in");
    assert.equal(href.searchParams.get("redirect_url"), `${worker.url}/__edgegate/`);
    assert.equal(res.headers.get("x-edgegate-sign-in-url"), body.sign_in_url);
  });

  test("neither_setting_says_what_to_configure_instead_of_a_dead_link", async () => {
    const worker = await start({});
    const res = await worker.fetch("/__edgegate/session", { headers: { accept: "application/json" } });
    assert.equal((await res.json()).sign_in_url, null);
    for (const width of WIDTHS) {
      const context = await browser.newContext({ viewport: { width, height: 900 } });
      const page = await openSessionPage(context, worker, "signed-out");
      assert.equal(await visible(page, "#sign-in"), false, "no link to a protected page");
      assert.ok(await visible(page, "#sign-in-missing"));
      const note = await page.textContent("#sign-in-missing");
      assert.match(note, /SIGN_IN_URL/);
      assert.match(note, /PUBLISHABLE_KEY/);
      await shot(page, "signed-out-unconfigured", width);
      await context.close();
    }
  });
});

describe("the unconfigured gateway in headless Chromium", () => {
  let worker, browser;
  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    // ORIGIN_URL missing and CLOCK_SKEW_MS out of range: every request is the deliberate 503.
    worker = await startWorker({ bindings: { CLERK_JWT_KEY: generateKeys("RS256").publicPem, AUTHORIZED_PARTIES: APP_ORIGIN, CLOCK_SKEW_MS: "999999" } });
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await worker?.dispose();
  });

  test("opening_the_session_page_shows_a_readable_page_that_leads_to_health", async () => {
    for (const width of WIDTHS) {
      const context = await browser.newContext({ viewport: { width, height: 900 } });
      const page = await context.newPage();
      const res = await page.goto(`${worker.url}/__edgegate/`);
      assert.equal(res.status(), 503);
      assert.equal((await page.textContent("h1")).trim(), "Gateway not configured");
      const text = await page.textContent("main");
      assert.match(text, /settings are missing or invalid/);
      assert.ok(!/999999|CLOCK_SKEW_MS|ORIGIN_URL/.test(text), text);
      const box = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(box <= width, `no sideways scroll at ${width}px`);
      await shot(page, "unconfigured", width);
      // The link leads to the list of what to fix (names, never values).
      await page.click('a[href="/__edgegate/health"]');
      await page.waitForURL(`${worker.url}/__edgegate/health`);
      const health = JSON.parse(await page.textContent("body"));
      assert.equal(health.valid, false);
      assert.ok(health.problems.some((p) => p.startsWith("ORIGIN_URL")), JSON.stringify(health));
      await context.close();
    }
  });
});
