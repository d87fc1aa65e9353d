// Express (and plain node:http) middleware: verifies X-Edgegate-Assertion, sets req.edgegate to
// the identity, and answers 401 {"error":"unauthenticated","reason":code} otherwise.
import { AssertionError, prepareOptions, secretBytes, verifyAssertion } from "./index.js";

export { AssertionError, verifyAssertion } from "./index.js";

/**
 * A WHATWG-like view of a node/Express request for verifyAssertion: the method, the path and
 * query exactly as received (`originalUrl`, which routers do not rewrite), and the headers.
 */
export function requestView(req) {
  return {
    method: req.method,
    url: req.originalUrl ?? req.url,
    headers: {
      get(name) {
        const v = req.headers[String(name).toLowerCase()];
        if (v === undefined) return null;
        return Array.isArray(v) ? v.join(", ") : String(v);
      },
    },
  };
}

// Requests already verified (two middlewares on one route verify once, not as a replay).
const verified = new WeakMap();

function unauthenticated(res, reason) {
  const body = JSON.stringify({ error: "unauthenticated", reason });
  res.statusCode = 401;
  res.setHeader("content-type", "application/json; charset=utf-8");
  res.setHeader("cache-control", "no-store");
  res.setHeader("content-length", Buffer.byteLength(body));
  res.end(body);
}

/**
 * @param {{
 *   secret: string | Uint8Array,
 *   audience: string,
 *   clockToleranceSec?: number,
 *   replayCache?: false | {markUsed(jti: string, forgetAfter: number): boolean | Promise<boolean>},
 *   allowSignedOut?: boolean,
 * }} options
 */
export function edgegate(options) {
  if (options === null || typeof options !== "object") {
    throw new TypeError("edgegate(): options {secret, audience} are required");
  }
  const { secret, allowSignedOut = false, ...rest } = options;
  if (typeof allowSignedOut !== "boolean") throw new TypeError("edgegate(): allowSignedOut must be a boolean");
  const key = secretBytes(secret);
  const opts = prepareOptions(rest);

  return function edgegateMiddleware(req, res, next) {
    const done = (identity) => {
      verified.set(req, identity);
      req.edgegate = identity;
      if (!identity.signedIn && !allowSignedOut) return unauthenticated(res, "signed-out");
      next();
    };
    const known = verified.get(req);
    if (known) return done(known);
    verifyAssertion(requestView(req), key, opts).then(done, (e) => {
      if (e instanceof AssertionError) return unauthenticated(res, e.code);
      next(e);
    });
  };
}

export default edgegate;
