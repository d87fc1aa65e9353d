// Floor (d): the `jose` worker with a per-isolate cache of verified tokens. A Map from the whole
// token string to its verified payload; a hit re-checks exp and nbf (5 s tolerance) and skips
// the signature. Bounded: past 10,000 entries the oldest goes (Map keeps insertion order).
import { importSPKI, jwtVerify } from "jose";

const TOLERANCE = 5;
const LIMIT = 10_000;
const verified = new Map(); // token -> payload
let key;
const unauthorized = () =>
  new Response('{"error":"unauthorized"}', { status: 401, headers: { "content-type": "application/json" } });

export default {
  async fetch(request, env) {
    const alg = env.JWT_ALG ?? "RS256";
    key ??= importSPKI(env.CLERK_JWT_KEY, alg);
    const header = request.headers.get("authorization") ?? "";
    const token = header.startsWith("Bearer ") ? header.slice(7) : "";
    let payload = verified.get(token);
    if (payload) {
      const now = Date.now() / 1000;
      if (payload.exp <= now - TOLERANCE || (payload.nbf ?? 0) > now + TOLERANCE) {
        verified.delete(token);
        return unauthorized();
      }
    } else {
      try {
        ({ payload } = await jwtVerify(token, await key, {
          algorithms: [alg],
          clockTolerance: TOLERANCE,
          requiredClaims: ["exp", "sub"],
        }));
      } catch {
        return unauthorized();
      }
      if (![env.AUTHORIZED_PARTIES].includes(payload.azp)) return unauthorized();
      verified.set(token, payload);
      if (verified.size > LIMIT) verified.delete(verified.keys().next().value);
    }
    const url = new URL(request.url);
    const headers = new Headers(request.headers);
    headers.delete("authorization");
    headers.set("x-auth-user-id", payload.sub);
    return fetch(env.ORIGIN_URL + url.pathname + url.search, { method: request.method, headers, redirect: "manual" });
  },
};
