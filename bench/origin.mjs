// The benchmark origin: a minimal node HTTP server on loopback, in its own process so that it
// does not share an event loop with the load generator. Prints its port on stdout.
import { createServer } from "node:http";

const body = JSON.stringify({ origin: true, ok: 1 });
const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    // Per-user data, as an authenticated API answers it: `private`, so no shared cache keeps it.
    res.writeHead(200, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
      "cache-control": "private",
    });
    res.end(body);
  });
});
server.keepAliveTimeout = 30_000;
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${server.address().port}\n`);
});
process.on("SIGTERM", () => process.exit(0));
process.on("disconnect", () => process.exit(0));
