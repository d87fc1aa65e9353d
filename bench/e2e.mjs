// End-to-end load benchmark in workerd: the same node origin on loopback, the same keys, the
// workers of bench/workers/ side by side: (a) pass-through, (b) @clerk/backend verifyToken,
// (c) jose jwtVerify, the floors (d) jose + a per-isolate Map of verified tokens and (e) one
// crossing into a tiny wasm table per request, and edgegate. The like-for-like rows run under
// `workerd serve` directly; the "+assets" rows under Miniflare 4, whose asset router they need.
// Each round starts a fresh workerd per variant, all at once, then loads them one after the
// other, in the listed order in even rounds and reversed in odd ones (each figure is the median
// over the rounds, so that a burst of other load on the machine, or one unlucky process, hits
// every variant alike instead of one). Per variant and round: the first request of the fresh
// isolate, a short warm-up, a run at one fixed offered rate (--rate req/s, below every
// like-for-like worker's saturation: the CPU per request figures), then a run at saturation
// (16 connections as fast as they go: req/s, p50, p99); the process's own CPU time from /proc
// and its RSS (VmRSS) after the first request, after the warm-up and at the end.
//   warm: the same valid token on every request
//   cold: a distinct valid token on every request (pre-minted pool; repeats are counted; the
//         pool restarts with every round, whose processes are fresh)
// Overhead of a variant = its CPU per request minus the pass-through's, in the same round.
// BENCH_VARIANTS=label,label,... (labels as below) runs only those (the pass-through always).
// BENCH_OUT=dir writes e2e.json.tmp there instead of bench/results (for smoke runs).
// Writes bench/results/e2e.json.tmp; bench/report.mjs turns it into the table, JSON and chart.
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { performance } from "node:perf_hooks";
import autocannon from "autocannon";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import {
  APP_ORIGIN,
  BUILD_DIR,
  ROOT,
  WWW_DIR,
  compatibilityDate,
  generateKeys,
  median,
  mintToken,
  nowSeconds,
  sessionClaims,
} from "../tests/e2e/helpers.mjs";
import { buildTinyWasm } from "./tinywasm-build.mjs";
import { cpuMicros, cpuMicrosTicks, edgegateModules, newestChildWorkerd, serveWorker } from "./workerd.mjs";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const DURATION = arg("duration", 5); // seconds per measured run
const WARMUP = arg("warmup", 1); // seconds of warm-up before each measured run
const ROUNDS = arg("rounds", 3); // measured runs per (variant, mode), interleaved
const CONNECTIONS = arg("connections", 16);
const POOL = arg("pool", 80000); // distinct tokens per algorithm for the cold mode
const RATE = arg("rate", 400); // offered req/s of the fixed-rate run (0: none)
const RATE_DURATION = arg("rate-duration", DURATION); // seconds of the fixed-rate run
const PATH = "/api/data";
const EARLY_REQUESTS = 1000;
const BENCH_BUILD = join(BUILD_DIR, "bench");
const OUT = join(process.env.BENCH_OUT || join(ROOT, "bench", "results"), "e2e.json.tmp");

const log = (...a) => console.error("[e2e]", ...a);

// --- the origin, in its own process ------------------------------------------------------------
function startOrigin() {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, "bench", "origin.mjs")], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    child.once("error", reject);
    child.stdout.once("data", (d) => {
      const port = Number(String(d).trim());
      resolve({ url: `http://127.0.0.1:${port}`, stop: () => child.kill("SIGTERM") });
    });
  });
}

// --- the JS workers, bundled into single modules (the tiny wasm beside them) --------------------
const JS_WORKERS = ["passthrough", "clerk", "jose", "jose-cache", "tinywasm", "gateway-floor", "edgegate-runtime"];
async function bundleWorkers() {
  mkdirSync(BENCH_BUILD, { recursive: true });
  const tinyBytes = buildTinyWasm(join(BENCH_BUILD, "tiny.wasm"));
  log(`tiny wasm (bench/workers/tiny.wat): ${tinyBytes} bytes`);
  for (const name of JS_WORKERS) {
    await build({
      entryPoints: [join(ROOT, "bench", "workers", `${name}.mjs`)],
      outfile: join(BENCH_BUILD, `${name}.js`),
      bundle: true,
      format: "esm",
      platform: "browser",
      target: "es2022",
      conditions: ["workerd", "worker", "browser"],
      external: ["*.wasm"],
      minify: true,
      logLevel: "error",
    });
  }
}

// --- tokens ------------------------------------------------------------------------------------
function mintSlice(data) {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL("./mint-worker.mjs", import.meta.url), { workerData: data });
    w.once("message", resolve);
    w.once("error", reject);
  });
}

async function mintPool(key, count, now) {
  const half = Math.ceil(count / 2);
  const base = { privatePem: key.privatePem, alg: key.alg, now, azp: APP_ORIGIN, ttl: 3600 };
  const parts = await Promise.all([
    mintSlice({ ...base, from: 0, count: half }),
    mintSlice({ ...base, from: half, count: count - half }),
  ]);
  return parts.flat();
}

// --- workers in workerd ------------------------------------------------------------------------
// Miniflare runs a worker that has an [assets] binding behind its asset router, a second JS
// worker in the same workerd that every request passes through first (on Cloudflare that
// routing happens outside the worker's isolate). The like-for-like rows run every variant
// without it; the "+assets" rows run edgegate as its wrangler.toml deploys it, next to a
// pass-through behind the same router.
const ASSETS = {
  directory: WWW_DIR,
  binding: "ASSETS",
  routerConfig: { invoke_user_worker_ahead_of_assets: true, has_user_worker: true },
  assetConfig: { html_handling: "none", not_found_handling: "none" },
};

/** A like-for-like variant under `workerd serve` (bench/workerd.mjs). */
function startWorkerd(variant, bindings, dirName = variant) {
  const modules =
    variant === "edgegate"
      ? edgegateModules(BUILD_DIR)
      : [{ name: `${variant}.js`, esModule: join(BENCH_BUILD, `${variant}.js`) }];
  if (variant === "tinywasm") modules.push({ name: "tiny.wasm", wasm: join(BENCH_BUILD, "tiny.wasm") });
  return serveWorker({ name: dirName, dir: join(BENCH_BUILD, `workerd-${dirName}`), modules, bindings });
}

/** A "+assets" variant under Miniflare, behind its asset router. */
async function startMiniflare(variant, bindings) {
  const common = {
    modules: true,
    compatibilityDate: compatibilityDate(),
    bindings,
    host: "127.0.0.1",
    port: 0,
    // edgegate writes one JSON log line per request: workerd still produces it (that cost is
    // measured), the harness just does not print it.
    handleRuntimeStdio(stdout, stderr) {
      stdout.resume();
      stderr.resume();
    },
  };
  const opts =
    variant === "edgegate"
      ? {
          ...common,
          name: "edgegate",
          scriptPath: join(BUILD_DIR, "index.js"),
          modulesRoot: BUILD_DIR,
          modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true }],
        }
      : {
          ...common,
          name: variant,
          scriptPath: join(BENCH_BUILD, `${variant}.js`),
          modulesRoot: BENCH_BUILD,
        };
  opts.assets = ASSETS;
  const t0 = performance.now();
  const mf = new Miniflare(opts);
  const url = (await mf.ready).toString().replace(/\/$/, "");
  const readyMs = performance.now() - t0;
  return { stop: () => mf.dispose(), url, readyMs, pid: newestChildWorkerd(), runtime: "miniflare" };
}

/** Like-for-like rows run in workerd itself; "+assets" rows need Miniflare's asset router. */
const startVariant = (v, bindings) =>
  v.assets ? startMiniflare(v.variant, bindings) : startWorkerd(v.variant, bindings, v.label.replace(/\W+/g, "-"));

/** Sequential requests: the first one (the isolate's first) and the median of the rest. */
async function firstRequest(url, token) {
  const once = async () => {
    const t = performance.now();
    await checkRequest(url, token);
    return performance.now() - t;
  };
  const first = await once();
  const rest = [];
  for (let i = 0; i < 30; i++) rest.push(await once());
  return { first_ms: first, steady_ms: median(rest) };
}

/** One request, which must be proxied: a fresh process is up and configured. */
async function checkRequest(url, token) {
  const res = await fetch(url + PATH, { headers: { authorization: `Bearer ${token}` } });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`a request to ${url} answered ${res.status}: ${body}`);
}

// --- load --------------------------------------------------------------------------------------
function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * One autocannon run. `tokens`: one token (warm) or a pool consumed from `cursor.next` (cold).
 * Latencies are recorded from autocannon's per-response event in fractional ms (its own
 * histogram keeps whole milliseconds, too coarse for a few-ms loopback latency).
 */
function load(url, { duration, warm, tokens, cursor, rate, amount }) {
  return new Promise((resolve, reject) => {
    const latencies = [];
    const opts = {
      url: url + PATH,
      connections: CONNECTIONS,
      duration,
      pipelining: 1,
      timeout: 10,
    };
    // A fixed offered rate over all connections (autocannon's overallRate), else as fast as
    // the connections go.
    if (rate) opts.overallRate = rate;
    // A fixed number of requests instead of a duration (an isolate's first requests).
    if (amount) opts.amount = amount;
    if (warm) {
      opts.headers = { authorization: `Bearer ${tokens[0]}` };
    } else {
      opts.requests = [
        {
          method: "GET",
          path: PATH,
          setupRequest(req) {
            const i = cursor.next++;
            if (i >= tokens.length) cursor.repeats++;
            req.headers = { ...req.headers, authorization: `Bearer ${tokens[i % tokens.length]}` };
            return req;
          },
        },
      ];
    }
    const inst = autocannon(opts, (err, result) => {
      if (err) return reject(err);
      latencies.sort((a, b) => a - b);
      resolve({
        requests: result.requests.total,
        rps: result.requests.total / (result.duration || duration),
        duration_s: result.duration,
        p50_ms: percentile(latencies, 50),
        p99_ms: percentile(latencies, 99),
        mean_ms: latencies.reduce((s, x) => s + x, 0) / (latencies.length || 1),
        non2xx: result.non2xx,
        errors: result.errors,
        timeouts: result.timeouts,
        status_codes: Object.fromEntries(
          Object.entries(result.statusCodeStats ?? {}).map(([k, v]) => [k, v.count]),
        ),
      });
    });
    inst.on("response", (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
  });
}

/** VmRSS of a process, kB (from /proc/PID/status). */
function rssKb(pid) {
  const m = /^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : NaN;
}

/** One load run, with the workerd's own CPU time over it. */
async function loadWithCpu(url, pid, opts) {
  const before = cpuMicros(pid);
  const beforeTicks = cpuMicrosTicks(pid);
  const used = opts.cursor.next;
  const repeatsBefore = opts.cursor.repeats;
  const r = await load(url, opts);
  // The worker's own CPU per request (workerd: the worker, its runtime and its HTTP), steadier
  // on a loaded 2-core machine than req/s, which also moves with the load generator and origin.
  // From the threads' schedstat (ns); the clock-tick figure of /proc/PID/stat beside it, as a
  // cross-check.
  r.workerd_cpu_us_per_req = (cpuMicros(pid) - before) / Math.max(1, r.requests);
  r.workerd_cpu_ticks_us_per_req = (cpuMicrosTicks(pid) - beforeTicks) / Math.max(1, r.requests);
  r.tokens_used = opts.warm ? 1 : opts.cursor.next - used;
  r.token_repeats = opts.warm ? null : opts.cursor.repeats - repeatsBefore;
  r.valid = r.non2xx === 0 && r.errors === 0 && r.timeouts === 0;
  return r;
}

/**
 * One variant's round in its fresh process: warm-up, the fixed-rate run (not for the "+assets"
 * rows, whose saturation is below any useful rate), the saturation run, RSS along the way.
 */
async function measure(url, v, mode, tokens, cursor, pid) {
  const warm = mode === "warm";
  const rss_fresh_kb = rssKb(pid);
  // The fresh isolate's next 1,000 requests (after the 31 of the first-request probe), before
  // any warm-up: what a low-traffic isolate, still on baseline-compiled code, pays per request.
  const early = v.assets ? null : await loadWithCpu(url, pid, { duration: 30, amount: EARLY_REQUESTS, warm, tokens, cursor });
  await load(url, { duration: WARMUP, warm, tokens, cursor });
  const rss_warm_kb = rssKb(pid);
  let rate = null;
  if (RATE > 0 && !v.assets) {
    rate = await loadWithCpu(url, pid, { duration: RATE_DURATION, warm, tokens, cursor, rate: RATE });
    // Below saturation the run serves what is offered; a worker that falls 3% short was
    // saturated at this rate, and its CPU per request is then not comparable.
    rate.offered_rps = RATE;
    rate.kept_up = rate.rps >= 0.97 * RATE;
    rate.valid = rate.valid && rate.kept_up;
  }
  const r = await loadWithCpu(url, pid, { duration: DURATION, warm, tokens, cursor });
  r.rate = rate;
  r.early = early;
  r.rss_fresh_kb = rss_fresh_kb;
  r.rss_warm_kb = rss_warm_kb;
  r.rss_end_kb = rssKb(pid);
  if (rate) {
    r.token_repeats = warm ? null : r.token_repeats + rate.token_repeats;
    r.tokens_used = warm ? 1 : r.tokens_used + rate.tokens_used;
  }
  log(
    `${v.label.padEnd(22)} ${mode.padEnd(4)}` +
      (rate
        ? ` @${RATE}: ${rate.rps.toFixed(0).padStart(5)} req/s cpu ${rate.workerd_cpu_us_per_req.toFixed(0).padStart(4)} (ticks ${rate.workerd_cpu_ticks_us_per_req.toFixed(0)}) us/req p99 ${rate.p99_ms.toFixed(2)} ms ${rate.kept_up ? "" : "(DID NOT KEEP UP) "}|`
        : "") +
      ` sat: ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50_ms.toFixed(2)} ms  p99 ${r.p99_ms.toFixed(2)} ms  cpu ${r.workerd_cpu_us_per_req.toFixed(0)} us/req` +
      `  rss ${(rss_fresh_kb / 1024).toFixed(0)}/${(rss_warm_kb / 1024).toFixed(0)}/${(r.rss_end_kb / 1024).toFixed(0)} MB` +
      `  non2xx ${r.non2xx + (rate?.non2xx ?? 0)} errors ${r.errors + (rate?.errors ?? 0)}` +
      (warm ? "" : `  tokens ${r.tokens_used} repeats ${r.token_repeats}`),
  );
  r.valid = r.valid && (rate ? rate.valid : true) && (early ? early.valid : true);
  return r;
}

/** A token whose signature was altered must be refused (401) by every verifying worker. */
async function checkRefused(url, token) {
  const dot = token.lastIndexOf(".");
  const at = dot + 10;
  const bad = token.slice(0, at) + (token[at] === "A" ? "B" : "A") + token.slice(at + 1);
  const res = await fetch(url + PATH, { headers: { authorization: `Bearer ${bad}` } });
  await res.arrayBuffer();
  if (res.status !== 401) throw new Error(`${url} answered ${res.status} to a token with a bad signature`);
}

// --- main --------------------------------------------------------------------------------------
const started = performance.now();
const origin = await startOrigin();
log(`origin ${origin.url}`);
await bundleWorkers();

const now = nowSeconds();
const keys = { RS256: generateKeys("RS256"), ES256: generateKeys("ES256") };
const warmToken = {};
const pool = {};
for (const alg of ["RS256", "ES256"]) {
  const t = performance.now();
  warmToken[alg] = mintToken({
    privatePem: keys[alg].privatePem,
    alg,
    header: { kid: "ins_edgegate_bench" },
    claims: sessionClaims({ azp: APP_ORIGIN, exp: now + 3600 }, now),
  });
  pool[alg] = await mintPool(keys[alg], POOL, now);
  if (new Set(pool[alg]).size !== pool[alg].length) throw new Error("token pool has duplicates");
  log(`${alg}: minted ${pool[alg].length} distinct tokens in ${((performance.now() - t) / 1000).toFixed(1)} s`);
}

// Which worker runs with which key. @clerk/backend 3.25 verifies RS256/384/512 only: its
// `jwtKey` path builds an RSA JWK from the PEM and jwksAlgToCryptoAlg has no ES256, so there is
// no clerk ES256 variant to run.
const allVariants = [
  { label: "passthrough", variant: "passthrough", alg: "RS256" },
  { label: "clerk RS256", variant: "clerk", alg: "RS256" },
  { label: "jose RS256", variant: "jose", alg: "RS256" },
  { label: "jose ES256", variant: "jose", alg: "ES256" },
  { label: "jose-cache RS256", variant: "jose-cache", alg: "RS256" },
  { label: "jose-cache ES256", variant: "jose-cache", alg: "ES256" },
  { label: "tinywasm RS256", variant: "tinywasm", alg: "RS256" },
  { label: "tinywasm ES256", variant: "tinywasm", alg: "ES256" },
  { label: "gateway-floor RS256", variant: "gateway-floor", alg: "RS256" },
  { label: "gateway-floor ES256", variant: "gateway-floor", alg: "ES256" },
  // edgegate-lean's own runtime calls with constant decisions (bench/workers/edgegate-runtime.mjs):
  // edgegate-lean minus this is its own work (the wasm, the steps read, the entry's JavaScript).
  { label: "edgegate-runtime RS256", variant: "edgegate-runtime", alg: "RS256" },
  { label: "edgegate RS256", variant: "edgegate", alg: "RS256" },
  { label: "edgegate ES256", variant: "edgegate", alg: "ES256" },
  // The lean profile (docs/performance.md): no log line for allowed requests, no client-facing
  // status header.
  { label: "edgegate-lean RS256", variant: "edgegate", alg: "RS256", lean: true },
  { label: "edgegate-lean ES256", variant: "edgegate", alg: "ES256", lean: true },
  { label: "passthrough +assets", variant: "passthrough", alg: "RS256", assets: true },
  { label: "edgegate RS256 +assets", variant: "edgegate", alg: "RS256", assets: true },
];
const only = process.env.BENCH_VARIANTS ? new Set(process.env.BENCH_VARIANTS.split(",").map((x) => x.trim())) : null;
const variants = only ? allVariants.filter((v) => v.label === "passthrough" || only.has(v.label)) : allVariants;
if (only) for (const l of only) if (!allVariants.some((v) => v.label === l)) throw new Error(`BENCH_VARIANTS: no variant "${l}"`);

const results = {
  config: {
    duration_s: DURATION,
    warmup_s: WARMUP,
    rounds: ROUNDS,
    connections: CONNECTIONS,
    pool: POOL,
    path: PATH,
    rate_rps: RATE,
    rate_duration_s: RATE_DURATION,
    order: "all of a round's processes started at once; listed order in even rounds, reversed in odd ones",
  },
  runs: [],
  rounds: [],
  startup: {},
};
const minMax = (xs) => {
  const ys = xs.filter((x) => x != null && !Number.isNaN(x));
  return ys.length ? [Math.min(...ys), Math.max(...ys)] : [null, null];
};
const med = (xs) => {
  const ys = xs.filter((x) => x != null && !Number.isNaN(x));
  return ys.length ? median(ys) : null;
};
const firsts = {};
try {
  const bindingsOf = (v) => ({
    CLERK_JWT_KEY: keys[v.alg].publicPem,
    AUTHORIZED_PARTIES: APP_ORIGIN,
    ORIGIN_URL: origin.url,
    // jose's importSPKI takes the algorithm with the key (edgegate and clerk read it off the key)
    ...(v.variant.startsWith("jose") || v.variant === "tinywasm" || v.variant === "gateway-floor" ? { JWT_ALG: v.alg } : {}),
    ...(v.lean ? { LOG_REQUESTS: "refusals", AUTH_STATUS_HEADER: "false" } : {}),
  });
  for (const mode of ["warm", "cold"]) {
    for (let round = 0; round < ROUNDS; round++) {
      // A fresh workerd per variant every round, all of them started at once (the workerd ones
      // together; Miniflare's one by one after them, as its process is found as our newest
      // workerd child). How one process happens to be placed and compiled stays with it for as
      // long as it runs (two full runs with one process per variant differed by 40-60%), so the
      // median over rounds is a median over processes too.
      const order = round % 2 === 0 ? variants : [...variants].reverse();
      const procs = new Map();
      try {
        const plain = variants.filter((v) => !v.assets);
        const ups = await Promise.all(plain.map((v) => startVariant(v, bindingsOf(v))));
        plain.forEach((v, i) => procs.set(v.label, ups[i]));
        for (const v of variants.filter((v) => v.assets)) procs.set(v.label, await startVariant(v, bindingsOf(v)));
        for (const v of order) {
          const w = procs.get(v.label);
          // The fresh isolate's first request, then 30 more (steady), then a refused token.
          const first = await firstRequest(w.url, warmToken[v.alg]);
          (firsts[v.label] ??= []).push({ runtime: w.runtime, ready_ms: w.readyMs, ...first });
          // The pass-through and edgegate-runtime decide nothing: every token passes.
          if (v.variant !== "passthrough" && v.variant !== "edgegate-runtime") await checkRefused(w.url, warmToken[v.alg]);
          v.runtime = w.runtime;
          const tokens = mode === "warm" ? [warmToken[v.alg]] : pool[v.alg];
          const cursor = { next: 0, repeats: 0 }; // a fresh process: no token seen yet
          const r = await measure(w.url, v, mode, tokens, cursor, w.pid);
          results.rounds.push({ label: v.label, variant: v.variant, alg: v.alg, mode, round, pid: w.pid, ...r });
        }
      } finally {
        await Promise.all([...procs.values()].map((w) => w.stop()));
      }
    }
    const ptRounds = results.rounds.filter((r) => r.label === "passthrough" && r.mode === mode);
    for (const v of variants) {
      const rs = results.rounds.filter((r) => r.label === v.label && r.mode === mode);
      const m = (k) => med(rs.map((r) => r[k]));
      const sum = (k) => rs.reduce((a, r) => a + (r[k] ?? 0), 0) + rs.reduce((a, r) => a + (r.rate?.[k] ?? 0), 0);
      // CPU overhead at the fixed rate: this variant's CPU per request minus the pass-through's
      // in the same round, then the median (and range) over rounds.
      const rateCpu = rs.map((r) => r.rate?.workerd_cpu_us_per_req ?? null);
      const rateOverhead = rs.map((r) => {
        const pt = ptRounds.find((p) => p.round === r.round);
        return r.rate && pt?.rate ? r.rate.workerd_cpu_us_per_req - pt.rate.workerd_cpu_us_per_req : null;
      });
      const [rpsMin, rpsMax] = minMax(rs.map((r) => r.rps));
      const [p99Min, p99Max] = minMax(rs.map((r) => r.p99_ms));
      const [rcMin, rcMax] = minMax(rateCpu);
      const [roMin, roMax] = minMax(rateOverhead);
      // The same for the isolate's first 1,000 requests.
      const earlyOverhead = rs.map((r) => {
        const pt = ptRounds.find((p) => p.round === r.round);
        return r.early && pt?.early ? r.early.workerd_cpu_us_per_req - pt.early.workerd_cpu_us_per_req : null;
      });
      const [eoMin, eoMax] = minMax(earlyOverhead);
      results.runs.push({
        label: v.label,
        variant: v.variant,
        alg: v.alg,
        mode,
        rounds: rs.length,
        // at saturation
        rps: m("rps"),
        rps_min: rpsMin,
        rps_max: rpsMax,
        p50_ms: m("p50_ms"),
        p99_ms: m("p99_ms"),
        p99_ms_min: p99Min,
        p99_ms_max: p99Max,
        workerd_cpu_us_per_req: m("workerd_cpu_us_per_req"),
        // at the fixed offered rate
        rate: rs.some((r) => r.rate)
          ? {
              offered_rps: RATE,
              rps: med(rs.map((r) => r.rate?.rps)),
              p50_ms: med(rs.map((r) => r.rate?.p50_ms)),
              p99_ms: med(rs.map((r) => r.rate?.p99_ms)),
              workerd_cpu_us_per_req: med(rateCpu),
              workerd_cpu_us_per_req_min: rcMin,
              workerd_cpu_us_per_req_max: rcMax,
              cpu_overhead_us: v.variant === "passthrough" ? 0 : med(rateOverhead),
              cpu_overhead_us_min: v.variant === "passthrough" ? 0 : roMin,
              cpu_overhead_us_max: v.variant === "passthrough" ? 0 : roMax,
              kept_up: rs.every((r) => r.rate?.kept_up),
            }
          : null,
        early: rs.some((r) => r.early)
          ? {
              requests: EARLY_REQUESTS,
              workerd_cpu_us_per_req: med(rs.map((r) => r.early?.workerd_cpu_us_per_req)),
              cpu_overhead_us: v.variant === "passthrough" ? 0 : med(earlyOverhead),
              cpu_overhead_us_min: v.variant === "passthrough" ? 0 : eoMin,
              cpu_overhead_us_max: v.variant === "passthrough" ? 0 : eoMax,
            }
          : null,
        rss_fresh_kb: m("rss_fresh_kb"),
        rss_warm_kb: m("rss_warm_kb"),
        rss_end_kb: m("rss_end_kb"),
        rss_growth_kb: med(rs.map((r) => r.rss_end_kb - r.rss_warm_kb)),
        assets_router: Boolean(v.assets),
        runtime: v.runtime,
        requests: sum("requests"),
        non2xx: sum("non2xx"),
        errors: sum("errors"),
        timeouts: sum("timeouts"),
        token_repeats: mode === "warm" || v.variant === "passthrough" ? null : rs.reduce((a, r) => a + (r.token_repeats ?? 0), 0),
        valid: rs.every((r) => r.valid),
      });
    }
  }
} finally {
  origin.stop();
}
// Start-up: medians over every fresh process (both modes, every round).
for (const [label, fs] of Object.entries(firsts)) {
  const [firstMin, firstMax] = minMax(fs.map((x) => x.first_ms));
  results.startup[label] = {
    runtime: fs[0].runtime,
    processes: fs.length,
    ready_ms: med(fs.map((x) => x.ready_ms)),
    first_ms: med(fs.map((x) => x.first_ms)),
    first_ms_min: firstMin,
    first_ms_max: firstMax,
    steady_ms: med(fs.map((x) => x.steady_ms)),
  };
}
results.elapsed_s = (performance.now() - started) / 1000;
writeFileSync(OUT, JSON.stringify(results, null, 2));
log(`wrote ${OUT} (${results.elapsed_s.toFixed(0)} s)`);
