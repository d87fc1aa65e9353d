import type { IncomingMessage, ServerResponse } from "node:http";
import type { EdgegateIdentity, RequestLike, VerifyOptions } from "./index.js";

export type { EdgegateIdentity, UnauthenticatedReason, AssertionErrorCode, VerifyOptions, ReplayCache } from "./index.js";
export { AssertionError, verifyAssertion } from "./index.js";

export interface EdgegateExpressOptions extends VerifyOptions {
  /** ORIGIN_ASSERTION_SECRET (at least 32 bytes). */
  secret: string | Uint8Array;
  /** Let signed-out requests (with a genuine assertion) through, with `signedIn: false`. Default false. */
  allowSignedOut?: boolean;
}

/** The request shape the middleware reads (an Express request or a node:http IncomingMessage). */
export type NodeRequest = IncomingMessage & { originalUrl?: string; edgegate?: EdgegateIdentity };

/** A WHATWG-like view of a node request: method, originalUrl (path + query as received), headers. */
export declare function requestView(req: Pick<NodeRequest, "method" | "url" | "originalUrl" | "headers">): RequestLike;

/**
 * Verifies the assertion and sets `req.edgegate`; otherwise answers
 * 401 `{"error":"unauthenticated","reason":code}`. Other errors go to `next(err)`.
 */
export declare function edgegate(
  options: EdgegateExpressOptions,
): (req: NodeRequest, res: ServerResponse, next: (err?: unknown) => void) => void;
export default edgegate;

declare global {
  namespace Express {
    interface Request {
      /** Set by @edgegate/origin/express. */
      edgegate?: EdgegateIdentity;
    }
  }
}
