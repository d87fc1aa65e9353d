// Hand-written types for @edgegate/origin (no build step). See README.md.

/** The identity an assertion carries. Absent values are null. */
export interface EdgegateIdentity {
  /** True when the assertion carries a verified token: a session or an OAuth token (`sub`), or an M2M token (`machine_id`). */
  readonly signedIn: boolean;
  /** The verified token's type (`token_type`; `session_token` from gateways that predate it); null when signed out. */
  readonly tokenType: "session_token" | "m2m_token" | "oauth_token" | null;
  /** Clerk user id (`sub`): a session's or an OAuth token's user; null for an M2M token. */
  readonly userId: string | null;
  /** An M2M token's machine id (`machine_id`, `mch_...`). */
  readonly machineId: string | null;
  /** An OAuth access token's client id (`client_id`). */
  readonly clientId: string | null;
  /** A machine token's scopes (`scopes`); empty for a session. */
  readonly scopes: readonly string[];
  /** Clerk session id (`sid`). */
  readonly sessionId: string | null;
  /** Active organization id (`org_id`). */
  readonly orgId: string | null;
  /** Role in the active organization, e.g. `org:admin` (`org_role`). */
  readonly orgRole: string | null;
  /** Active organization slug (`org_slug`). */
  readonly orgSlug: string | null;
  /** Permissions in the active organization (`org_permissions`); empty when absent. */
  readonly orgPermissions: readonly string[];
  /** The impersonator's user id (`act`). */
  readonly actor: string | null;
  /** Clerk's factor-verification age in minutes, [first factor, second factor] (`fva`). */
  readonly factorVerificationAge: readonly [number, number] | null;
  /** Clerk's features string, e.g. `o:dashboard,u:beta` (`fea`). */
  readonly features: string | null;
  /** Clerk's plan string, e.g. `u:free` (`pla`). */
  readonly plan: string | null;
  /** True when edgegate accepted the session during a Clerk outage grace period. */
  readonly grace: boolean;
  /** edgegate's request id (`jti`; the `X-Request-Id` it sent). */
  readonly requestId: string | null;
}

/** Every code an AssertionError can carry. */
export type AssertionErrorCode =
  | "assertion-missing"
  | "assertion-malformed"
  | "assertion-wrong-algorithm"
  | "assertion-bad-signature"
  | "assertion-invalid"
  | "assertion-expired"
  | "assertion-not-yet-valid"
  | "assertion-wrong-audience"
  | "assertion-wrong-issuer"
  | "assertion-method-mismatch"
  | "assertion-path-mismatch"
  | "assertion-replayed";

/** The `reason` of a middleware's 401: an AssertionErrorCode, or `signed-out`. */
export type UnauthenticatedReason = AssertionErrorCode | "signed-out";

export declare const ERROR_CODES: readonly AssertionErrorCode[];
export declare const ASSERTION_HEADER: "x-edgegate-assertion";
export declare const ISSUER: "edgegate";
export declare const ALGORITHM: "HS256";
export declare const MIN_SECRET_BYTES: 32;
export declare const DEFAULT_CLOCK_TOLERANCE_SEC: 5;
export declare const DEFAULT_REPLAY_CACHE_SIZE: 100000;

/** A refused assertion. `code` is stable; `message` is for logs only. */
export declare class AssertionError extends Error {
  constructor(code: AssertionErrorCode, message?: string, options?: { cause?: unknown });
  readonly name: "AssertionError";
  readonly code: AssertionErrorCode;
  /** Always 401. */
  readonly status: 401;
}

/** Where used `jti` values are remembered. A shared store (Redis `SET NX EXAT`) fits too. */
export interface ReplayCache {
  /**
   * Records `jti` as used until `forgetAfter` (unix seconds). Returns true when it was not
   * seen before, false for a replay.
   */
  markUsed(jti: string, forgetAfter: number): boolean | Promise<boolean>;
}

/** The default in-process ReplayCache: bounded, oldest entries dropped first when full. */
export declare class MemoryReplayCache implements ReplayCache {
  constructor(options?: { maxEntries?: number; now?: () => number });
  readonly size: number;
  markUsed(jti: string, forgetAfter: number): boolean;
  clear(): void;
}

/** The process-wide cache used when `replayCache` is not given. */
export declare const defaultReplayCache: MemoryReplayCache;

export interface VerifyOptions {
  /** The ORIGIN_URL edgegate was configured with (only `scheme://host[:port]` is compared). */
  audience: string;
  /** Allowed clock skew for `exp`, `iat` and `nbf`, in seconds. Default 5. */
  clockToleranceSec?: number;
  /**
   * Where used `jti` values are remembered (default: `defaultReplayCache`). `false` turns
   * replay detection off: an assertion is then accepted again until it expires (60 s).
   */
  replayCache?: ReplayCache | false;
}

/** Anything fetch-like: a WHATWG Request, or an object with these members. */
export interface RequestLike {
  readonly method: string;
  /** Absolute URL or path + query, as received. */
  readonly url: string;
  readonly headers: { get(name: string): string | null | undefined };
}

/**
 * Verifies `X-Edgegate-Assertion` and returns the identity. Rejects with AssertionError when
 * the assertion is missing or refused, and with TypeError for bad options or a secret shorter
 * than 32 bytes.
 */
export declare function verifyAssertion(
  request: RequestLike,
  secret: string | Uint8Array,
  options: VerifyOptions,
): Promise<EdgegateIdentity>;

/** Maps already-verified assertion claims to the identity (throws AssertionError on bad types). */
export declare function identityFromClaims(claims: Record<string, unknown>): EdgegateIdentity;

/** The path and query of a request URL, without re-normalising it. */
export declare function pathAndQuery(url: string): string;

/** `scheme://host[:port]` of an ORIGIN_URL value (throws TypeError when it is not http(s)). */
export declare function normalizeAudience(audience: string): string;

/** The key bytes of a secret (throws TypeError when shorter than 32 bytes). */
export declare function secretBytes(secret: string | Uint8Array): Uint8Array;

/** Validated options (for reuse across calls). */
export interface ResolvedOptions {
  readonly audience: string;
  readonly clockToleranceSec: number;
  readonly replayCache: ReplayCache | null;
}
export declare function resolveOptions(options: VerifyOptions): ResolvedOptions;
/** resolveOptions, marked so verifyAssertion skips validating it again. */
export declare function prepareOptions(options: VerifyOptions): VerifyOptions;
