// Hono middleware: verifies X-Edgegate-Assertion, sets c.get("edgegate") to the identity, and
// answers 401 {"error":"unauthenticated","reason":code} otherwise. Needs no runtime import of hono.
import { AssertionError, prepareOptions, secretBytes, verifyAssertion } from "./index.js";

export { AssertionError, verifyAssertion } from "./index.js";

/** The context variable the identity is stored under. */
export const VARIABLE = "edgegate";

const unauthenticated = (c, reason) =>
  c.json({ error: "unauthenticated", reason }, 401, { "cache-control": "no-store" });

/**
 * @param {{
 *   secret: string | Uint8Array | ((c: any) => string | Uint8Array),
 *   audience: string | ((c: any) => string),
 *   clockToleranceSec?: number,
 *   replayCache?: false | {markUsed(jti: string, forgetAfter: number): boolean | Promise<boolean>},
 *   allowSignedOut?: boolean,
 * }} options
 */
export function edgegate(options) {
  if (options === null || typeof options !== "object") {
    throw new TypeError("edgegate(): options {secret, audience} are required");
  }
  const { secret, audience, allowSignedOut = false, ...rest } = options;
  if (typeof allowSignedOut !== "boolean") throw new TypeError("edgegate(): allowSignedOut must be a boolean");
  // Static values are checked now, so a bad configuration fails at start-up.
  const staticKey = typeof secret === "function" ? null : secretBytes(secret);
  const staticOpts = typeof audience === "function" ? null : prepareOptions({ ...rest, audience });
  if (!staticOpts) prepareOptions({ ...rest, audience: "http://audience.invalid" }); // validate the rest

  return async function edgegateMiddleware(c, next) {
    const key = staticKey ?? secretBytes(await secret(c));
    const opts = staticOpts ?? prepareOptions({ ...rest, audience: await audience(c) });
    let identity;
    try {
      identity = await verifyAssertion(c.req.raw, key, opts);
    } catch (e) {
      if (e instanceof AssertionError) return unauthenticated(c, e.code);
      throw e;
    }
    c.set(VARIABLE, identity);
    if (!identity.signedIn && !allowSignedOut) return unauthenticated(c, "signed-out");
    await next();
  };
}

export default edgegate;
