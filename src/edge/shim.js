// The worker's JavaScript entry (worker-build's CUSTOM_SHIM). It instantiates the wasm once per
// isolate and executes the steps of the Rust edge core (src/pipeline/): `begin` runs a request's
// phases until one needs the outside world and answers with a step (respond, verify a signature,
// probe the Frontend API, fetch the origin or an asset); this file does what the step says and
// hands the result back with `verified`, `probed` or `fetched`, which answer with the next step.
// Nothing here decides anything. The boundary is binary (src/wire.rs): a request is written into
// wasm memory with one `encodeInto` and the call takes numbers; a step comes back as 32-bit words
// and one text area decoded once. A warm request costs two calls into wasm (`begin`, `fetched`);
// a cold one a third per signature check.
//
// Start-up: the settings are read and a throwaway warm-up request is run at the module's top
// level, when workerd loads the isolate, so that the first client request finds the wasm
// compiled. Randomness is refused there: the seed is given on the first request.
//
// Recovery: a Rust panic aborts the wasm instance (panic = "abort"), leaving its memory in an
// unknown state. The worker crate's panic hook marks `globalThis.__worker_init_state`; a trap
// that skips the hook is caught here. The next request then runs on a fresh instance: the glue's
// reinit path (wasm-bindgen) builds one from the same module, drops its cached memory views and
// ignores callbacks from the old instance; the settings are read again into it.
import * as wasm from "./index_bg.js";
import wasmModule from "./index.wasm";
import { env as startupEnv } from "cloudflare:workers";
$SNIPPET_JS_IMPORTS

// The wasm-bindgen glue's reinit path names these as free variables.
globalThis.wasmModule = wasmModule;
globalThis.__wbg_get_imports = () => ({
  "./index_bg.js": wasm,
  $SNIPPET_WASM_IMPORTS
});
globalThis.wasmInstance = new WebAssembly.Instance(wasmModule, globalThis.__wbg_get_imports());
wasm.__wbg_set_wasm(globalThis.wasmInstance.exports);
globalThis.wasmInstance.exports.__wbindgen_start?.();

const scheduleReinit = Object.keys(wasm)
  .filter((name) => name.startsWith("__wbg___wbindgen_reinit_"))
  .map((name) => wasm[name])[0];

function initState() {
  return globalThis.__worker_init_state ?? {};
}

// A trap is noted once, however many promise handlers it passes through on its way out.
const notedTraps = new WeakSet();

function noteTrap(error) {
  if (error instanceof WebAssembly.RuntimeError && !notedTraps.has(error)) {
    notedTraps.add(error);
    console.error(JSON.stringify({ level: "error", event: "wasm-trap", message: String(error.message) }));
    initState().criticalError = true;
  }
}

addEventListener("error", (event) => noteTrap(event.error));

/** A rejection handler: notes a trap and passes the error on. */
function trapped(error) {
  noteTrap(error);
  throw error;
}

if (wasm.wireVersion() !== 4) throw new Error("edgegate: the entry and the wasm disagree on the wire version");

// --- the shared memory: the inbox the entry writes into, the answers it reads ---------------
const encoder = new TextEncoder();
const decoder = new TextDecoder();
let memory = null;
let bytes = new Uint8Array(0);
let words = new Uint32Array(0);
let inboxAt = 0;
let inboxSize = 0;

/** Views over the current memory (a grown memory detaches the old ones). */
function views() {
  if (bytes.byteLength === 0 || bytes.buffer !== memory.buffer) {
    bytes = new Uint8Array(memory.buffer);
    words = new Uint32Array(memory.buffer);
  }
}

function attachMemory() {
  memory = wasm.wasmMemory();
  inboxSize = 16384;
  inboxAt = wasm.inbox(inboxSize);
  bytes = new Uint8Array(0);
  views();
}

/** Writes `text` into the inbox as UTF-8 and returns its length in bytes. Synchronous with the
 * call that reads it: concurrent requests share the inbox. */
function write(text) {
  views();
  let { read, written } = encoder.encodeInto(text, bytes.subarray(inboxAt, inboxAt + inboxSize));
  if (read < text.length) {
    inboxSize = text.length * 3;
    inboxAt = wasm.inbox(inboxSize);
    views();
    ({ written } = encoder.encodeInto(text, bytes.subarray(inboxAt, inboxAt + inboxSize)));
  }
  return written;
}

/** The answer at `at` (a byte address): its words as `w` (an index into `words`) and its text. */
class Step {
  constructor(at) {
    views();
    this.w = at >>> 2;
    const textAt = words[this.w + 2];
    const textLen = words[this.w + 3];
    this.text = textLen === 0 ? "" : decoder.decode(bytes.subarray(textAt, textAt + textLen));
    this.at = this.w + 6;
  }
  get kind() {
    return words[this.w];
  }
  get id() {
    return words[this.w + 1];
  }
  number() {
    return words[this.at++];
  }
  string() {
    const start = words[this.at];
    const end = words[this.at + 1];
    this.at += 2;
    return start === end ? "" : this.text.slice(start, end);
  }
  /** The signature check's bytes, copied out of wasm memory (before any await). */
  copyBytes() {
    const at = words[this.w + 4];
    return bytes.slice(at, at + words[this.w + 5]);
  }
  /** A header list as `[name, value]` pairs for `new Headers`. */
  headers() {
    const pairs = [];
    for (let n = this.number(); n > 0; n--) pairs.push([this.string(), this.string()]);
    return pairs;
  }
  /** Applies an edit list (0 deletes, 1 appends) to `headers`. */
  edit(headers) {
    for (let n = this.number(); n > 0; n--) {
      const op = this.number();
      const name = this.string();
      const value = this.string();
      if (op === 0) {
        headers.delete(name);
        continue;
      }
      try {
        headers.append(name, value);
      } catch {
        // A pair the runtime refuses (the planners never emit one) is dropped.
      }
    }
    return headers;
  }
}

const KIND = { RESPOND: 1, VERIFY: 2, PROBE: 3, FETCH_ORIGIN: 4, FETCH_ASSET: 5, STREAM: 6, PASS_THROUGH: 7 };

/** A request (or response) as the inbox text: `method\nurl\n`, then `name\nvalue\n` per header.
 * `forEach` rather than the pair iterator: no array per header (measured in workerd with
 * bench/workers/amplify.mjs: 3.2 µs against 5.5 for a request's headers). */
function requestText(request) {
  inboxText = request.method + "\n" + request.url + "\n";
  request.headers.forEach(appendHeader);
  return takeInboxText();
}

function headersText(headers) {
  inboxText = "";
  headers.forEach(appendHeader);
  return takeInboxText();
}

/** The text built, and no credential kept alive in the module after it. */
function takeInboxText() {
  const text = inboxText;
  inboxText = "";
  return text;
}

let inboxText = "";

function appendHeader(value, name) {
  inboxText += name + "\n" + value + "\n";
}

// --- settings, once per isolate (and again into a fresh instance after a trap) --------------
let configured = false;
let seeded = false;
// Counts fresh instances: a request that began on an earlier one must not hand the fresh one
// the id it was given there (the fresh instance numbers its requests anew); it gets the
// gateway's "request-expired" answer (`expired`) instead.
let instanceGeneration = 0;

function configure(env) {
  attachMemory();
  // Every text value of the environment (vars and secrets; bindings are objects and are left
  // out): the gateway reads its settings and warns about names that look like misspelt ones.
  const settings = {};
  const bindings = [];
  for (const [name, value] of Object.entries(env ?? {})) {
    // wrangler gives [vars] of other types as JSON values; a number or boolean means its text.
    if (typeof value === "string") settings[name] = value;
    else if (typeof value === "number" || typeof value === "boolean") settings[name] = String(value);
    else if (value && typeof value === "object") bindings.push(name);
  }
  const problems = wasm.configure(JSON.stringify(settings), bindings.join("\n"));
  if (problems) for (const line of problems.split("\n")) console.error(line);
  configured = true;
}

// At start-up: the settings, then the warm-up (a few rounds, so that the warm path's functions
// are past their first, slowest compilation). A failure here is left to the first request, which
// configures again.
try {
  configure(startupEnv);
  wasm.warmUp(Date.now(), 8);
} catch (error) {
  noteTrap(error);
  configured = false;
}

/** One seed per instance, on its first request (randomness is refused at start-up). */
function seedOnce() {
  seeded = wasm.seed(crypto.getRandomValues(new Uint8Array(32)));
}

function logLine(step, started) {
  const open = step.string();
  if (open) console.log(open + ',"duration_ms":' + Math.max(0, Date.now() - started) + "}");
}

function headersOf(pairs) {
  try {
    return new Headers(pairs);
  } catch {
    // A pair the runtime refuses (the planners never emit one): add the rest one by one.
    const headers = new Headers();
    for (const [name, value] of pairs) {
      try {
        headers.append(name, value);
      } catch {
        // dropped
      }
    }
    return headers;
  }
}

// --- I/O -------------------------------------------------------------------------------------
/**
 * A fetch with redirects never followed and nothing cached, given up with "timed out" when the
 * response headers have not arrived after `timeoutMs` (the timer is cleared as soon as they do,
 * so a long streamed body is never cut). `then(kind, response)` runs once it settles: kind 0 =
 * response, 1 = timed out, 2 = failed. One promise reaction, no async frames: this is the warm
 * path.
 *
 * The timeout races a timer rather than passing an AbortSignal: a fetch given a signal must keep
 * its response body abortable, which costs the runtime more on every proxied request than a
 * timer does, and a fetch given up on is cancelled by the runtime anyway once the request it
 * belongs to has its response (nothing here is kept alive with waitUntil).
 */
function fetchWithin(url, init, timeoutMs, then) {
  init.redirect = "manual";
  init.cache = "no-store";
  let pending;
  try {
    pending = fetch(url, init);
  } catch (error) {
    pending = Promise.reject(error);
  }
  // One promise settled by whichever comes first, rather than Promise.race over a second timer
  // promise: two promises and two reactions fewer per request. `settled` makes the loser a no-op.
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (kind, response) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      try {
        resolve(then(kind, response));
      } catch (error) {
        // A trap in the wasm call `then` makes: noted here, so that the warm path needs no
        // extra promise to catch it on the way out.
        noteTrap(error);
        reject(error);
      }
    };
    const timer = setTimeout(settle, timeoutMs, 1, null);
    pending.then(
      (response) => settle(0, response),
      () => settle(2, null),
    );
  });
}

// WebCrypto: parameters built once, each key imported once per instance.
const IMPORT_PARAMS = {
  RS256: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
  ES256: { name: "ECDSA", namedCurve: "P-256" },
};
const VERIFY_PARAMS = {
  RS256: { name: "RSASSA-PKCS1-v1_5" },
  ES256: { name: "ECDSA", hash: "SHA-256" },
};
// A step's alg code (src/wire.rs: 1 = RS256, 2 = ES256).
const ALG_NAMES = [null, "RS256", "ES256"];
let cryptoKeys = [];
// The imported keys themselves, once their import has settled: a cold request then awaits only
// its verify, not an already-settled import as well.
let readyKeys = [];

function cryptoKey(index) {
  if (!cryptoKeys[index]) {
    const text = wasm.keyJwk(index);
    const cut = text.indexOf("\n");
    const alg = text.slice(0, cut);
    if (cut < 0 || !IMPORT_PARAMS[alg]) return Promise.reject(new Error("no such key"));
    const imported = crypto.subtle.importKey("jwk", JSON.parse(text.slice(cut + 1)), IMPORT_PARAMS[alg], false, ["verify"]);
    cryptoKeys[index] = imported;
    imported.then(
      (key) => {
        if (cryptoKeys[index] === imported) readyKeys[index] = key;
      },
      // A failed import is tried again by the next request that needs the key.
      () => {
        if (cryptoKeys[index] === imported) cryptoKeys[index] = undefined;
      },
    );
  }
  return cryptoKeys[index];
}

/** A `VERIFY` step (key index, alg, message length): whether it verified. The bytes are copied
 * out of wasm memory before the first await. */
async function verify(step) {
  const keyIndex = step.number();
  const alg = ALG_NAMES[step.number()];
  const messageLen = step.number();
  const input = step.copyBytes();
  let verified = false;
  try {
    const key = readyKeys[keyIndex] ?? (await cryptoKey(keyIndex));
    verified = await crypto.subtle.verify(VERIFY_PARAMS[alg], key, input.subarray(messageLen), input.subarray(0, messageLen));
  } catch (error) {
    // Fails closed: the signature counts as not verified.
    console.error(JSON.stringify({ level: "error", event: "webcrypto-failed", message: String(error?.message ?? error) }));
  }
  return verified === true;
}

/** A `RESPOND` step (status, log, body, headers). */
function ownResponse(step, started) {
  const status = step.number();
  logLine(step, started);
  const body = step.string();
  const headers = headersOf(step.headers());
  return new Response(body === "" ? null : body, { status, headers });
}

/** The step after a fetch: `STREAM`, `PASS_THROUGH` or `RESPOND` (which replaces the fetched
 * response). */
function fetchedResponse(at, fetched, started) {
  const step = new Step(at);
  switch (step.kind) {
    case KIND.STREAM: {
      step.number(); // the status: the fetched response's own
      logLine(step, started);
      if (words[step.at] === 0) return fetched;
      // Copies status, status text and headers in one runtime call; the edits adjust the copy.
      const response = new Response(fetched.body, fetched);
      step.edit(response.headers);
      return response;
    }
    case KIND.PASS_THROUGH:
      logLine(step, started);
      return fetched;
    case KIND.RESPOND:
      // A response of the gateway's own replaces the fetched one (an origin failure, or a
      // preflight's status and CORS headers alone): its body is never read.
      fetched?.body?.cancel().catch(() => {});
      return ownResponse(step, started);
    default:
      throw new Error("edgegate: unreadable step after a fetch");
  }
}

/** Hands a result back to request `id`, unless the instance was replaced since it started. */
function resumed(generation, call) {
  return generation === instanceGeneration ? call() : wasm.expired();
}

/**
 * Does what the step at `at` says, and what each step after it says, until the request is over:
 * a Response, or a promise of one.
 */
function drive(at, request, env, started, generation) {
  const step = new Step(at);
  const id = step.id;
  switch (step.kind) {
    case KIND.RESPOND:
      return ownResponse(step, started);
    case KIND.VERIFY:
      return verify(step)
        .then((ok) => drive(resumed(generation, () => wasm.verified(id, ok)), request, env, started, generation))
        .catch(trapped);
    case KIND.PROBE: {
      const url = step.string();
      const timeoutMs = step.number();
      return fetchWithin(url, { method: "GET" }, timeoutMs, (kind, response) =>
        drive(resumed(generation, () => wasm.probed(id, kind, response?.status ?? 0)), request, env, started, generation),
      );
    }
    case KIND.FETCH_ORIGIN: {
      const method = step.string();
      const url = step.string();
      const timeoutMs = step.number();
      const forwardBody = step.number() === 1;
      const init = { method, headers: step.edit(new Headers(request.headers)) };
      if (forwardBody && request.body) init.body = request.body;
      return fetchWithin(url, init, timeoutMs, (kind, response) => finishFetch(id, generation, kind, response, started));
    }
    case KIND.FETCH_ASSET:
      return assetAndFinish(id, generation, step.string(), env, started).catch(trapped);
    default:
      throw new Error("edgegate: unreadable step");
  }
}

function finishFetch(id, generation, kind, response, started) {
  const at = resumed(generation, () =>
    wasm.fetched(id, kind, response?.status ?? 0, response ? write(headersText(response.headers)) : 0),
  );
  return fetchedResponse(at, response, started);
}

async function assetAndFinish(id, generation, url, env, started) {
  let response = null;
  try {
    response = await env.ASSETS.fetch(url);
  } catch {
    // No ASSETS binding, or the fetch failed: the gateway answers 500.
  }
  return finishFetch(id, generation, response ? 0 : 2, response, started);
}

// --- key refresh (JWKS_URL; src/pipeline/key_refresh.rs) -------------------------------------------
/** The key set changed: keys are imported again, by index, from the new set. */
function dropImportedKeys() {
  cryptoKeys = [];
  readyKeys = [];
}

// When the core wants the stored JWKS read again (it says; Infinity when the refresh is off).
// Read in the background with waitUntil: no request waits on KV.
let keysPickupAt = 0;

function noteKeysPickup(started, env, ctx) {
  const answer = wasm.keysPickup(started);
  const cut = answer.indexOf("\n");
  keysPickupAt = Number(answer.slice(cut + 1));
  if (answer.charCodeAt(0) !== 49 /* "1" */ || !ctx?.waitUntil) return;
  const kv = env.EDGEGATE_KEYS;
  const generation = instanceGeneration;
  const install = (keys, status, ok) => {
    if (generation !== instanceGeneration) return;
    const text = wasm.installStoredKeys(keys ?? undefined, status ?? undefined, ok, Date.now());
    if (text.charCodeAt(0) === 49 /* "1" */) dropImportedKeys();
    const log = text.slice(2);
    if (log) console.log(log);
  };
  let reads;
  try {
    reads = Promise.all([kv.get("jwks"), kv.get("jwks-status")]);
  } catch (error) {
    reads = Promise.reject(error);
  }
  ctx.waitUntil(
    reads
      .then(
        ([keys, status]) => install(keys, status, true),
        () => install(null, null, false),
      )
      .catch(noteTrap),
  );
}

/** The JWKS body, read up to `maxBytes` + 1 bytes, all within `timeoutMs`. */
async function fetchJwks(url, timeoutMs, maxBytes) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const response = await fetch(url, { redirect: "manual", signal: controller.signal, headers: { accept: "application/json" } });
    const reader = response.body?.getReader();
    const chunks = [];
    let size = 0;
    while (reader && size <= maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
    if (size > maxBytes) reader.cancel().catch(() => {});
    const bytes = new Uint8Array(Math.min(size, maxBytes + 1));
    let at = 0;
    for (const chunk of chunks) {
      const part = chunk.subarray(0, bytes.length - at);
      bytes.set(part, at);
      at += part.length;
    }
    return { kind: 0, status: response.status, body: new TextDecoder().decode(bytes), truncated: size > maxBytes };
  } catch {
    return { kind: 2, status: 0, body: "", truncated: false };
  } finally {
    clearTimeout(timer);
  }
}

/** The Cron Trigger: fetch the JWKS the core names and store what it says in KV. */
async function refreshKeys(env) {
  recoverIfTrapped();
  if (!configured) configure(env);
  const generation = instanceGeneration;
  const plan = wasm.refreshFetch();
  if (!plan) return;
  const [url, timeoutMs, maxBytes] = plan.split("\n");
  const fetched = await fetchJwks(url, Number(timeoutMs), Number(maxBytes));
  if (generation !== instanceGeneration) return;
  const text = wasm.refreshFetched(fetched.kind, fetched.status, fetched.body, fetched.truncated, Date.now());
  const parts = text.split("\n");
  if (parts.length < 4) return;
  const [changed, keys, status] = parts;
  if (changed === "1") dropImportedKeys();
  console.log(parts.slice(3).join("\n"));
  const kv = env.EDGEGATE_KEYS;
  try {
    if (keys) await kv.put("jwks", keys);
    await kv.put("jwks-status", status);
  } catch (error) {
    console.error(JSON.stringify({ level: "error", event: "jwks-kv-write-failed", message: String(error?.message ?? error) }));
  }
}

/** After a trap, the next event runs on a fresh wasm instance. */
function recoverIfTrapped() {
  const state = initState();
  if (state.criticalError && scheduleReinit) {
    console.error(JSON.stringify({ level: "error", event: "wasm-reinit" }));
    state.criticalError = false;
    scheduleReinit();
    instanceGeneration++;
    configured = false;
    seeded = false;
    keysPickupAt = 0;
    cryptoKeys = [];
    readyKeys = [];
  }
}

function run(request, env, ctx) {
  if (!configured) configure(env);
  if (!seeded) seedOnce();
  const started = Date.now();
  if (started >= keysPickupAt) noteKeysPickup(started, env, ctx);
  const at = wasm.begin(write(requestText(request)), started);
  return drive(at, request, env, started, instanceGeneration);
}

export default {
  scheduled(controller, env, ctx) {
    return refreshKeys(env).catch((error) => {
      noteTrap(error);
      throw error;
    });
  },
  fetch(request, env, ctx) {
    recoverIfTrapped();
    // A Response, or a promise whose every path notes a trap itself (fetchWithin's settle, the
    // `trapped` handlers in drive).
    try {
      return run(request, env, ctx);
    } catch (error) {
      return trapped(error);
    }
  },
};
