// The release wasm's own cost per request, in node (V8, as workerd), outside any runtime I/O:
// the exact calls the worker's entry (src/edge/shim.js) makes into wasm for one request, in a
// loop, with the glue and the wasm as build/ holds them.
//   warm: the request written into the inbox, begin (a cached token) + fetched with the response
//         headers written, i.e. the two calls of a warm proxied request, and the answers read
//   cold: begin (answers VERIFY) + the bytes copied out + verified (answers FETCH_ORIGIN) +
//         fetched; the WebCrypto verify itself is timed apart (`webcrypto_verify`), as node's
//         crypto.subtle does it.
// Each figure is the median over ROUNDS rounds of the mean over ITERATIONS requests, after a
// warm-up long enough for V8 to tier the wasm up. Prints one JSON object on stdout.
//   node bench/steps.mjs [--rounds N] [--iterations N] [--build DIR (default build/)] [--alg RS256|ES256]
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { APP_ORIGIN, BUILD_DIR, generateKeys, median, mintToken, nowSeconds, sessionClaims } from "../tests/e2e/helpers.mjs";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const ROUNDS = arg("rounds", 7);
const ITERATIONS = arg("iterations", 400);
const WARMUP_MS = arg("warmup-ms", 3000);
// --warm-only: the warm loop alone (for a profile of the warm path: node --cpu-prof ...).
const WARM_ONLY = process.argv.includes("--warm-only");
const at = process.argv.indexOf("--build");
const BUILD = at > 0 ? process.argv[at + 1] : BUILD_DIR;

// The bundled entry imports the wasm as a module (workerd's CompiledWasm rule); node cannot, so
// a copy of it compiles the file instead. The glue's API is what the entry hands the instance as
// its "./index_bg.js" imports.
async function loadGlue() {
  const shim = readFileSync(join(BUILD, "worker", "shim.mjs"), "utf8");
  const wasmPath = JSON.stringify(join(BUILD, "worker", "index.wasm"));
  const withWasm = shim.replace(
    /import\s*(\w+)\s*from\s*"\.\/index\.wasm";/,
    (_, name) => `const ${name} = new WebAssembly.Module((await import("node:fs")).readFileSync(${wasmPath}));`,
  );
  if (withWasm === shim) throw new Error("bench/steps: the entry's wasm import was not found");
  // No workerd here: the start-up settings are empty (the entry configures nothing at load).
  const patched = withWasm.replace(/import\s*\{\s*env as (\w+)\s*\}\s*from\s*"cloudflare:workers";/, "const $1 = undefined;");
  mkdirSync(join(BUILD_DIR, "bench"), { recursive: true });
  const copy = join(BUILD_DIR, "bench", `steps-shim-${process.pid}.mjs`);
  writeFileSync(copy, patched);
  globalThis.addEventListener ??= () => {};
  try {
    await import(pathToFileURL(copy).href);
  } finally {
    rmSync(copy, { force: true });
  }
  return globalThis.__wbg_get_imports()["./index_bg.js"];
}

/** The request as the entry writes it: `GET\nurl\n`, then the header blob. */
function requestBlob(pairs) {
  return "GET\n" + URL + "\n" + headerBlob(pairs);
}

function headerBlob(pairs) {
  let blob = "";
  for (const [name, value] of pairs) blob += name + "\n" + value + "\n";
  return blob;
}

// What the bench's autocannon client and node origin send, as workerd shows them to the worker.
const URL = "http://127.0.0.1:8787/api/data";
const requestPairs = (token) => [
  ["accept", "*/*"],
  ["authorization", `Bearer ${token}`],
  ["cf-connecting-ip", "127.0.0.1"],
  ["host", "127.0.0.1:8787"],
  ["user-agent", "autocannon"],
];
const RESPONSE_BLOB = headerBlob([
  ["connection", "keep-alive"],
  ["content-length", "27"],
  ["content-type", "application/json"],
  ["date", new Date().toUTCString()],
  ["keep-alive", "timeout=5"],
]);

// The entry's side of the binary boundary (src/wire.rs), as src/edge/shim.js does it.
const KIND = { VERIFY: 2, FETCH_ORIGIN: 4, STREAM: 6 };
const encoder = new TextEncoder();
const decoder = new TextDecoder();
function boundary(glue) {
  const memory = glue.wasmMemory();
  let size = 16384;
  let inboxAt = glue.inbox(size);
  let bytes = new Uint8Array(memory.buffer);
  let words = new Uint32Array(memory.buffer);
  const views = () => {
    if (bytes.byteLength === 0) {
      bytes = new Uint8Array(memory.buffer);
      words = new Uint32Array(memory.buffer);
    }
  };
  return {
    write(text) {
      views();
      const { read, written } = encoder.encodeInto(text, bytes.subarray(inboxAt, inboxAt + size));
      if (read < text.length) throw new Error("bench/steps: inbox too small");
      return written;
    },
    /** The answer at `at`: kind, id, its text decoded, the words from its fields on. */
    read(at) {
      views();
      const w = at >>> 2;
      const textAt = words[w + 2];
      const text = decoder.decode(bytes.subarray(textAt, textAt + words[w + 3]));
      return { kind: words[w], id: words[w + 1], text, w, words, bytes };
    },
  };
}

async function measure(alg, glue) {
  const keys = generateKeys(alg);
  const settings = { CLERK_JWT_KEY: keys.publicPem, AUTHORIZED_PARTIES: APP_ORIGIN, ORIGIN_URL: "http://127.0.0.1:9" };
  // A fresh instance per algorithm (`configure` runs once per instance, as once per isolate),
  // through the glue's own reinit path so that it drops its views of the old memory.
  const reinit = Object.keys(glue).find((name) => name.startsWith("__wbg___wbindgen_reinit_"));
  glue[reinit]();
  // The glue swaps instances at the start of its next call; one without arguments, so that no
  // argument is copied into the old instance's memory first (the entry's order too).
  glue.settingNames();
  const problems = glue.configure(JSON.stringify(settings), "");
  if (problems) throw new Error(`bench/steps: settings refused: ${problems}`);
  if (!glue.seed(crypto.getRandomValues(new Uint8Array(32)))) throw new Error("bench/steps: seed refused");
  const io = boundary(glue);
  const jwk = glue.keyJwk(0);
  const importParams = alg === "RS256" ? { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } : { name: "ECDSA", namedCurve: "P-256" };
  const verifyParams = alg === "RS256" ? { name: "RSASSA-PKCS1-v1_5" } : { name: "ECDSA", hash: "SHA-256" };
  const key = await crypto.subtle.importKey("jwk", JSON.parse(jwk.slice(jwk.indexOf("\n") + 1)), importParams, false, ["verify"]);

  const now = nowSeconds();
  // Each token distinct (its own sid and jti): RS256 signatures are deterministic, so tokens with
  // the same claims would be one token, and the cold loop would time cache hits.
  let minted = 0;
  const mint = () => {
    const n = minted++;
    const claims = sessionClaims({ azp: APP_ORIGIN, exp: now + 3600, sid: `sess_steps_${String(n).padStart(20, "0")}`, jti: `jti_${n.toString(36)}` }, now);
    return mintToken({ privatePem: keys.privatePem, alg, claims });
  };
  let asked = 0;
  let measuring = false;

  // One request's calls, as the entry makes them. `verified` answers the signature question.
  async function request(blob, verified) {
    const started = Date.now();
    let step = io.read(glue.begin(io.write(blob), started));
    const id = step.id;
    while (step.kind === KIND.VERIFY) {
      asked++;
      const messageLen = step.words[step.w + 8];
      const at = step.words[step.w + 4];
      const bytes = step.bytes.slice(at, at + step.words[step.w + 5]);
      const ok = verified ? await crypto.subtle.verify(verifyParams, key, bytes.subarray(messageLen), bytes.subarray(0, messageLen)) : true;
      step = io.read(glue.verified(id, ok));
    }
    if (step.kind !== KIND.FETCH_ORIGIN) throw new Error(`bench/steps: expected a proxy step, got kind ${step.kind}: ${step.text.slice(0, 80)}`);
    const out = io.read(glue.fetched(id, 0, 200, io.write(RESPONSE_BLOB)));
    if (out.kind !== KIND.STREAM) throw new Error(`bench/steps: expected a stream step, got kind ${out.kind}`);
  }

  // warm: the token is verified once, then every request hits the cache. (The cold loop's
  // tokens push it out of the capped cache, so each warm loop verifies it again first.)
  const warmBlob = requestBlob(requestPairs(mint()));
  const warmLoop = async () => {
    await request(warmBlob, true);
    const t0 = performance.now();
    for (let i = 0; i < ITERATIONS; i++) {
      const started = Date.now();
      const step = io.read(glue.begin(io.write(warmBlob), started));
      if (step.kind !== KIND.FETCH_ORIGIN) throw new Error(`bench/steps: warm request was not proxied: ${step.text.slice(0, 80)}`);
      io.read(glue.fetched(step.id, 0, 200, io.write(RESPONSE_BLOB)));
    }
    return ((performance.now() - t0) * 1000) / ITERATIONS;
  };

  // cold: a token never seen before on every request; the answer is taken as given so that the
  // loop times the wasm, not WebCrypto (which is timed below, on the same signatures).
  // The warm-up cycles through more tokens than the cache holds (1024), so that its cold requests
  // stay cold too; the measured rounds then use tokens of their own.
  const WARMUP_TOKENS = WARM_ONLY ? 1 : 1100;
  const pool = Array.from({ length: WARM_ONLY ? 2 : WARMUP_TOKENS + ITERATIONS * ROUNDS + 64 }, () => requestBlob(requestPairs(mint())));
  // Two cursors: the warm-up's goes round its slice, the measured rounds' goes straight on.
  const warmupCursor = { base: 0, span: WARMUP_TOKENS, next: 0 };
  const measuredCursor = { base: WARMUP_TOKENS, span: pool.length - WARMUP_TOKENS, next: 0 };
  let cursor = warmupCursor;
  const coldLoop = async () => {
    const t0 = performance.now();
    const askedBefore = asked;
    for (let i = 0; i < ITERATIONS; i++) await request(pool[cursor.base + (cursor.next++ % cursor.span)], false);
    if (measuring && asked - askedBefore !== ITERATIONS) throw new Error("bench/steps: a cold request did not verify a signature (a repeated token?)");
    return ((performance.now() - t0) * 1000) / ITERATIONS;
  };
  const verifyLoop = async () => {
    const token = mint();
    const [h, p, s] = token.split(".");
    const message = new TextEncoder().encode(`${h}.${p}`);
    const signature = Buffer.from(s, "base64url");
    const t0 = performance.now();
    for (let i = 0; i < ITERATIONS; i++) {
      if (!(await crypto.subtle.verify(verifyParams, key, signature, message))) throw new Error("bench/steps: verify failed");
    }
    return ((performance.now() - t0) * 1000) / ITERATIONS;
  };

  // Warm-up: V8 compiles wasm lazily and tiers hot functions up after a while.
  for (const until = performance.now() + WARMUP_MS; performance.now() < until; ) {
    await warmLoop();
    if (!WARM_ONLY) await coldLoop();
  }
  // The measured rounds use tokens the warm-up never sent.
  cursor = measuredCursor;
  measuring = true;
  const warm = [];
  const cold = [];
  const webcrypto = [];
  for (let r = 0; r < ROUNDS; r++) {
    warm.push(await warmLoop());
    if (WARM_ONLY) continue;
    cold.push(await coldLoop());
    webcrypto.push(await verifyLoop());
  }
  return {
    warm_request_us: median(warm),
    cold_request_us: WARM_ONLY ? null : median(cold),
    webcrypto_verify_us: WARM_ONLY ? null : median(webcrypto),
  };
}

const glue = await loadGlue();
const out = { build: BUILD, rounds: ROUNDS, iterations: ITERATIONS, node: process.version };
const algAt = process.argv.indexOf("--alg");
for (const alg of algAt > 0 ? [process.argv[algAt + 1]] : ["RS256", "ES256"]) out[alg] = await measure(alg, glue);
console.log(JSON.stringify(out));
