// End-to-end load benchmark in workerd: the same node origin on loopback, the same keys, three
// workers: (a) pass-through, (b) @clerk/backend verifyToken + proxy, (c) edgegate. The
// like-for-like rows run under `workerd serve` directly; the "+assets" rows under Miniflare 4,
// whose asset router they need.
// Load with autocannon, 16 connections. The variants are loaded in turn, round-robin, ROUNDS
// times per mode, each measured run in a workerd process of its own started for it (a short
// warm-up before each); each figure is the median over the rounds, so that a burst of other
// load on the machine, or one unlucky process, hits every variant alike instead of one.
//   warm: the same valid token on every request
//   cold: a distinct valid token on every request (pre-minted pool; repeats are counted)
// Also times the worker's start-up in workerd (runtime listening, first request).
// Writes bench/results/e2e.json.tmp; bench/report.mjs turns it into the table, JSON and chart.
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
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
import { cpuMicros, edgegateModules, newestChildWorkerd, serveWorker } from "./workerd.mjs";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const DURATION = arg("duration", 5); // seconds per measured run
const WARMUP = arg("warmup", 1); // seconds of warm-up before each measured run
const ROUNDS = arg("rounds", 3); // measured runs per (variant, mode), interleaved
const CONNECTIONS = arg("connections", 16);
const POOL = arg("pool", 80000); // distinct tokens per algorithm for the cold mode
const PATH = "/api/data";
const BENCH_BUILD = join(BUILD_DIR, "bench");
const OUT = join(ROOT, "bench", "results", "e2e.json.tmp");

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

// --- the two JS workers, bundled into single modules ------------------------------------------
async function bundleWorkers() {
  mkdirSync(BENCH_BUILD, { recursive: true });
  for (const name of ["passthrough", "clerk"]) {
    await build({
      entryPoints: [join(ROOT, "bench", "workers", `${name}.mjs`)],
      outfile: join(BENCH_BUILD, `${name}.js`),
      bundle: true,
      format: "esm",
      platform: "browser",
      target: "es2022",
      conditions: ["workerd", "worker", "browser"],
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
function startWorkerd(variant, bindings) {
  const modules =
    variant === "edgegate"
      ? edgegateModules(BUILD_DIR)
      : [{ name: `${variant}.js`, esModule: join(BENCH_BUILD, `${variant}.js`) }];
  return serveWorker({ name: variant, dir: join(BENCH_BUILD, `workerd-${variant}`), modules, bindings });
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
const startVariant = (variant, bindings, withAssets) =>
  withAssets ? startMiniflare(variant, bindings) : startWorkerd(variant, bindings);

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
function load(url, { duration, warm, tokens, cursor }) {
  return new Promise((resolve, reject) => {
    const latencies = [];
    const opts = {
      url: url + PATH,
      connections: CONNECTIONS,
      duration,
      pipelining: 1,
      timeout: 10,
    };
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

async function measure(url, label, mode, tokens, cursor, pid) {
  const warm = mode === "warm";
  await load(url, { duration: WARMUP, warm, tokens, cursor });
  const used = cursor.next;
  const repeatsBefore = cursor.repeats;
  const cpuBefore = cpuMicros(pid);
  const r = await load(url, { duration: DURATION, warm, tokens, cursor });
  // The worker's own CPU per request (workerd: the worker, its runtime and its HTTP), steadier
  // on a loaded 2-core machine than req/s, which also moves with the load generator and origin.
  r.workerd_cpu_us_per_req = (cpuMicros(pid) - cpuBefore) / Math.max(1, r.requests);
  r.tokens_used = warm ? 1 : cursor.next - used;
  r.token_repeats = warm ? null : cursor.repeats - repeatsBefore;
  r.valid = r.non2xx === 0 && r.errors === 0 && r.timeouts === 0;
  log(
    `${label.padEnd(16)} ${mode.padEnd(4)} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50_ms.toFixed(2)} ms` +
      `  p99 ${r.p99_ms.toFixed(2)} ms  cpu ${r.workerd_cpu_us_per_req.toFixed(0)} us/req  non2xx ${r.non2xx} errors ${r.errors}` +
      (warm ? "" : `  tokens ${r.tokens_used} repeats ${r.token_repeats}`),
  );
  return r;
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
const variants = [
  { label: "passthrough", variant: "passthrough", alg: "RS256" },
  { label: "clerk RS256", variant: "clerk", alg: "RS256" },
  { label: "edgegate RS256", variant: "edgegate", alg: "RS256" },
  { label: "edgegate ES256", variant: "edgegate", alg: "ES256" },
  { label: "passthrough +assets", variant: "passthrough", alg: "RS256", assets: true },
  { label: "edgegate RS256 +assets", variant: "edgegate", alg: "RS256", assets: true },
];

const results = {
  config: { duration_s: DURATION, warmup_s: WARMUP, rounds: ROUNDS, connections: CONNECTIONS, pool: POOL, path: PATH },
  runs: [],
  rounds: [],
  startup: {},
};
const live = [];
try {
  const bindingsOf = (v) => ({
    CLERK_JWT_KEY: keys[v.alg].publicPem,
    AUTHORIZED_PARTIES: APP_ORIGIN,
    ORIGIN_URL: origin.url,
  });
  for (const v of variants) live.push({ ...v, cursor: { next: 0, repeats: 0 } });
  for (const mode of ["warm", "cold"]) {
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate the order each round as well. Every measured run gets a fresh workerd: how one
      // process happens to be placed and compiled stays with it for as long as it runs (two
      // full runs with one process per variant differed by 40-60%), so the median over rounds
      // is then a median over processes too.
      for (let k = 0; k < live.length; k++) {
        const v = live[(k + round) % live.length];
        const w = await startVariant(v.variant, bindingsOf(v), v.assets);
        try {
          if (!results.startup[v.label]) {
            const first = await firstRequest(w.url, warmToken[v.alg]);
            results.startup[v.label] = { runtime: w.runtime, ready_ms: w.readyMs, ...first };
          } else {
            await checkRequest(w.url, warmToken[v.alg]);
          }
          v.runtime = w.runtime;
          const tokens = mode === "warm" ? [warmToken[v.alg]] : pool[v.alg];
          const r = await measure(w.url, v.label, mode, tokens, v.cursor, w.pid);
          results.rounds.push({ label: v.label, variant: v.variant, alg: v.alg, mode, round, pid: w.pid, ...r });
        } finally {
          await w.stop();
        }
      }
    }
    for (const w of live) {
      const rs = results.rounds.filter((r) => r.label === w.label && r.mode === mode);
      const m = (k) => median(rs.map((r) => r[k]));
      const sum = (k) => rs.reduce((a, r) => a + (r[k] ?? 0), 0);
      results.runs.push({
        label: w.label,
        variant: w.variant,
        alg: w.alg,
        mode,
        rounds: rs.length,
        rps: m("rps"),
        rps_min: Math.min(...rs.map((r) => r.rps)),
        rps_max: Math.max(...rs.map((r) => r.rps)),
        p50_ms: m("p50_ms"),
        p99_ms: m("p99_ms"),
        workerd_cpu_us_per_req: m("workerd_cpu_us_per_req"),
        assets_router: Boolean(w.assets),
        runtime: w.runtime,
        requests: sum("requests"),
        non2xx: sum("non2xx"),
        errors: sum("errors"),
        timeouts: sum("timeouts"),
        token_repeats: mode === "warm" || w.variant === "passthrough" ? null : sum("token_repeats"),
        valid: rs.every((r) => r.valid),
      });
    }
  }
} finally {
  origin.stop();
}
results.elapsed_s = (performance.now() - started) / 1000;
writeFileSync(OUT, JSON.stringify(results, null, 2));
log(`wrote ${OUT} (${results.elapsed_s.toFixed(0)} s)`);
