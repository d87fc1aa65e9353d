// @edgegate/origin: verifies edgegate's origin assertion (the `X-Edgegate-Assertion` header, an
// HS256 JWT keyed with ORIGIN_ASSERTION_SECRET) and maps it to a typed identity. Works with any
// fetch-style request: a WHATWG Request, or anything with `method`, `url` and `headers.get`.
// See README.md for the claims, the options and every error code.
import { decodeProtectedHeader, errors as jose, jwtVerify } from "jose";

/** The request header edgegate sets on every proxied request (lower case, as HTTP compares it). */
export const ASSERTION_HEADER = "x-edgegate-assertion";
/** The assertion's `iss`. */
export const ISSUER = "edgegate";
/** The only signing algorithm accepted. */
export const ALGORITHM = "HS256";
/** edgegate's minimum ORIGIN_ASSERTION_SECRET length, in bytes (UTF-8). */
export const MIN_SECRET_BYTES = 32;
/** Default allowed clock skew, in seconds. */
export const DEFAULT_CLOCK_TOLERANCE_SEC = 5;
/** Default capacity of the in-memory replay cache (entries). */
export const DEFAULT_REPLAY_CACHE_SIZE = 100_000;

/** Every code an AssertionError can carry. */
export const ERROR_CODES = Object.freeze([
  "assertion-missing",
  "assertion-malformed",
  "assertion-wrong-algorithm",
  "assertion-bad-signature",
  "assertion-invalid",
  "assertion-expired",
  "assertion-not-yet-valid",
  "assertion-wrong-audience",
  "assertion-wrong-issuer",
  "assertion-method-mismatch",
  "assertion-path-mismatch",
  "assertion-replayed",
]);

/** A refused assertion. `code` is stable (see ERROR_CODES); `message` is for logs only. */
export class AssertionError extends Error {
  constructor(code, message, options) {
    super(message ?? code, options);
    this.name = "AssertionError";
    this.code = code;
    this.status = 401;
  }
}

const fail = (code, message, cause) => {
  throw new AssertionError(code, message, cause === undefined ? undefined : { cause });
};

/**
 * A bounded in-memory record of the `jti` values already accepted, each kept until its `exp`
 * (plus the clock tolerance) has passed. When full, the oldest entries go first: size it above
 * the peak number of assertions one process accepts per minute.
 */
export class MemoryReplayCache {
  #entries = new Map(); // jti -> forget-after (unix seconds); insertion order ~ expiry order
  #max;
  #now;

  /** @param {{maxEntries?: number, now?: () => number}} [options] */
  constructor({ maxEntries = DEFAULT_REPLAY_CACHE_SIZE, now = () => Date.now() / 1000 } = {}) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new TypeError("MemoryReplayCache: maxEntries must be a positive integer");
    }
    this.#max = maxEntries;
    this.#now = now;
  }

  /** Entries currently held. */
  get size() {
    return this.#entries.size;
  }

  /**
   * Records `jti` as used until `forgetAfter` (unix seconds). Returns true when it was not seen
   * before (the assertion may be accepted), false for a replay.
   */
  markUsed(jti, forgetAfter) {
    const now = this.#now();
    // Drop expired entries from the front (amortised O(1): each entry is dropped once).
    for (const [key, until] of this.#entries) {
      if (until >= now) break;
      this.#entries.delete(key);
    }
    const until = this.#entries.get(jti);
    if (until !== undefined && until >= now) return false;
    this.#entries.delete(jti);
    while (this.#entries.size >= this.#max) {
      this.#entries.delete(this.#entries.keys().next().value);
    }
    this.#entries.set(jti, forgetAfter);
    return true;
  }

  /** Forgets every entry. */
  clear() {
    this.#entries.clear();
  }
}

/** The process-wide replay cache used when `replayCache` is not given. */
export const defaultReplayCache = new MemoryReplayCache();

const encoder = new TextEncoder();

/** The key bytes; throws TypeError for a secret edgegate itself would refuse. */
export function secretBytes(secret) {
  let bytes;
  if (typeof secret === "string") bytes = encoder.encode(secret);
  else if (secret instanceof Uint8Array) bytes = secret;
  else throw new TypeError("edgegate: the secret must be the ORIGIN_ASSERTION_SECRET string");
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new TypeError(`edgegate: ORIGIN_ASSERTION_SECRET must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  return bytes;
}

/** `scheme://host[:port]` of an ORIGIN_URL-style value; throws TypeError when it has none. */
export function normalizeAudience(audience) {
  if (typeof audience !== "string" || audience === "") {
    throw new TypeError("edgegate: options.audience (the ORIGIN_URL origin) is required");
  }
  let origin;
  try {
    origin = new URL(audience).origin;
  } catch {
    origin = "null";
  }
  if (origin === "null" || !/^https?:\/\//.test(origin)) {
    throw new TypeError(`edgegate: options.audience must be an http(s) URL, got ${JSON.stringify(audience)}`);
  }
  return origin;
}

function clockTolerance(value) {
  if (value === undefined) return DEFAULT_CLOCK_TOLERANCE_SEC;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new TypeError("edgegate: options.clockToleranceSec must be a non-negative number");
  }
  return value;
}

function replayCacheOf(value) {
  if (value === undefined || value === true) return defaultReplayCache;
  if (value === false || value === null) return null;
  if (typeof value?.markUsed !== "function") {
    throw new TypeError("edgegate: options.replayCache must be false or have markUsed(jti, forgetAfter)");
  }
  return value;
}

/**
 * Validates options once (the middlewares call it at set-up, so a bad configuration fails at
 * start rather than on the first request). Returns the normalised form verifyAssertion uses.
 */
export function resolveOptions(options = {}) {
  if (options === null || typeof options !== "object") {
    throw new TypeError("edgegate: options must be an object with at least `audience`");
  }
  return {
    audience: normalizeAudience(options.audience),
    clockToleranceSec: clockTolerance(options.clockToleranceSec),
    replayCache: replayCacheOf(options.replayCache),
  };
}

const STANDARD_METHODS = new Set(["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"]);

/** The method as the Fetch standard normalises it (standard methods upper-cased). */
function normalizeMethod(method) {
  const m = String(method ?? "");
  const upper = m.toUpperCase();
  return STANDARD_METHODS.has(upper) ? upper : m;
}

/**
 * The path and query of a request URL, as received: an absolute URL loses its
 * `scheme://authority` (no re-parsing, so nothing is normalised twice), a fragment is dropped.
 */
export function pathAndQuery(url) {
  let s = String(url ?? "");
  const hash = s.indexOf("#");
  if (hash >= 0) s = s.slice(0, hash);
  if (!s.startsWith("/")) {
    const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?]*/.exec(s);
    if (m) s = s.slice(m[0].length);
    if (!s.startsWith("/")) s = `/${s}`;
  }
  return s;
}

function headerOf(request, name) {
  const headers = request?.headers;
  if (headers && typeof headers.get === "function") return headers.get(name);
  throw new TypeError("edgegate: the request needs headers.get(name)");
}

const optionalString = (claims, name) => {
  const v = claims[name];
  if (v === undefined || v === null) return null;
  if (typeof v !== "string") fail("assertion-invalid", `claim ${name} is not a string`);
  return v === "" ? null : v;
};

const AUTH_STATUSES = new Set(["signed-in", "signed-out", "grace"]);
const TOKEN_TYPES = new Set(["session_token", "m2m_token", "oauth_token"]);

/** `token_type`, `machine_id`, `client_id`, `scopes`: the verified token's type and a machine's identity. */
function tokenFromClaims(claims, userId) {
  const tokenType = optionalString(claims, "token_type");
  if (tokenType !== null && !TOKEN_TYPES.has(tokenType)) {
    fail("assertion-invalid", `claim token_type has an unknown value ${JSON.stringify(tokenType)}`);
  }
  const machineId = optionalString(claims, "machine_id");
  const m2m = tokenType === "m2m_token";
  if (m2m && (machineId === null || userId !== null)) fail("assertion-invalid", "m2m_token needs a machine_id and no sub");
  if (!m2m && machineId !== null) fail("assertion-invalid", "machine_id on a token that is not m2m_token");
  let scopes = [];
  if (claims.scopes !== undefined && claims.scopes !== null) {
    const s = claims.scopes;
    if (!Array.isArray(s) || !s.every((x) => typeof x === "string")) fail("assertion-invalid", "claim scopes is not an array of strings");
    scopes = [...s];
  }
  return { tokenType, machineId, clientId: optionalString(claims, "client_id"), scopes: Object.freeze(scopes) };
}

/** Maps verified claims to the identity (exported for origins that verify by other means). */
export function identityFromClaims(claims) {
  const userId = optionalString(claims, "sub");
  const status = optionalString(claims, "auth_status");
  if (status !== null && !AUTH_STATUSES.has(status)) {
    fail("assertion-invalid", `claim auth_status has an unknown value ${JSON.stringify(status)}`);
  }
  const token = tokenFromClaims(claims, userId);
  // The principal: the user (a session or an OAuth token), or an M2M token's machine.
  const principal = userId ?? token.machineId;
  if (status === "signed-out" && principal !== null) fail("assertion-invalid", "auth_status signed-out with a sub");
  if ((status === "signed-in" || status === "grace") && principal === null) {
    fail("assertion-invalid", `auth_status ${status} without a sub`);
  }
  if (claims.grace !== undefined && typeof claims.grace !== "boolean") fail("assertion-invalid", "claim grace is not a boolean");

  let orgPermissions = [];
  if (claims.org_permissions !== undefined && claims.org_permissions !== null) {
    const p = claims.org_permissions;
    if (!Array.isArray(p) || !p.every((x) => typeof x === "string")) {
      fail("assertion-invalid", "claim org_permissions is not an array of strings");
    }
    orgPermissions = [...p];
  }
  let factorVerificationAge = null;
  if (claims.fva !== undefined && claims.fva !== null) {
    const f = claims.fva;
    if (!Array.isArray(f) || f.length !== 2 || !f.every(Number.isSafeInteger)) {
      fail("assertion-invalid", "claim fva is not an array of two integers");
    }
    factorVerificationAge = Object.freeze([f[0], f[1]]);
  }
  const signedIn = principal !== null;
  return Object.freeze({
    signedIn,
    tokenType: signedIn ? (token.tokenType ?? "session_token") : null,
    userId,
    machineId: token.machineId,
    clientId: token.clientId,
    scopes: token.scopes,
    sessionId: optionalString(claims, "sid"),
    orgId: optionalString(claims, "org_id"),
    orgRole: optionalString(claims, "org_role"),
    orgSlug: optionalString(claims, "org_slug"),
    orgPermissions: Object.freeze(orgPermissions),
    actor: optionalString(claims, "act"),
    factorVerificationAge,
    features: optionalString(claims, "fea"),
    plan: optionalString(claims, "pla"),
    grace: signedIn && (claims.grace === true || status === "grace"),
    requestId: optionalString(claims, "jti"),
  });
}

function mapJoseError(e) {
  if (e instanceof jose.JOSEAlgNotAllowed) return new AssertionError("assertion-wrong-algorithm", e.message, { cause: e });
  if (e instanceof jose.JWSSignatureVerificationFailed) {
    return new AssertionError("assertion-bad-signature", "signature verification failed", { cause: e });
  }
  if (e instanceof jose.JWTExpired) return new AssertionError("assertion-expired", e.message, { cause: e });
  if (e instanceof jose.JWTClaimValidationFailed) {
    if (e.reason === "check_failed") {
      if (e.claim === "iss") return new AssertionError("assertion-wrong-issuer", e.message, { cause: e });
      if (e.claim === "aud") return new AssertionError("assertion-wrong-audience", e.message, { cause: e });
      if (e.claim === "nbf" || e.claim === "iat") return new AssertionError("assertion-not-yet-valid", e.message, { cause: e });
    }
    return new AssertionError("assertion-invalid", e.message, { cause: e });
  }
  if (e instanceof jose.JWSInvalid || e instanceof jose.JWTInvalid) return new AssertionError("assertion-malformed", e.message, { cause: e });
  if (e instanceof jose.JOSEError) return new AssertionError("assertion-invalid", e.message, { cause: e });
  return e;
}

// Verified requests (object identity) -> {token, audience, identity}: verifying the same request
// twice (two middlewares on one route) returns the first result instead of reporting a replay.
const verifiedRequests = new WeakMap();

/**
 * Verifies the request's `X-Edgegate-Assertion` and returns the identity it carries.
 * Throws AssertionError (with `code`) for a missing or refused assertion, TypeError for bad
 * options or a secret shorter than 32 bytes.
 *
 * @param {{method: string, url: string, headers: {get(name: string): string | null}}} request
 * @param {string | Uint8Array} secret ORIGIN_ASSERTION_SECRET
 * @param {{audience: string, clockToleranceSec?: number, replayCache?: false | object}} options
 */
export async function verifyAssertion(request, secret, options) {
  const key = secretBytes(secret);
  const opts = options?.[resolvedMark] ? options : resolveOptions(options);
  const token = headerOf(request, ASSERTION_HEADER);
  if (token === null || token === undefined || String(token).trim() === "") {
    fail("assertion-missing", "no X-Edgegate-Assertion header");
  }
  const jwt = String(token).trim();
  const isObject = typeof request === "object" && request !== null;
  if (isObject) {
    const memo = verifiedRequests.get(request);
    if (memo && memo.token === jwt && memo.audience === opts.audience) return memo.identity;
  }
  if (jwt.includes(",")) fail("assertion-malformed", "more than one X-Edgegate-Assertion header");

  if (jwt.split(".").length !== 3) fail("assertion-malformed", "not a compact JWS");
  let header;
  try {
    header = decodeProtectedHeader(jwt);
  } catch (e) {
    fail("assertion-malformed", "not a compact JWS", e);
  }
  if (header.alg !== ALGORITHM) fail("assertion-wrong-algorithm", `alg ${JSON.stringify(header.alg)} is not HS256`);

  const tol = opts.clockToleranceSec;
  let payload;
  try {
    ({ payload } = await jwtVerify(jwt, key, {
      algorithms: [ALGORITHM],
      typ: "JWT",
      issuer: ISSUER,
      audience: opts.audience,
      clockTolerance: tol,
      requiredClaims: ["iss", "aud", "iat", "exp", "jti", "htm", "htu"],
    }));
  } catch (e) {
    throw mapJoseError(e);
  }

  const now = Date.now() / 1000;
  if (typeof payload.iat !== "number" || typeof payload.exp !== "number") fail("assertion-invalid", "iat/exp are not numbers");
  if (payload.iat > now + tol) fail("assertion-not-yet-valid", "iat is in the future");
  if (typeof payload.jti !== "string" || payload.jti === "") fail("assertion-invalid", "jti is not a non-empty string");
  if (typeof payload.htm !== "string" || typeof payload.htu !== "string") fail("assertion-invalid", "htm/htu are not strings");
  if (payload.htm !== normalizeMethod(request.method)) {
    fail("assertion-method-mismatch", `assertion is for ${payload.htm}, request is ${request.method}`);
  }
  const received = pathAndQuery(request.url);
  if (payload.htu !== received) {
    fail("assertion-path-mismatch", `assertion is for ${JSON.stringify(payload.htu)}, request is ${JSON.stringify(received)}`);
  }
  const identity = identityFromClaims(payload);

  if (opts.replayCache) {
    const fresh = await opts.replayCache.markUsed(payload.jti, payload.exp + tol);
    if (!fresh) fail("assertion-replayed", `jti ${payload.jti} was already used`);
  }
  if (isObject) verifiedRequests.set(request, { token: jwt, audience: opts.audience, identity });
  return identity;
}

const resolvedMark = Symbol("edgegate.resolvedOptions");

/** resolveOptions, marked so verifyAssertion does not validate it again (for the middlewares). */
export function prepareOptions(options) {
  return { ...resolveOptions(options), [resolvedMark]: true };
}
