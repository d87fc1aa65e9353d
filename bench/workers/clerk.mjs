// Baseline (b): Clerk's own SDK at the edge. `verifyToken` with a local `jwtKey` (no network
// call to Clerk), then the same proxying as the pass-through worker. Bundled by esbuild.
import { verifyToken } from "@clerk/backend";

export default {
  async fetch(request, env) {
    const header = request.headers.get("authorization") ?? "";
    const token = header.startsWith("Bearer ") ? header.slice(7) : "";
    // The package's public verifyToken returns the payload and throws on any failure.
    let data;
    try {
      data = await verifyToken(token, {
        jwtKey: env.CLERK_JWT_KEY,
        authorizedParties: [env.AUTHORIZED_PARTIES],
      });
    } catch (e) {
      return new Response(JSON.stringify({ error: e?.reason ?? "unauthorized" }), {
        status: 401,
        headers: { "content-type": "application/json" },
      });
    }
    const url = new URL(request.url);
    const headers = new Headers(request.headers);
    headers.delete("authorization");
    headers.set("x-auth-user-id", data.sub);
    return fetch(env.ORIGIN_URL + url.pathname + url.search, {
      method: request.method,
      headers,
      redirect: "manual",
    });
  },
};
