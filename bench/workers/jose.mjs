// Peer (c): `jose` at the edge, the few lines a developer would write by hand. The PEM key
// imported once per isolate, `jwtVerify` on every request (no cache), `azp` checked against the
// same authorized parties as the others, then the same proxying as the @clerk/backend worker.
import { importSPKI, jwtVerify } from "jose";

let key; // one import per isolate (a promise, so concurrent first requests share it)
const unauthorized = () =>
  new Response('{"error":"unauthorized"}', { status: 401, headers: { "content-type": "application/json" } });

export default {
  async fetch(request, env) {
    const alg = env.JWT_ALG ?? "RS256"; // the harness's key: RS256 or ES256
    key ??= importSPKI(env.CLERK_JWT_KEY, alg);
    const header = request.headers.get("authorization") ?? "";
    const token = header.startsWith("Bearer ") ? header.slice(7) : "";
    let payload;
    try {
      ({ payload } = await jwtVerify(token, await key, { algorithms: [alg], clockTolerance: 5, requiredClaims: ["exp", "sub"] }));
    } catch {
      return unauthorized();
    }
    if (![env.AUTHORIZED_PARTIES].includes(payload.azp)) return unauthorized();
    const url = new URL(request.url);
    const headers = new Headers(request.headers);
    headers.delete("authorization");
    headers.set("x-auth-user-id", payload.sub);
    return fetch(env.ORIGIN_URL + url.pathname + url.search, { method: request.method, headers, redirect: "manual" });
  },
};
