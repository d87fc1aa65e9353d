// Floor (f), the gateway floor: the jose + Map worker (floor d) plus the runtime work any gateway
// with edgegate's features pays, whatever language decides: client headers stripped by a name
// list and prefixes, five identity headers set, the origin fetch raced against a timeout timer,
// the response copied to add `Vary` and a status header, one JSON log line per request.
// Decisions are free here (a Map hit), so it prices the features themselves.
import { importSPKI, jwtVerify } from "jose";

const TOLERANCE = 5;
const LIMIT = 10_000;
const TIMEOUT_MS = 30_000;
const STRIP = new Set(["authorization", "connection", "keep-alive", "proxy-authorization", "te", "trailer", "upgrade",
  "x-original-url", "x-rewrite-url", "x-forwarded-prefix", "x-http-method-override", "x-middleware-subrequest"]);
const PREFIXES = ["x-auth-", "x-clerk-", "x-edgegate-"];
const verified = new Map(); // token -> payload
let key;
const unauthorized = () =>
  new Response('{"error":"unauthorized"}', { status: 401, headers: { "content-type": "application/json" } });

async function session(request, env) {
  const alg = env.JWT_ALG ?? "RS256";
  key ??= importSPKI(env.CLERK_JWT_KEY, alg);
  const header = request.headers.get("authorization") ?? "";
  const token = header.startsWith("Bearer ") ? header.slice(7) : "";
  let payload = verified.get(token);
  if (payload) {
    const now = Date.now() / 1000;
    if (payload.exp <= now - TOLERANCE || (payload.nbf ?? 0) > now + TOLERANCE) return null;
    return payload;
  }
  try {
    ({ payload } = await jwtVerify(token, await key, { algorithms: [alg], clockTolerance: TOLERANCE, requiredClaims: ["exp", "sub"] }));
  } catch {
    return null;
  }
  if (![env.AUTHORIZED_PARTIES].includes(payload.azp)) return null;
  verified.set(token, payload);
  if (verified.size > LIMIT) verified.delete(verified.keys().next().value);
  return payload;
}

export default {
  async fetch(request, env) {
    const started = Date.now();
    const payload = await session(request, env);
    if (!payload) return unauthorized();
    const url = new URL(request.url);
    const headers = new Headers(request.headers);
    for (const name of [...headers.keys()]) if (STRIP.has(name) || PREFIXES.some((p) => name.startsWith(p))) headers.delete(name);
    const requestId = request.headers.get("cf-ray") ?? crypto.randomUUID();
    headers.set("x-auth-status", "signed-in");
    headers.set("x-auth-user-id", payload.sub);
    headers.set("x-auth-session-id", payload.sid ?? "");
    headers.set("x-auth-org-id", payload.org_id ?? "");
    headers.set("x-request-id", requestId);
    let timer;
    const timeout = new Promise((resolve) => (timer = setTimeout(resolve, TIMEOUT_MS, null)));
    const fetched = await Promise.race([
      fetch(env.ORIGIN_URL + url.pathname + url.search, { method: request.method, headers, redirect: "manual" }),
      timeout,
    ]);
    clearTimeout(timer);
    if (!fetched) return new Response("origin timed out", { status: 504 });
    const response = new Response(fetched.body, fetched);
    response.headers.append("vary", "Authorization, Cookie");
    response.headers.set("x-edgegate-auth-status", "signed-in");
    const log = { request_id: requestId, method: request.method, path: url.pathname, outcome: "proxied", status: fetched.status };
    console.log(JSON.stringify({ ...log, auth_status: "signed-in", duration_ms: Date.now() - started }));
    return response;
  },
};
