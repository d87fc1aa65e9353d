// A/B of worker builds, for trying a change: workerd CPU per request and req/s of each variant,
// warm path (one token), interleaved rounds, loopback origin. Not part of bench/run.sh.
// Variants without assets run under `workerd serve` (bench/workerd.mjs), those with under
// Miniflare (its asset router).
//   node bench/ab.mjs NAME=SPEC ...   (the first variant is the baseline)
//   SPEC: js:<worker.mjs> | js+assets:<worker.mjs> | edgegate | edgegate:noassets
//         | edgegate:lean:noassets (the lean profile) | amp:<OP>:<N> (bench/workers/amplify.mjs: one runtime operation N times a request)
//   DIR_<NAME>=<folder> runs an edgegate build kept elsewhere (a copy of build/).
//   COLD=<N> sends a distinct token per request from a pool of N (the cold path).
//   V8_FLAGS="--perf-basic-prof" passes V8 flags to the workerd-served variants (for perf);
//   FLAGS_<NAME>="..." to one variant only (for instance --no-liftoff, to price the wasm's tiers).
//   ROUNDS (3) and DUR (seconds, 3) bound the run; WARM (seconds, 0) loads each variant once
//   before the rounds (V8 tiers wasm up to TurboFan over the first tens of seconds).
// Example: node bench/ab.mjs pt=js:bench/workers/passthrough.mjs old=edgegate:noassets new=edgegate:noassets

import { spawn } from "node:child_process";
import { join } from "node:path";
import autocannon from "autocannon";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { cpuMicros as cpuOf, edgegateModules, newestChildWorkerd, serveWorker } from "./workerd.mjs";
import { APP_ORIGIN, BUILD_DIR, ROOT, WWW_DIR, compatibilityDate, generateKeys, median as med, mintToken, nowSeconds, sessionClaims } from "../tests/e2e/helpers.mjs";
const DUR = Number(process.env.DUR ?? 3), ROUNDS = Number(process.env.ROUNDS ?? 3), CONN = 16;
const origin = await new Promise((res) => { const c = spawn(process.execPath, [join(ROOT, "bench/origin.mjs")], { stdio: ["ignore", "pipe", "inherit"] }); c.stdout.once("data", (d) => res({ url: `http://127.0.0.1:${Number(String(d))}`, stop: () => c.kill() })); });
const now = nowSeconds();
const k = generateKeys("RS256");
const token = mintToken({ privatePem: k.privatePem, alg: "RS256", header: { kid: "ins_x" }, claims: sessionClaims({ azp: APP_ORIGIN, exp: now + 3600 }, now) });
const bindings = { CLERK_JWT_KEY: k.publicPem, AUTHORIZED_PARTIES: APP_ORIGIN, ORIGIN_URL: origin.url };
const specs = process.argv.slice(2);
const live = [];
for (const s of specs) {
  const cut = s.indexOf("=");
  const name = s.slice(0, cut), spec = s.slice(cut + 1);
  const amp = spec.startsWith("amp:") ? spec.split(":") : null;
  // `edgegate:lean` (with or without :noassets): the lean profile's settings.
  const lean = spec.startsWith("edgegate") && spec.includes("lean") ? { LOG_REQUESTS: "refusals", AUTH_STATUS_HEADER: "false" } : {};
  // `js:<file>@K=V,K=V` adds bindings to a JavaScript worker (bench/workers/edgegate-runtime.mjs's CUT).
  const extra = Object.fromEntries((spec.split("@")[1] ?? "").split(",").filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
  const workerBindings = amp ? { ...bindings, OP: amp[1], N: amp[2] ?? "1" } : { ...bindings, ...lean, ...extra };
  const common = { modules: true, compatibilityDate: compatibilityDate(), bindings: workerBindings, host: "127.0.0.1", port: 0, handleRuntimeStdio(a, b) { a.resume(); b.resume(); } };
  const assets = { directory: WWW_DIR, binding: "ASSETS", routerConfig: { invoke_user_worker_ahead_of_assets: true, has_user_worker: true }, assetConfig: { html_handling: "none", not_found_handling: "none" } };
  let opts;
  if (spec.startsWith("edgegate")) {
    const dir = process.env[`DIR_${name}`] ?? BUILD_DIR;
    opts = { ...common, name: "edgegate", scriptPath: join(dir, "index.js"), modulesRoot: dir, modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true }] };
    if (!spec.includes("noassets")) opts.assets = assets;
  } else {
    const file = amp ? join(ROOT, "bench/workers/amplify.mjs") : spec.replace(/^js(\+assets)?:/, "").split("@")[0];
    const out = join(BUILD_DIR, "ab", name + ".bundle.js");
    await build({ entryPoints: [file], outfile: out, bundle: true, format: "esm", platform: "browser", target: "es2022", conditions: ["workerd", "worker", "browser"], minify: true, logLevel: "error" });
    opts = { ...common, name, scriptPath: out, modulesRoot: join(BUILD_DIR, "ab") };
    if (spec.startsWith("js+assets")) opts.assets = assets;
  }
  let stop, pid, url;
  if (opts.assets) {
    const mf = new Miniflare(opts);
    url = (await mf.ready).toString().replace(/\/$/, "");
    stop = () => mf.dispose();
    pid = newestChildWorkerd();
  } else {
    const modules = opts.name === "edgegate" ? edgegateModules(opts.modulesRoot) : [{ name: "w.js", esModule: opts.scriptPath }];
    const flags = process.env[`FLAGS_${name}`] ?? process.env.V8_FLAGS;
    const v8Flags = flags ? flags.split(" ") : [];
    ({ stop, pid, url } = await serveWorker({ name, dir: join(BUILD_DIR, "ab", `workerd-${name}`), modules, bindings: workerBindings, v8Flags }));
  }
  if (live.some((w) => w.pid === pid)) throw new Error(`bench/ab: ${name} has no workerd of its own`);
  const r = await fetch(url + "/api/data", { headers: { authorization: `Bearer ${token}` } });
  console.error(name, "check", r.status, (await r.text()).slice(0, 80));
  live.push({ name, url, stop, pid, rps: [], cpu: [] });
}
// COLD=<N>: a pool of N distinct tokens, cycled (N above the token cache's 1,024 makes every request a miss).
const COLD = Number(process.env.COLD ?? 0);
const pool = Array.from({ length: COLD }, (_, i) => mintToken({ privatePem: k.privatePem, alg: "RS256", header: { kid: "ins_x" }, claims: sessionClaims({ azp: APP_ORIGIN, exp: now + 3600, sid: `sess_${i}` }, now) }));
let next = 0;
const coldRequests = [{ method: "GET", path: "/api/data", setupRequest(req) { req.headers = { ...req.headers, authorization: `Bearer ${pool[next++ % pool.length]}` }; return req; } }];
const run = (url, d) => new Promise((res, rej) => autocannon({ url: url + "/api/data", connections: CONN, duration: d, ...(COLD ? { requests: coldRequests } : { headers: { authorization: `Bearer ${token}` } }) }, (e, r) => e ? rej(e) : res(r)));
const WARM = Number(process.env.WARM ?? 0);
if (WARM > 0) for (const w of live) await run(w.url, WARM);
// PERF=<dir>: the last round of each variant is recorded with `perf record` (with V8_FLAGS="--perf-basic-prof", JS and wasm frames are named).
const perfRecord = (w) => spawn("perf", ["record", "-q", "-F", "2000", "-g", "-p", String(w.pid), "-o", join(process.env.PERF, `${w.name}.data`), "--", "sleep", String(DUR)], { stdio: "ignore" });
for (let round = 0; round < ROUNDS; round++) for (const w of live) { await run(w.url, 1); const c0 = cpuOf(w.pid); const rec = process.env.PERF && round === ROUNDS - 1 ? perfRecord(w) : null; const r = await run(w.url, DUR); if (rec) await new Promise((res) => rec.once("exit", res)); w.rps.push(r.requests.total / DUR); w.cpu.push((cpuOf(w.pid) - c0) / r.requests.total); if (r.non2xx) console.error(w.name, "non2xx", r.non2xx); }
const base = med(live[0].rps);
for (const w of live) { const m = med(w.rps); console.log(w.name.padEnd(20), m.toFixed(0).padStart(6), "rps", ((1e6 / m - 1e6 / base)).toFixed(0).padStart(5), "us overhead", "workerd cpu us/req", med(w.cpu).toFixed(0), w.cpu.map((x) => x.toFixed(0)).join(" "), "|", w.rps.map((x) => x.toFixed(0)).join(" ")); }
for (const w of live) await w.stop();
origin.stop();
