// Mints a slice of the cold-token pool in a worker thread (RSA signing is the slow part).
// Same token shape as scripts/lib/jwt.mjs mintToken, with the private key parsed once.
import { parentPort, workerData } from "node:worker_threads";
import { createPrivateKey, sign } from "node:crypto";
import { b64url, sessionClaims } from "../scripts/lib/jwt.mjs";

const { privatePem, alg, from, count, now, azp, ttl } = workerData;
const key = createPrivateKey(privatePem);
const header = b64url(JSON.stringify({ alg, typ: "JWT", kid: "ins_edgegate_bench" }));
const out = new Array(count);
for (let i = 0; i < count; i++) {
  const n = from + i;
  const claims = sessionClaims(
    {
      azp,
      exp: now + ttl,
      sid: `sess_bench_${String(n).padStart(20, "0")}`,
      jti: `jti_${n.toString(36)}`,
    },
    now,
  );
  const input = `${header}.${b64url(JSON.stringify(claims))}`;
  const sig =
    alg === "ES256"
      ? sign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" })
      : sign("sha256", Buffer.from(input), key);
  out[i] = `${input}.${b64url(sig)}`;
}
parentPort.postMessage(out);
