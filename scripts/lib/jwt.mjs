// Minimal JWT minting with node:crypto, for development and the end-to-end tests.
// Deliberately independent of the Rust code: tests must not trust the thing they test.
import { generateKeyPairSync, createPrivateKey, sign } from "node:crypto";

export const b64url = (buf) => Buffer.from(buf).toString("base64url");

/** A fresh key pair. alg: "RS256" (RSA 2048) or "ES256" (P-256). PEM strings. */
export function generateKeys(alg = "RS256") {
  const opts =
    alg === "ES256"
      ? { namedCurve: "P-256" }
      : { modulusLength: 2048, publicExponent: 0x10001 };
  const { publicKey, privateKey } = generateKeyPairSync(alg === "ES256" ? "ec" : "rsa", {
    ...opts,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  return { alg, publicPem: publicKey, privatePem: privateKey };
}

/** Clerk-shaped session claims (v2), overridable. `now` in seconds. */
export function sessionClaims(overrides = {}, now = Math.floor(Date.now() / 1000)) {
  return {
    azp: "http://127.0.0.1:8787",
    exp: now + 60,
    iat: now,
    nbf: now - 5,
    iss: "https://clerk.edgegate.test",
    sid: "sess_dev0000000000000000000000",
    sts: "active",
    sub: "user_dev0000000000000000000000",
    v: 2,
    ...overrides,
  };
}

/**
 * Sign `claims` with `privatePem`. `header` overrides the default {alg, typ, kid}.
 * `alg` picks the signature: RS256 (PKCS#1 v1.5, SHA-256) or ES256 (P-256, raw r||s).
 * Pass `rawPayload` (a string) to sign bytes that are not JSON.stringify(claims).
 */
export function mintToken({ privatePem, alg = "RS256", claims = {}, header = {}, rawPayload } = {}) {
  const h = { alg, typ: "JWT", kid: "ins_edgegate_dev", ...header };
  for (const k of Object.keys(h)) if (h[k] === undefined) delete h[k];
  const signingInput = `${b64url(JSON.stringify(h))}.${b64url(rawPayload ?? JSON.stringify(claims))}`;
  const key = createPrivateKey(privatePem);
  const sig =
    alg === "ES256"
      ? sign("sha256", Buffer.from(signingInput), { key, dsaEncoding: "ieee-p1363" })
      : sign("sha256", Buffer.from(signingInput), key);
  return `${signingInput}.${b64url(sig)}`;
}
