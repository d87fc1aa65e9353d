// Test helpers: assertions minted with node:crypto's HMAC (independent of jose), shaped exactly
// like edgegate's (src/proxy.rs: assertion_claims / assertion).
import { createHmac, randomUUID } from "node:crypto";

export const SECRET = "an-origin-assertion-secret-of-32-chars-or-more";
export const OTHER_SECRET = "a-different-secret-that-is-also-32-chars-long";

const b64url = (v) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");
export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A compact JWS. `alg` picks the HMAC (HS256/HS384/HS512) or, for "none", an empty signature. */
export function mint(claims, { secret = SECRET, header = { alg: "HS256", typ: "JWT" } } = {}) {
  const input = `${b64url(header)}.${b64url(claims)}`;
  if (header.alg === "none") return `${input}.`;
  const hash = { HS256: "sha256", HS384: "sha384", HS512: "sha512" }[header.alg] ?? "sha256";
  return `${input}.${createHmac(hash, secret).update(input).digest("base64url")}`;
}

/** edgegate's claims for a request to `audience` with `method` and `htu` (path + query). */
export function assertionClaims({ audience, method = "GET", htu = "/", session = true, now = nowSeconds(), ...extra }) {
  const c = { iss: "edgegate", aud: audience, iat: now, exp: now + 60, jti: randomUUID().replaceAll("-", ""), htm: method, htu };
  if (session) {
    Object.assign(c, {
      sub: "user_2abc",
      sid: "sess_2abc",
      org_id: "org_2abc",
      org_role: "org:admin",
      org_slug: "acme",
      act: "user_admin",
    });
  }
  return { ...c, ...extra };
}

/** The full identity for the session above (no optional claims). */
export const baseIdentity = {
  signedIn: true,
  tokenType: "session_token",
  userId: "user_2abc",
  machineId: null,
  clientId: null,
  scopes: [],
  sessionId: "sess_2abc",
  orgId: "org_2abc",
  orgRole: "org:admin",
  orgSlug: "acme",
  orgPermissions: [],
  actor: "user_admin",
  factorVerificationAge: null,
  features: null,
  plan: null,
  grace: false,
};

/** A fetch with the assertion header (raw node fetch keeps path and query as given). */
export const withAssertion = (token, init = {}) => ({
  ...init,
  headers: { ...(init.headers ?? {}), "x-edgegate-assertion": token },
});
