// A test-only worker for tests/e2e/webcrypto-wycheproof.test.mjs. It loads the built entry
// (build/worker/shim.mjs, which instantiates the release wasm) and, for one posted key group,
// does what the gateway does with a key: `configure` parses CLERK_JWT_KEY in the wasm, `keyJwk`
// exports it, WebCrypto imports it once with the entry's import parameters, and each signature
// is verified with the entry's verify parameters (both sent by the test, read off the built
// entry). It decides nothing itself; it reports what workerd's WebCrypto answered.
import "./worker/shim.mjs";

const glue = globalThis.__wbg_get_imports()["./index_bg.js"];
const reinit = Object.keys(glue).find((name) => name.startsWith("__wbg___wbindgen_reinit_"));

const bytes = (hex) => {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
};

export default {
  async fetch(request) {
    // `params`: the entry's own IMPORT_PARAMS and VERIFY_PARAMS, read out of the built entry by
    // the test, so that this worker verifies exactly as the gateway does.
    const { settings, tests, params } = await request.json();
    // A fresh wasm instance per key group (`configure` runs once per instance, as once per
    // isolate), through the glue's reinit path; the argument-less call swaps the instance in.
    glue[reinit]();
    glue.settingNames();
    const problems = glue.configure(JSON.stringify(settings), "");
    if (problems) return Response.json({ problems });
    const text = glue.keyJwk(0);
    const cut = text.indexOf("\n");
    const alg = text.slice(0, cut);
    const jwk = JSON.parse(text.slice(cut + 1));
    const key = await crypto.subtle.importKey("jwk", jwk, params.import[alg], false, ["verify"]);
    const results = [];
    for (const test of tests) {
      let verified;
      try {
        verified = await crypto.subtle.verify(params.verify[alg], key, bytes(test.sig), bytes(test.msg));
      } catch (error) {
        verified = `threw: ${error?.message ?? error}`;
      }
      results.push(verified);
    }
    return Response.json({ alg, jwk, results });
  },
};
