import type { Context, MiddlewareHandler } from "hono";
import type { EdgegateIdentity, VerifyOptions } from "./index.js";

export type { EdgegateIdentity, UnauthenticatedReason, AssertionErrorCode, VerifyOptions, ReplayCache } from "./index.js";
export { AssertionError, verifyAssertion } from "./index.js";

export declare const VARIABLE: "edgegate";

export interface EdgegateHonoOptions extends Omit<VerifyOptions, "audience"> {
  /** ORIGIN_ASSERTION_SECRET, or a function of the context (e.g. `(c) => c.env.ORIGIN_ASSERTION_SECRET`). */
  secret: string | Uint8Array | ((c: Context) => string | Uint8Array | Promise<string | Uint8Array>);
  /** The ORIGIN_URL origin, or a function of the context. */
  audience: string | ((c: Context) => string | Promise<string>);
  /** Let signed-out requests (with a genuine assertion) through, with `signedIn: false`. Default false. */
  allowSignedOut?: boolean;
}

/**
 * Verifies the assertion and sets `c.get("edgegate")`; otherwise answers
 * 401 `{"error":"unauthenticated","reason":code}`.
 */
export declare function edgegate(
  options: EdgegateHonoOptions,
): MiddlewareHandler<{ Variables: { edgegate: EdgegateIdentity } }>;
export default edgegate;

declare module "hono" {
  interface ContextVariableMap {
    edgegate: EdgegateIdentity;
  }
}
