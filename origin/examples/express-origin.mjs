// The same origin with Express: every route answers req.edgegate as JSON; /public/* also lets
// signed-out requests (with a genuine assertion) through.
//
//   PORT=3000 node origin/examples/express-origin.mjs
//
// with ORIGIN_ASSERTION_SECRET, else the development secret of `bash scripts/dev.sh`
// (dev-secret.mjs).
import express from "express";
import { pathToFileURL } from "node:url";
import { MemoryReplayCache } from "../index.js";
import { edgegate } from "../express.js";
import { exampleSecret } from "./dev-secret.mjs";

export function expressOrigin({ secret, audience, replayCache = new MemoryReplayCache(), clockToleranceSec }) {
  const common = { secret, audience, replayCache, clockToleranceSec };
  const app = express();
  app.disable("x-powered-by");
  const echo = (req, res) => res.json({ identity: req.edgegate, method: req.method, url: req.originalUrl });
  app.all("/public/{*rest}", edgegate({ ...common, allowSignedOut: true }), echo);
  app.use(edgegate(common), echo);
  return app;
}

/** Listens on 127.0.0.1 first (to learn the port, hence the audience), then mounts the app. */
export async function startExpressOrigin({ secret, port = 0, hostname = "127.0.0.1", ...rest }) {
  const outer = express();
  const server = await new Promise((resolve, reject) => {
    const s = outer.listen(port, hostname, (err) => (err ? reject(err) : resolve(s)));
  });
  const url = `http://${hostname}:${server.address().port}`;
  outer.use(expressOrigin({ secret, audience: url, ...rest }));
  return {
    url,
    port: server.address().port,
    async close() {
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const secret = exampleSecret();
  const o = await startExpressOrigin({ secret, port: Number(process.env.PORT ?? 8788) });
  console.log(`express origin on ${o.url} (audience ${o.url})`);
}
