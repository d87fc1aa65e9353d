#!/usr/bin/env node
// Development keys and tokens, with node:crypto only: what scripts/dev.sh uses, so that a first
// run needs no Rust build for them (the CLI's `edgegate keygen`/`mint` give the same formats, PKCS#8
// and SPKI PEM, but only after a debug build and a much slower RSA key generation).
//
//   node scripts/devkeys.mjs keygen DIR [RS256|ES256]   writes DIR/dev-private.pem, DIR/dev-public.pem
//   node scripts/devkeys.mjs mint DIR [--azp URL] [--ttl SECONDS] [--sub ID]
//                                                       prints a session token signed with DIR's key
import { mkdirSync, writeFileSync, readFileSync, existsSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { createPrivateKey } from "node:crypto";
import { generateKeys, mintToken, sessionClaims } from "./lib/jwt.mjs";

const [cmd, dir, ...rest] = process.argv.slice(2);
const usage = () => {
  console.error("usage: devkeys.mjs keygen DIR [RS256|ES256] | mint DIR [--azp URL] [--ttl S] [--sub ID]");
  process.exit(2);
};
if (!dir) usage();

if (cmd === "keygen") {
  const alg = rest[0] ?? "RS256";
  if (alg !== "RS256" && alg !== "ES256") usage();
  mkdirSync(dir, { recursive: true });
  const priv = join(dir, "dev-private.pem");
  if (existsSync(priv)) {
    console.error(`${priv} exists; not overwriting`);
    process.exit(1);
  }
  const k = generateKeys(alg);
  writeFileSync(priv, k.privatePem, { mode: 0o600 });
  chmodSync(priv, 0o600);
  writeFileSync(join(dir, "dev-public.pem"), k.publicPem);
} else if (cmd === "mint") {
  const opt = {};
  for (let i = 0; i < rest.length; i += 2) opt[rest[i].replace(/^--/, "")] = rest[i + 1];
  const privatePem = readFileSync(join(dir, "dev-private.pem"), "utf8");
  const keyType = createPrivateKey(privatePem).asymmetricKeyType;
  const alg = keyType === "ec" ? "ES256" : "RS256";
  const now = Math.floor(Date.now() / 1000);
  const claims = sessionClaims(
    {
      ...(opt.azp ? { azp: opt.azp } : {}),
      ...(opt.sub ? { sub: opt.sub } : {}),
      exp: now + Number(opt.ttl ?? 3600),
    },
    now,
  );
  process.stdout.write(mintToken({ privatePem, alg, claims }) + "\n");
} else {
  usage();
}
