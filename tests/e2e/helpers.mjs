// Shared helpers for the end-to-end suite: a recording origin on loopback, the built worker in
// workerd (through Miniflare 4), and JWT minting with node:crypto (independent of the Rust code).
import { createServer } from "node:http";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before } from "node:test";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";

import { generateKeys, mintToken, sessionClaims } from "../../scripts/lib/jwt.mjs";

export { generateKeys, mintToken, sessionClaims };

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** The built worker; `EDGEGATE_BUILD_DIR` points a run at a copy (e.g. while build/ is rebuilt). */
export const BUILD_DIR = process.env.EDGEGATE_BUILD_DIR || join(ROOT, "build");
export const WWW_DIR = join(ROOT, "www");
/** The `azp` the tests use, listed in AUTHORIZED_PARTIES. */
export const APP_ORIGIN = "https://app.edgegate.test";

export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** The median of numbers (the mean of the two middle ones for an even count); for the bench. */
export function median(xs) {
  const v = [...xs].sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
}

/** compatibility_date from wrangler.toml, so the tests run the worker as deployed. */
export function compatibilityDate() {
  const toml = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  const m = toml.match(/^compatibility_date\s*=\s*"([0-9-]+)"/m);
  if (!m) throw new Error("wrangler.toml has no compatibility_date");
  return m[1];
}

/**
 * A real HTTP origin on 127.0.0.1 (random port) that records every request it receives.
 * `respond(req, body)` may return {status, headers, body} to override the default JSON echo.
 */
export async function startOrigin({ respond } = {}) {
  const requests = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const record = { method: req.method, url: req.url, path: req.url.split("?")[0], headers: req.headers, body };
      requests.push(record);
      const custom = respond?.(record);
      if (custom) {
        res.writeHead(custom.status ?? 200, custom.headers ?? {});
        res.end(custom.body ?? "");
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ origin: true, method: req.method, path: record.path }));
    });
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    get count() {
      return requests.length;
    },
    last() {
      return requests[requests.length - 1];
    },
    async close() {
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * The built worker (build/index.js + build/worker/index.wasm) in workerd, with www/ as the ASSETS
 * binding exactly as wrangler.toml mounts it (run_worker_first, no implicit HTML handling).
 * `bindings` are the settings (vars and secrets alike); `options` more Miniflare options (KV
 * namespaces, their persistence; `port` a fixed one). Returns {url, fetch, dispose}.
 */
export async function startWorker({ bindings = {}, script: which, options = {} } = {}) {
  const script = join(BUILD_DIR, "index.js");
  if (!existsSync(script) || !existsSync(join(BUILD_DIR, "worker", "index.wasm"))) {
    throw new Error(`${script} is missing: run \`bash scripts/build.sh\` first`);
  }
  if (which === "baseline") {
    // A pass-through JS worker: fetches the origin, nothing else (for comparisons).
    const mf = new Miniflare({
      modules: true,
      script: `export default { fetch(request, env) { const u = new URL(request.url);
        return fetch(env.ORIGIN_URL + u.pathname + u.search, { method: request.method,
          headers: request.headers, body: request.body, redirect: "manual" }); } };`,
      compatibilityDate: compatibilityDate(),
      bindings,
      host: "127.0.0.1",
      port: 0,
    });
    const url = (await mf.ready).toString().replace(/\/$/, "");
    return { url, mf, fetch: (path, init = {}) => fetch(url + path, { redirect: "manual", ...init }), dispose: () => mf.dispose() };
  }
  const mf = new Miniflare({
    name: "edgegate",
    modules: true,
    scriptPath: script,
    modulesRoot: BUILD_DIR,
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true }],
    compatibilityDate: compatibilityDate(),
    bindings,
    ...options,
    assets: {
      directory: WWW_DIR,
      binding: "ASSETS",
      routerConfig: { invoke_user_worker_ahead_of_assets: true, has_user_worker: true },
      assetConfig: { html_handling: "none", not_found_handling: "none" },
    },
    host: "127.0.0.1",
    port: options.port ?? 0,
  });
  const base = await mf.ready;
  const url = base.toString().replace(/\/$/, "");
  return {
    url,
    mf,
    /** A real HTTP request over loopback to the worker (not dispatchFetch). */
    fetch: (path, init = {}) => fetch(url + path, { redirect: "manual", ...init }),
    dispose: () => mf.dispose(),
  };
}

/**
 * Miniflare options that collect the worker's console lines (what `wrangler tail` shows);
 * `events(name)` gives the JSON lines whose `event` is `name`.
 */
export function logCollector() {
  const lines = [];
  const parse = (line) => {
    try {
      return JSON.parse(line);
    } catch {
      return null;
    }
  };
  return {
    lines,
    options: {
      handleStructuredLogs: ({ message }) => {
        lines.push(message);
      },
    },
    events: (name) => lines.map(parse).filter((v) => v?.event === name),
  };
}

/** A loopback port free now (for workers that must know each other's URL before starting). */
export async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Settings for a worker that trusts `publicPem` and proxies to `originUrl`. */
export function baseSettings({ publicPem, originUrl, ...extra }) {
  return {
    CLERK_JWT_KEY: publicPem,
    AUTHORIZED_PARTIES: APP_ORIGIN,
    ORIGIN_URL: originUrl,
    ...extra,
  };
}

/**
 * The set-up most describe blocks share: a recording origin (`startOrigin`), the built worker
 * proxying to it and trusting `key` (`baseSettings` plus `settings`) and, with `frontendApi`, a
 * Frontend API stub (`startFrontendApi`) that the worker's FRONTEND_API_URL names. Called in a
 * describe block (or at a file's top level), it registers there a `before` hook that starts them
 * (origin, stub, worker) and an `after` hook that stops them (worker, stub, origin):
 *
 *   const { origin, worker } = useGateway({ key, settings: { PUBLIC_ROUTES: "/public(.*)" } });
 *
 * - `key`: the key pair the worker trusts (its public PEM is CLERK_JWT_KEY).
 * - `settings`: the worker's settings beyond baseSettings' (they win over it and over the stub's
 *   FRONTEND_API_URL); or a function returning them, awaited in the `before` hook, for values known
 *   only then (a stub started by an earlier `before` hook of the block, a free port picked once
 *   the origin is up).
 * - `respond`: the recording origin's `respond` (see startOrigin).
 * - `startOrigin`: a function that starts another kind of origin instead of the recording one (one
 *   with `url` and `close()`, e.g. the origin kit's startHonoOrigin).
 * - `origin`: the `origin` another useGateway call of the same block returned: this worker proxies
 *   to that origin (a second worker with other settings), which this call neither starts nor stops.
 * - `frontendApi`: startFrontendApi's options (`{}`: its defaults); the stub signs with `key`.
 * - `options`: more Miniflare options (startWorker's `options`, e.g. a logCollector's).
 *
 * Returns `{ origin, worker, fapi }` at once, so that the block's tests can name them: each stands
 * for what the `before` hook started (startOrigin's, startWorker's and startFrontendApi's result,
 * every property and method) and throws when used before that hook has run. `fapi` only with
 * `frontendApi`.
 */
export function useGateway({
  key,
  settings = {},
  respond,
  startOrigin: start = () => startOrigin({ respond }),
  origin: sharedOrigin,
  frontendApi,
  options,
} = {}) {
  const live = {};
  before(async () => {
    live.origin = sharedOrigin ?? (await start());
    if (frontendApi) live.fapi = await startFrontendApi(key, frontendApi);
    const extra = typeof settings === "function" ? await settings() : settings;
    live.worker = await startWorker({
      bindings: baseSettings({
        publicPem: key.publicPem,
        originUrl: live.origin.url,
        ...(live.fapi && { FRONTEND_API_URL: live.fapi.url }),
        ...extra,
      }),
      options,
    });
  });
  after(async () => {
    await live.worker?.dispose();
    await live.fapi?.close();
    if (!sharedOrigin) await live.origin?.close();
  });
  return {
    origin: sharedOrigin ?? startedLater("the origin", () => live.origin),
    worker: startedLater("the worker", () => live.worker),
    ...(frontendApi && { fapi: startedLater("the Frontend API stub", () => live.fapi) }),
  };
}

/** A stand-in for what a `before` hook starts: `current()`'s properties once it is there. */
function startedLater(what, current) {
  return new Proxy(
    {},
    {
      get(_, name) {
        const target = current();
        if (target) {
          const value = Reflect.get(target, name, target);
          return typeof value === "function" ? value.bind(target) : value;
        }
        // Asked by `await` and by inspection: not there yet, rather than an error.
        if (typeof name === "symbol" || name === "then") return undefined;
        throw new Error(`${what} is used before useGateway's before hook started it`);
      },
    },
  );
}

export const bearer = (token) => ({ authorization: `Bearer ${token}` });

/** The headers of a browser's document navigation. */
export const PAGE = { "sec-fetch-dest": "document", accept: "text/html" };

/** A cookie jar that follows Set-Cookie (a `Max-Age=0` deletes). */
export function jarWith(pairs = {}) {
  const jar = new Map(Object.entries(pairs));
  return {
    header: () => [...jar].map(([n, v]) => `${n}=${v}`).join("; "),
    take(res) {
      for (const c of res.headers.getSetCookie()) {
        const [pair, ...attrs] = c.split(";");
        const at = pair.indexOf("=");
        const name = pair.slice(0, at).trim();
        if (attrs.some((a) => /^\s*max-age=0\s*$/i.test(a))) jar.delete(name);
        else jar.set(name, pair.slice(at + 1));
      }
    },
    get: (name) => jar.get(name),
  };
}

/**
 * A Frontend API stub on loopback: `/v1/client/handshake` mints a handshake token (a fresh session
 * for `sub`, `__client_uat`, and `extraCookies`) with the test key and sends the browser back to
 * `redirect_url` with `__clerk_handshake`; `/v1/environment` answers 200 (the outage check).
 * Every request's path and query are recorded in `seen`.
 *
 * Organisations, as Clerk's Frontend API activates them: `organizations` ({id, slug, role}) are
 * the user's memberships and `activeOrg` the id active at first (none: the personal account). A
 * handshake with `organization_id` activates the membership with that id or slug (an empty
 * value: the personal account; one the user has not: the active one stays), and the session
 * minted carries the active organisation in v2's `o` claim.
 *
 * Satellites: `azp` is the session's authorised party (`"redirect"`: the origin of
 * `redirect_url`, as Clerk mints for the app that asked); with `signedIn` false (or after
 * `setSignedIn(false)`) the handshake carries Clerk's signed-out cookies (`__session` cleared,
 * `__client_uat=0`).
 */
export async function startFrontendApi(
  key,
  {
    sub = "user_handshake",
    extraCookies = [],
    organizations = [],
    activeOrg = null,
    azp = APP_ORIGIN,
    signedIn = true,
  } = {},
) {
  const seen = [];
  let active = activeOrg;
  let signedInNow = signedIn;
  const activate = (asked) => {
    if (asked === null) return;
    if (asked === "") {
      active = null;
      return;
    }
    const found = organizations.find((o) => o.id === asked || o.slug === asked);
    if (found) active = found.id;
  };
  const orgClaim = () => {
    const org = organizations.find((o) => o.id === active);
    return org ? { o: { id: org.id, slg: org.slug, rol: org.role ?? "member" } } : {};
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url, "http://stub");
    seen.push({ path: url.pathname, query: Object.fromEntries(url.searchParams) });
    if (url.pathname === "/v1/environment") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
      return;
    }
    if (url.pathname !== "/v1/client/handshake") {
      res.writeHead(404);
      res.end();
      return;
    }
    const now = nowSeconds();
    const back = new URL(url.searchParams.get("redirect_url"));
    activate(url.searchParams.get("organization_id"));
    const party = azp === "redirect" ? back.origin : azp;
    const session = mintToken({
      privatePem: key.privatePem,
      claims: sessionClaims({ azp: party, sub, iat: now, nbf: now, exp: now + 60, ...orgClaim() }),
    });
    const cookies = signedInNow
      ? [`__session=${session}; Path=/; SameSite=Lax`, `__client_uat=${now}; Path=/; SameSite=Lax`]
      : ["__session=; Path=/; Max-Age=0; SameSite=Lax", "__client_uat=0; Path=/; SameSite=Lax"];
    // A development instance's Frontend API plants the dev browser on the app's domain too.
    const devBrowser = url.searchParams.get("__clerk_db_jwt");
    if (devBrowser) cookies.push(`__clerk_db_jwt=${devBrowser}; Path=/; SameSite=Lax`);
    const handshake = mintToken({
      privatePem: key.privatePem,
      claims: { iat: now, handshake: [...cookies, ...extraCookies] },
    });
    back.searchParams.set("__clerk_handshake", handshake);
    res.writeHead(307, { location: back.toString() });
    res.end();
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    seen,
    /** The organisation id active now (null: the personal account). */
    get activeOrg() {
      return active;
    },
    /** Signs the user in or out at the Frontend API, as the primary's sign-in page would. */
    setSignedIn(value) {
      signedInNow = value;
    },
    /** Sets the active organisation, as a switch in another tab would. */
    setActiveOrg(id) {
      active = id;
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

