// Machine tokens end to end (Clerk's `acceptsToken`): M2M and OAuth access-token JWTs in Clerk's
// formats, signed by the instance key, accepted only on routes whose rules name their type, with
// their identity forwarded; refused as `token-type-mismatch` everywhere else; opaque tokens
// refused as `token-needs-backend-api`. The built worker in workerd, a recording origin.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { APP_ORIGIN, bearer, generateKeys, mintToken, nowSeconds, sessionClaims, useGateway } from "./helpers.mjs";

const key = generateKeys("RS256");
const other = generateKeys("RS256");
const SECRET = "0123456789abcdef0123456789abcdef";
const ISS = "https://clerk.edgegate.test";
const sign = (claims, header = {}, privatePem = key.privatePem) => mintToken({ privatePem, claims, header });
const session = () => sign(sessionClaims({ azp: APP_ORIGIN, iss: ISS }));

/** Clerk's M2M JWT (the shape `M2MToken.fromJwtPayload` reads), with the M2M category. */
function m2m(changes = {}, header = { cat: "cl_B7d4PD333AAA" }) {
  const now = nowSeconds();
  const claims = {
    iss: ISS,
    sub: "mch_2vYVtestTESTtestTESTtestTESTtest",
    aud: ["mch_1xxxxx", "mch_2xxxxx"],
    exp: now + 300,
    iat: now,
    nbf: now - 10,
    jti: "mt_2xKa9Bgv7NxMRDFyQw8LpZ3cTmU1vHjE",
    scopes: "mch_1xxxxx mch_2xxxxx",
    ...changes,
  };
  return sign(claims, header);
}

/** Clerk's OAuth access token (`IdPOAuthAccessToken.fromJwtPayload`), `typ: at+jwt`. */
function oauth(changes = {}, header = { typ: "at+jwt" }) {
  const now = nowSeconds();
  const claims = {
    iss: ISS,
    sub: "user_2vYVtestTESTtestTESTtestTESTtest",
    client_id: "client_2VTWUzvGC5UhdJCNx6xG1D98edc",
    scope: "read:foo write:bar",
    jti: "oat_2xKa9Bgv7NxMRDFyQw8LpZ3cTmU1vHjE",
    exp: now + 300,
    iat: now,
    nbf: now - 10,
    ...changes,
  };
  return sign(claims, header);
}

/** The assertion's claims, after checking its HS256 signature. */
function assertion(headers) {
  const jwt = headers["x-edgegate-assertion"];
  assert.ok(jwt, "no assertion");
  const [h, p, s] = jwt.split(".");
  const mac = createHmac("sha256", SECRET).update(`${h}.${p}`).digest("base64url");
  assert.equal(s, mac, "assertion signature");
  return JSON.parse(Buffer.from(p, "base64url").toString());
}

describe("machine tokens", () => {
  const { origin, worker } = useGateway({
    key,
    settings: {
      PUBLIC_ROUTES: "/public(.*)",
      ISSUER: ISS,
      ORIGIN_ASSERTION_SECRET: SECRET,
      ROUTE_RULES: [
        "/m2m(.*)=token:m2m",
        "/oauth(.*)=token:oauth",
        "/any(.*)=token:session|m2m|oauth",
        "/scoped(.*)=token:m2m|oauth,scope:read:foo|mch_1xxxxx",
      ].join("; "),
    },
  });

  const refusal = async (res, status, reason) => {
    assert.equal(res.status, status);
    assert.equal(res.headers.get("x-edgegate-auth-reason"), reason);
    assert.equal((await res.json()).reason, reason);
  };

  test("an_m2m_token_reaches_its_route_as_the_machine", async () => {
    const before = origin.count;
    const res = await worker.fetch("/m2m/jobs", {
      headers: { ...bearer(m2m()), "x-auth-user-id": "user_spoofed", "x-auth-scopes": "admin" },
    });
    assert.equal(res.status, 200);
    assert.equal(origin.count, before + 1);
    const h = origin.last().headers;
    assert.equal(h["x-auth-status"], "signed-in");
    assert.equal(h["x-auth-token-type"], "m2m_token");
    assert.equal(h["x-auth-machine-id"], "mch_2vYVtestTESTtestTESTtestTESTtest");
    assert.equal(h["x-auth-scopes"], "mch_1xxxxx mch_2xxxxx");
    assert.equal(h["x-auth-user-id"], undefined);
    assert.equal(h["x-auth-session-id"], undefined);
    const a = assertion(h);
    assert.equal(a.token_type, "m2m_token");
    assert.equal(a.machine_id, "mch_2vYVtestTESTtestTESTtestTESTtest");
    assert.deepEqual(a.scopes, ["mch_1xxxxx", "mch_2xxxxx"]);
    assert.equal(a.sub, undefined);
    // Warm (cached) the same.
    assert.equal((await worker.fetch("/m2m/jobs", { headers: bearer(m2m()) })).status, 200);
    // Without the category too (tokens minted before Clerk's categories).
    assert.equal((await worker.fetch("/m2m/jobs", { headers: bearer(m2m({}, {})) })).status, 200);
  });

  test("an_oauth_token_reaches_its_route_as_the_user_and_client", async () => {
    const res = await worker.fetch("/oauth/me", { headers: bearer(oauth()) });
    assert.equal(res.status, 200);
    const h = origin.last().headers;
    assert.equal(h["x-auth-token-type"], "oauth_token");
    assert.equal(h["x-auth-user-id"], "user_2vYVtestTESTtestTESTtestTESTtest");
    assert.equal(h["x-auth-client-id"], "client_2VTWUzvGC5UhdJCNx6xG1D98edc");
    assert.equal(h["x-auth-scopes"], "read:foo write:bar");
    const a = assertion(h);
    assert.equal(a.token_type, "oauth_token");
    assert.equal(a.sub, "user_2vYVtestTESTtestTESTtestTESTtest");
    assert.equal(a.client_id, "client_2VTWUzvGC5UhdJCNx6xG1D98edc");
    assert.deepEqual(a.scopes, ["read:foo", "write:bar"]);
    const scp = oauth({ scope: undefined, scp: ["read:foo"] }, { typ: "application/at+jwt" });
    assert.equal((await worker.fetch("/oauth/me", { headers: bearer(scp) })).status, 200);
    assert.equal(origin.last().headers["x-auth-scopes"], "read:foo");
  });

  test("sessions_carry_their_token_type_and_are_refused_on_machine_routes", async () => {
    assert.equal((await worker.fetch("/api/x", { headers: bearer(session()) })).status, 200);
    assert.equal(origin.last().headers["x-auth-token-type"], "session_token");
    assert.equal((await worker.fetch("/any/x", { headers: bearer(session()) })).status, 200);
    await refusal(await worker.fetch("/m2m/x", { headers: bearer(session()) }), 401, "token-type-mismatch");
    await refusal(await worker.fetch("/oauth/x", { headers: bearer(session()) }), 401, "token-type-mismatch");
  });

  test("machine_tokens_stay_refused_where_their_type_is_not_accepted", async () => {
    const before = origin.count;
    for (const [path, token] of [
      ["/api/x", m2m()],
      ["/api/x", oauth()],
      ["/oauth/x", m2m()],
      ["/m2m/x", oauth()],
      ["/any/x", oauth({}, {})], // an OAuth token without its typ is no OAuth token
      ["/any/x", m2m({}, { cat: "cl_B7d4PD111AAA" })],
    ]) {
      await refusal(await worker.fetch(path, { headers: bearer(token) }), 401, "token-type-mismatch");
    }
    assert.equal(origin.count, before);
    // The cookie never carries a machine token.
    const res = await worker.fetch("/m2m/x", { headers: { cookie: `__session=${m2m()}` } });
    assert.equal(res.status, 401);
    // A public route: signed out, never the machine.
    assert.equal((await worker.fetch("/public/x", { headers: bearer(m2m()) })).status, 200);
    const h = origin.last().headers;
    assert.equal(h["x-auth-status"], "signed-out");
    assert.equal(h["x-auth-reason"], "token-type-mismatch");
    assert.equal(h["x-auth-machine-id"], undefined);
  });

  test("opaque_tokens_need_the_backend_api", async () => {
    const before = origin.count;
    for (const token of ["mt_2xKa9Bgv7NxMRDFyQw8Lp", "oat_2xKa9Bgv7NxMRDFyQw8Lp", "ak_2xKa9Bgv7NxMRDFyQw8Lp"]) {
      for (const path of ["/m2m/x", "/api/x"]) {
        const res = await worker.fetch(path, { headers: bearer(token) });
        await refusal(res, 401, "token-needs-backend-api");
        assert.ok(res.headers.get("www-authenticate"));
      }
    }
    assert.equal(origin.count, before);
  });

  test("scopes_signatures_time_and_issuer_are_checked", async () => {
    assert.equal((await worker.fetch("/scoped/x", { headers: bearer(m2m()) })).status, 200);
    assert.equal((await worker.fetch("/scoped/x", { headers: bearer(oauth()) })).status, 200);
    await refusal(await worker.fetch("/scoped/x", { headers: bearer(m2m({ scopes: "mch_9" })) }), 403, "missing-scope");
    await refusal(await worker.fetch("/scoped/x", { headers: bearer(oauth({ scope: "write:bar" })) }), 403, "missing-scope");
    const now = nowSeconds();
    await refusal(await worker.fetch("/m2m/x", { headers: bearer(m2m({ exp: now - 60 })) }), 401, "token-expired");
    await refusal(await worker.fetch("/oauth/x", { headers: bearer(oauth({ nbf: now + 60 })) }), 401, "token-not-active-yet");
    await refusal(await worker.fetch("/m2m/x", { headers: bearer(m2m({ iss: "https://evil.test" })) }), 401, "token-invalid-issuer");
    const forged = sign({ ...JSON.parse(Buffer.from(m2m().split(".")[1], "base64url")) }, { cat: "cl_B7d4PD333AAA" }, other.privatePem);
    await refusal(await worker.fetch("/m2m/x", { headers: bearer(forged) }), 401, "token-invalid-signature");
  });
});
