#!/usr/bin/env node
// The demo origin for `scripts/dev.sh`: echoes what reached it, as JSON.
//   node scripts/demo-origin.mjs [PORT]     (127.0.0.1 only; default 8788)
import { createServer } from "node:http";

const port = Number(process.argv[2] ?? process.env.DEMO_ORIGIN_PORT ?? 8788);

const server = createServer((req, res) => {
  let bodyLength = 0;
  req.on("data", (chunk) => (bodyLength += chunk.length));
  req.on("end", () => {
    const url = new URL(req.url, "http://origin.invalid");
    const identity = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (name.startsWith("x-auth-") || name.startsWith("x-edgegate-") || name === "x-request-id") {
        identity[name] = value;
      }
    }
    const body = JSON.stringify(
      {
        origin: "edgegate demo origin",
        method: req.method,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: identity,
        body_length: bodyLength,
      },
      null,
      2,
    );
    res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
    res.end(body + "\n");
    console.log(`[demo-origin] ${req.method} ${req.url} user=${req.headers["x-auth-user-id"] ?? "-"}`);
  });
});

server.listen(port, "127.0.0.1", () => {
  console.log(`[demo-origin] listening on http://127.0.0.1:${port}`);
});
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => server.close(() => process.exit(0)));
