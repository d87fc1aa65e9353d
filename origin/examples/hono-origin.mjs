// A small Hono origin behind edgegate, on @hono/node-server: every route answers the verified
// identity as JSON; /public/* also lets signed-out requests (still with a genuine assertion)
// through. Used by the kit's tests and by the project's end-to-end suite; run it by hand with
//
//   PORT=3000 node origin/examples/hono-origin.mjs
//
// which verifies with ORIGIN_ASSERTION_SECRET, else with the development secret of
// `bash scripts/dev.sh` (dev-secret.mjs).
import { Hono } from "hono";
import { serve } from "@hono/node-server";
import { pathToFileURL } from "node:url";
import { MemoryReplayCache } from "../index.js";
import { edgegate } from "../hono.js";
import { exampleSecret } from "./dev-secret.mjs";

/**
 * The app. `audience` may be a function (the port is known only once the server listens).
 * `replayCache` defaults to a cache of this app's own. `tap(request)`, when given, sees every
 * raw Request before verification (the tests use it to capture an assertion).
 */
export function honoOrigin({ secret, audience, replayCache = new MemoryReplayCache(), clockToleranceSec, tap }) {
  const common = { secret, audience, replayCache, clockToleranceSec };
  const app = new Hono();
  if (tap) {
    app.use("*", async (c, next) => {
      tap(c.req.raw);
      await next();
    });
  }
  const echo = (c) =>
    c.json({
      identity: c.get("edgegate"),
      method: c.req.method,
      url: c.req.url,
    });
  app.all("/public/*", edgegate({ ...common, allowSignedOut: true }), echo);
  app.all("*", edgegate(common), echo);
  return app;
}

/** Starts the app on 127.0.0.1 (port 0: a free one). Returns {url, port, app, close}. */
export async function startHonoOrigin({ secret, port = 0, hostname = "127.0.0.1", ...rest }) {
  let audience = null;
  const app = honoOrigin({ secret, audience: () => audience, ...rest });
  const server = await new Promise((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port, hostname }, () => resolve(s));
    s.once("error", reject);
  });
  const address = server.address();
  const url = `http://${hostname}:${address.port}`;
  audience = url;
  return {
    url,
    port: address.port,
    app,
    async close() {
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const secret = exampleSecret();
  const o = await startHonoOrigin({ secret, port: Number(process.env.PORT ?? 8788) });
  console.log(`hono origin on ${o.url} (audience ${o.url})`);
}
