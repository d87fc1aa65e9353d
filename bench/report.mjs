// Folds the harness's parts into one result: the end-to-end runs (bench/e2e.mjs), the start-up
// and size figures (bench/startup.mjs), the wasm's own cost per request in node
// (bench/steps.mjs) and criterion's stage estimates (target/criterion).
// Prints a markdown table with the ratios, the targets against the peers (jose, @clerk/backend)
// and the gateway floor (jose + a Map plus the runtime work of edgegate's features), the lean
// profile (edgegate-lean: no log line for allowed requests, no status header) against jose, the
// floors as figures (jose-cache, tinywasm, gateway-floor; for edgegate and edgegate-lean), a fresh
// isolate's first 1,000 requests, and the earlier targets of issue 5; writes
// bench/results/latest.json and draws bench/results/chart.svg.
// BENCH_OUT=dir reads e2e.json.tmp from there and writes the outputs there (a smoke run that
// must not overwrite bench/results); start-up and steps come from there, else bench/results.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { ROOT } from "../tests/e2e/helpers.mjs";

const RESULTS = process.env.BENCH_OUT || join(ROOT, "bench", "results");
mkdirSync(RESULTS, { recursive: true });
const readJson = (p) => JSON.parse(readFileSync(p, "utf8"));
const inputOf = (name) => (existsSync(join(RESULTS, name)) ? join(RESULTS, name) : join(ROOT, "bench", "results", name));
const e2e = readJson(join(RESULTS, "e2e.json.tmp"));
const startup = readJson(inputOf("startup.json.tmp"));
const stepsPath = inputOf("steps.json.tmp");
const steps = existsSync(stepsPath) ? readJson(stepsPath) : null;

// --- criterion stage estimates (median, ns) ---------------------------------------------------
const CRIT = join(process.env.CARGO_TARGET_DIR ?? join(ROOT, "target"), "criterion");
const stageNames = ["parse", "signature", "claims", "cache_hit", "verify_token", "pipeline_warm", "edge_warm_step"];
const stages = {};
for (const alg of ["rs256", "es256"]) {
  stages[alg] = {};
  for (const s of stageNames) {
    const p = join(CRIT, alg, s, "new", "estimates.json");
    stages[alg][s] = existsSync(p) ? readJson(p).median.point_estimate : null;
  }
}

const f = (x, d = 0) => (x == null || Number.isNaN(x) ? "n/a" : x.toFixed(d));

// --- derived figures ---------------------------------------------------------------------------
const find = (label, mode) => e2e.runs.find((r) => r.label === label && r.mode === mode);
// Each row against the pass-through run in the same shape: "+assets" rows (Miniflare's asset
// router in front, as wrangler.toml deploys edgegate) against the pass-through behind the same
// router, every other row against the plain pass-through.
const baselineOf = (r) => (r.assets_router ? "passthrough +assets" : "passthrough");
const runs = e2e.runs.map((r) => {
  const pt = find(baselineOf(r), r.mode);
  const overhead_us = (1 / r.rps - 1 / pt.rps) * 1e6;
  return {
    ...r,
    overhead_us,
    cpu_overhead_us: r.workerd_cpu_us_per_req - pt.workerd_cpu_us_per_req,
    // (r.rate.cpu_overhead_us: the same at the fixed offered rate, paired round by round.)
    p50_vs_passthrough_pct: (r.p50_ms / pt.p50_ms - 1) * 100,
    p99_vs_passthrough_pct: (r.p99_ms / pt.p99_ms - 1) * 100,
  };
});
const get = (label, mode) => runs.find((r) => r.label === label && r.mode === mode);
for (const r of runs) {
  const clerk = get("clerk RS256", r.mode);
  if (r.variant !== "passthrough" && r.variant !== "clerk" && clerk && !r.assets_router) {
    r.overhead_vs_clerk = r.overhead_us / clerk.overhead_us;
    r.cpu_overhead_vs_clerk = r.cpu_overhead_us / clerk.cpu_overhead_us;
  }
}

const allValid = runs.every((r) => r.valid && !r.token_repeats);
// A target compares rows; it is met only if every row it compares is a valid run (all 200, no
// errors, no repeated cold token): a fast refusal must never count as a fast pass.
const validRows = (...rows) => rows.every((r) => r && r.valid && !r.token_repeats);
const gzLimit = 250_000;
const targets = [];
const target = (name, met, detail) => targets.push({ name, met, detail });
for (const alg of ["RS256", "ES256"]) {
  // A run with BENCH_VARIANTS may leave rows out: these targets need all of theirs.
  if (!["warm", "cold"].every((m) => get(`edgegate ${alg}`, m) && get("clerk RS256", m) && get("passthrough", m))) continue;
  const eg = (m) => get(`edgegate ${alg}`, m);
  const clerk = (m) => get("clerk RS256", m);
  const vsClerk = alg === "ES256" ? " (vs clerk RS256: @clerk/backend has no ES256)" : "";
  target(
    `${alg} cold overhead <= 1/2 of clerk's${vsClerk}`,
    validRows(eg("cold"), clerk("cold"), get("passthrough", "cold")) && eg("cold").overhead_us <= 0.5 * clerk("cold").overhead_us,
    `${eg("cold").overhead_us.toFixed(0)} us vs ${clerk("cold").overhead_us.toFixed(0)} us (ratio ${eg("cold").overhead_vs_clerk.toFixed(2)}); workerd CPU ${eg("cold").cpu_overhead_us.toFixed(0)} vs ${clerk("cold").cpu_overhead_us.toFixed(0)} us (ratio ${eg("cold").cpu_overhead_vs_clerk.toFixed(2)})`,
  );
  // 10 µs is far inside the rounds' spread, so the median alone could meet it by chance: the
  // worst round pairing (edgegate's slowest round against the pass-through's fastest) must too.
  const ptWarm = get("passthrough", "warm");
  const worstWarm = (1 / eg("warm").rps_min - 1 / ptWarm.rps_max) * 1e6;
  target(
    `${alg} warm overhead < 10 us (median and worst round)`,
    validRows(eg("warm"), ptWarm) && eg("warm").overhead_us < 10 && worstWarm < 10,
    `${eg("warm").overhead_us.toFixed(1)} us (worst round ${worstWarm.toFixed(0)} us); workerd CPU ${eg("warm").cpu_overhead_us.toFixed(0)} us vs clerk ${clerk("warm").cpu_overhead_us.toFixed(0)} us`,
  );
  for (const m of ["warm", "cold"]) {
    const e = eg(m);
    const c = clerk(m);
    target(
      `${alg} ${m}: beats clerk on req/s, p50 and p99${vsClerk}`,
      validRows(e, c) && e.rps > c.rps && e.p50_ms < c.p50_ms && e.p99_ms < c.p99_ms,
      `req/s ${e.rps.toFixed(0)} vs ${c.rps.toFixed(0)}, p50 ${e.p50_ms.toFixed(2)} vs ${c.p50_ms.toFixed(2)} ms, p99 ${e.p99_ms.toFixed(2)} vs ${c.p99_ms.toFixed(2)} ms`,
    );
    target(
      `${alg} ${m}: p50 within 15% of pass-through`,
      validRows(e, get("passthrough", m)) && e.p50_vs_passthrough_pct <= 15,
      `${e.p50_vs_passthrough_pct >= 0 ? "+" : ""}${e.p50_vs_passthrough_pct.toFixed(1)}%`,
    );
  }
}
target(
  // Issue 5's budget, kept with its targets; today's is (5) above, < 200 KB.
  "release wasm gzipped < 250 KB (issue 5's budget; today's: (5), < 200 KB)",
  startup.wasm_gzip_bytes < gzLimit,
  `${(startup.wasm_gzip_bytes / 1000).toFixed(1)} KB (${startup.wasm_gzip_bytes} bytes, gzip -9)`,
);
target("every response 200, no errors, no repeated cold token", allValid, allValid ? "all runs valid" : "INVALID run(s), see table");

// --- targets against the peers and the floors -----------------------------------------------------
// Overhead = the worker's workerd CPU per request minus the pass-through's in the same round, at
// the fixed offered rate (r.rate.cpu_overhead_us); the median over rounds (and the range of the
// rounds). "First 1,000 requests" = the same over a fresh isolate's first 1,000 requests, before
// any warm-up (r.early.cpu_overhead_us). Throughput and p99 at saturation. Met only if every row
// compared is valid (all 200, no errors, no repeated cold token, the offered rate served); a
// target whose rows were not run (BENCH_VARIANTS) reads "n/a (not run)" and is not met.
const peerTargets = [];
const peer = (name, met, measured) => peerTargets.push({ name, measured, met: Boolean(met) });
const NOT_RUN = "n/a (not run)";
const ov = (r) => r?.rate?.cpu_overhead_us;
const num = (...xs) => xs.every((x) => typeof x === "number" && Number.isFinite(x));
// `o`: a run's `rate` or `early` summary.
const ovText = (name, o) =>
  o && o.cpu_overhead_us != null ? `${name} ${f(o.cpu_overhead_us)} µs (${f(o.cpu_overhead_us_min)}–${f(o.cpu_overhead_us_max)})` : `${name} n/a`;
const ratio = (a, b) => (num(a, b) && b > 0 ? `; ratio ${(a / b).toFixed(2)}` : "");
const have = (...rows) => rows.every((r) => r != null);
const okRows = (...rows) => have(...rows) && validRows(...rows) && rows.every((r) => r.rate == null || r.rate.kept_up);
const atRate = (r) => r?.rate;
const early = (r) => r?.early;
/** An overhead target: a's overhead ≤ k × b's (strict: below). `of` picks `rate` or `early`. */
const overheadPeer = (name, [aName, a], [bName, b], { k = 1, strict = false, of = atRate } = {}) => {
  if (!have(a, b)) return peer(name, false, NOT_RUN);
  const x = of(a)?.cpu_overhead_us;
  const y = of(b)?.cpu_overhead_us;
  peer(
    name,
    okRows(a, b) && num(x, y) && (strict ? x < k * y : x <= k * y),
    `${ovText(aName, of(a))} vs ${ovText(bName, of(b))}${ratio(x, y)}`,
  );
};
const gz200 = 200_000;
for (const alg of ["RS256", "ES256"]) {
  const eg = (m) => get(`edgegate ${alg}`, m);
  const lean = (m) => get(`edgegate-lean ${alg}`, m);
  const gf = (m) => get(`gateway-floor ${alg}`, m);
  const jose = (m) => get(`jose ${alg}`, m);
  const clerk = (m) => get("clerk RS256", m);
  const vsClerk = alg === "ES256" ? " (clerk RS256: @clerk/backend has no ES256)" : "";
  // (1) warm: against the gateway floor (the same features, decisions free), and against jose.
  overheadPeer(`(1) ${alg} warm overhead: edgegate ≤ 1.15 × the gateway floor's`, ["edgegate", eg("warm")], ["gateway-floor", gf("warm")], { k: 1.15 });
  overheadPeer(`(1) ${alg} warm overhead: edgegate ≤ jose's`, ["edgegate", eg("warm")], ["jose", jose("warm")]);
  overheadPeer(`(1) ${alg} warm overhead, lean profile: edgegate-lean ≤ 0.5 × jose's`, ["edgegate-lean", lean("warm")], ["jose", jose("warm")], { k: 0.5 });
  // (2) cold.
  overheadPeer(`(2) ${alg} cold overhead: edgegate ≤ 1.0 × jose's`, ["edgegate", eg("cold")], ["jose", jose("cold")]);
  // (3) a fresh isolate's first 1,000 requests, warm token.
  overheadPeer(
    `(3) ${alg} overhead over a fresh isolate's first 1,000 requests (warm token): edgegate ≤ jose's`,
    ["edgegate", eg("warm")],
    ["jose", jose("warm")],
    { of: early },
  );
  // (4) against @clerk/backend (overhead) and jose (saturation).
  for (const m of ["warm", "cold"]) {
    const e = eg(m);
    const j = jose(m);
    overheadPeer(`(4) ${alg} ${m} overhead: edgegate below @clerk/backend's${vsClerk}`, ["edgegate", e], ["clerk", clerk(m)], { strict: true });
    peer(
      `(4) ${alg} ${m} req/s at saturation: edgegate ≥ jose's`,
      okRows(e, j) && num(e.rps, j.rps) && e.rps >= j.rps,
      have(e, j) ? `edgegate ${f(e.rps)} (${f(e.rps_min)}–${f(e.rps_max)}) vs jose ${f(j.rps)} (${f(j.rps_min)}–${f(j.rps_max)})${ratio(e.rps, j.rps)}` : NOT_RUN,
    );
    peer(
      `(4) ${alg} ${m} p99 at saturation: edgegate no worse than jose's`,
      okRows(e, j) && num(e.p99_ms, j.p99_ms) && e.p99_ms <= j.p99_ms,
      have(e, j)
        ? `edgegate ${f(e.p99_ms, 2)} ms (${f(e.p99_ms_min, 2)}–${f(e.p99_ms_max, 2)}) vs jose ${f(j.p99_ms, 2)} ms (${f(j.p99_ms_min, 2)}–${f(j.p99_ms_max, 2)})`
        : NOT_RUN,
    );
  }
  // (5) start-up.
  const se = e2e.startup?.[`edgegate ${alg}`];
  const sc = e2e.startup?.["clerk RS256"];
  peer(
    `(5) ${alg} first request of a fresh isolate: edgegate ≤ 2 × clerk's${vsClerk}`,
    have(se, sc) && num(se.first_ms, sc.first_ms) && se.first_ms <= 2 * sc.first_ms,
    have(se, sc)
      ? `edgegate ${f(se.first_ms, 1)} ms (${f(se.first_ms_min, 1)}–${f(se.first_ms_max, 1)}) vs clerk ${f(sc.first_ms, 1)} ms (${f(sc.first_ms_min, 1)}–${f(sc.first_ms_max, 1)}), medians of ${se.processes} and ${sc.processes} fresh processes${ratio(se.first_ms, sc.first_ms)}`
      : NOT_RUN,
  );
  // (6) Flat: over the measured runs of the cold spray (fixed rate + saturation), from the end of
  // the warm-up (which already sent as many distinct tokens as one second carries) to the end,
  // the RSS grows by no more than the pass-through's does in the same runs (a fresh workerd's
  // heap still grows over its first seconds whatever the worker) plus 10% of its own. A few
  // seconds of spray: a leak slower than that needs a longer run (BENCH_DURATION).
  const ec = eg("cold");
  const pc = get("passthrough", "cold");
  const mb = (kb) => (kb == null ? "n/a" : (kb / 1024).toFixed(1));
  peer(
    `(6) ${alg} RSS flat under the cold-token spray (growth ≤ the pass-through's + 10%)`,
    have(ec, pc) && ec.rss_growth_kb <= pc.rss_growth_kb + 0.1 * ec.rss_warm_kb,
    have(ec)
      ? `edgegate fresh ${mb(ec.rss_fresh_kb)} MB, after warm-up ${mb(ec.rss_warm_kb)} MB, end ${mb(ec.rss_end_kb)} MB (${ec.rss_growth_kb >= 0 ? "+" : ""}${mb(ec.rss_growth_kb)} MB over ${f(ec.requests / ec.rounds)} requests a round)` +
          (pc ? `; pass-through ${pc.rss_growth_kb >= 0 ? "+" : ""}${mb(pc.rss_growth_kb)} MB` : "")
      : NOT_RUN,
  );
}
peer(
  "(5) release wasm gzipped < 200 KB",
  num(startup.wasm_gzip_bytes) && startup.wasm_gzip_bytes < gz200,
  `${(startup.wasm_gzip_bytes / 1000).toFixed(1)} KB (${startup.wasm_gzip_bytes} bytes, gzip -9)`,
);
// By target number, then RS256 before ES256 (a stable sort keeps the order within a number).
const targetNo = (t) => Number(/^\((\d+)\)/.exec(t.name)?.[1] ?? 99);
peerTargets.sort((a, b) => targetNo(a) - targetNo(b));

// The floors: how far edgegate's warm overhead (and the lean profile's) is above a JS Map cache
// (jose-cache), one crossing into a tiny wasm table (tinywasm) and the gateway floor (jose-cache
// plus the header, fetch, response and log work of edgegate's features); and edgegate's first
// 1,000 requests above the gateway floor's. Figures, not targets.
const floors = [];
/** a − b, of the medians, and paired round by round (each round's overheads share its pass-through run). */
const floorFigure = (name, aLabel, bLabel, mode, of, aName, bName) => {
  const a = get(aLabel, mode);
  const b = get(bLabel, mode);
  const x = of(a)?.cpu_overhead_us;
  const y = of(b)?.cpu_overhead_us;
  const rounds = e2e.rounds ?? [];
  const diffs = rounds
    .filter((r) => r.label === aLabel && r.mode === mode && of(r))
    .map((r) => {
      const o = rounds.find((q) => q.label === bLabel && q.mode === mode && q.round === r.round && of(q));
      return o ? of(r).workerd_cpu_us_per_req - of(o).workerd_cpu_us_per_req : null;
    })
    .filter((d) => num(d));
  const ok = have(a, b) && num(x, y);
  floors.push({
    name,
    value_us: ok ? x - y : null,
    rounds_us: diffs,
    measured: !have(a, b)
      ? NOT_RUN
      : ok
        ? `${f(x - y)} µs (${ovText(aName, of(a))}, ${ovText(bName, of(b))}; per round ${diffs.map((d) => f(d)).join(", ")} µs)`
        : `n/a (${ovText(aName, of(a))}, ${ovText(bName, of(b))})`,
  });
};
for (const alg of ["RS256", "ES256"]) {
  for (const who of ["edgegate", "edgegate-lean"]) {
    for (const floor of ["jose-cache", "tinywasm", "gateway-floor"]) {
      floorFigure(`${alg} ${who} warm overhead − ${floor}'s`, `${who} ${alg}`, `${floor} ${alg}`, "warm", atRate, who, floor);
    }
  }
  floorFigure(
    `${alg} edgegate-lean warm overhead − edgegate-runtime's (its runtime calls alone): its own work`,
    `edgegate-lean ${alg}`,
    "edgegate-runtime RS256",
    "warm",
    atRate,
    "edgegate-lean",
    "edgegate-runtime",
  );
  floorFigure(
    `${alg} edgegate overhead over a fresh isolate's first 1,000 requests (warm token) − gateway-floor's`,
    `edgegate ${alg}`,
    `gateway-floor ${alg}`,
    "warm",
    early,
    "edgegate",
    "gateway-floor",
  );
}

let commit = "unknown";
try {
  commit = execFileSync("git", ["-C", ROOT, "rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
  const dirty = execFileSync("git", ["-C", ROOT, "status", "--porcelain", "--", "src", "Cargo.toml"], { encoding: "utf8" }).trim();
  if (dirty) commit += "+dirty";
} catch {}

const result = {
  generated_at: new Date().toISOString(),
  commit,
  machine: { cpus: (await import("node:os")).cpus().length, node: process.version },
  config: e2e.config,
  e2e: runs,
  workerd_startup: e2e.startup,
  startup,
  wasm_steps_us: steps,
  stages_ns: stages,
  targets,
  peer_targets: peerTargets,
  floors,
  valid: allValid,
};
writeFileSync(join(RESULTS, "latest.json"), JSON.stringify(result, null, 2) + "\n");

// --- table ---------------------------------------------------------------------------------------
const sign = (x, d = 1) => (x >= 0 ? "+" : "") + x.toFixed(d);
const lines = [];
lines.push(
  `End to end in workerd ("workerd serve"; the +assets rows under Miniflare, for its asset router), ${e2e.config.connections} connections, loopback origin; each figure the median of ${e2e.config.rounds} interleaved ${e2e.config.duration_s} s runs (after ${e2e.config.warmup_s} s warm-up each); commit ${commit}`,
  "",
  "| variant | mode | req/s (min–max) | p50 ms | p99 ms | overhead/req µs | vs clerk overhead | p50 vs pass-through | workerd CPU µs/req | CPU overhead µs (vs clerk) | non-2xx / errors |",
  "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
);
for (const r of runs) {
  lines.push(
    `| ${r.label} | ${r.mode} | ${f(r.rps)} (${f(r.rps_min)}–${f(r.rps_max)}) | ${f(r.p50_ms, 2)} | ${f(r.p99_ms, 2)} | ${r.variant === "passthrough" ? "0 (baseline)" : f(r.overhead_us, 1)} | ${r.overhead_vs_clerk != null ? f(r.overhead_vs_clerk, 2) + "×" : ""} | ${r.variant === "passthrough" ? "" : sign(r.p50_vs_passthrough_pct) + "%"} | ${f(r.workerd_cpu_us_per_req)} | ${r.variant === "passthrough" ? "0 (baseline)" : f(r.cpu_overhead_us) + (r.cpu_overhead_vs_clerk != null ? ` (${f(r.cpu_overhead_vs_clerk, 2)}×)` : "")} | ${r.non2xx} / ${r.errors}${r.token_repeats ? ` (${r.token_repeats} repeats)` : ""} |`,
  );
}
if (runs.some((r) => r.rate || r.early)) {
  lines.push(
    "",
    `At a fixed offered rate of ${e2e.config.rate_rps} req/s (${e2e.config.rate_duration_s} s runs; the +assets rows are not run at it): workerd CPU per request, and its overhead over the pass-through in the same round; median (min–max) over ${e2e.config.rounds} rounds. First 1,000 requests: the same overhead over a fresh isolate's first 1,000 requests, before any warm-up (as fast as the connections go). RSS (VmRSS) of the process after its first request / after the warm-up / at the end of its round, medians`,
    "",
    "| variant | mode | served req/s | p50 ms | p99 ms | workerd CPU µs/req | CPU overhead µs | first 1,000 requests CPU overhead µs | RSS MB fresh / warmed / end |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|",
  );
  const mb = (kb) => (kb == null ? "n/a" : (kb / 1024).toFixed(1));
  const overheadCell = (r, o) =>
    !o ? "" : r.variant === "passthrough" ? "0 (baseline)" : `${f(o.cpu_overhead_us)} (${f(o.cpu_overhead_us_min)}–${f(o.cpu_overhead_us_max)})`;
  for (const r of runs) {
    const q = r.rate;
    const rss = `${mb(r.rss_fresh_kb)} / ${mb(r.rss_warm_kb)} / ${mb(r.rss_end_kb)}`;
    const earlyCell = overheadCell(r, r.early);
    if (!q) {
      lines.push(`| ${r.label} | ${r.mode} | | | | | | ${earlyCell} | ${rss} |`);
      continue;
    }
    lines.push(
      `| ${r.label} | ${r.mode} | ${f(q.rps)}${q.kept_up ? "" : " (**did not keep up**)"} | ${f(q.p50_ms, 2)} | ${f(q.p99_ms, 2)} | ${f(q.workerd_cpu_us_per_req)} (${f(q.workerd_cpu_us_per_req_min)}–${f(q.workerd_cpu_us_per_req_max)}) | ${overheadCell(r, q)} | ${earlyCell} | ${rss} |`,
    );
  }
}
lines.push("", "Start-up and size", "", "| figure | value |", "|---|---:|");
lines.push(`| release wasm raw | ${(startup.wasm_raw_bytes / 1000).toFixed(1)} KB |`);
lines.push(`| release wasm gzipped (-9) | ${(startup.wasm_gzip_bytes / 1000).toFixed(1)} KB |`);
lines.push(`| wasm compile, node ${startup.node} (fresh process, median of ${startup.rounds}; V8 compiles functions lazily, so first calls pay the rest) | ${f(startup.node_compile_ms, 2)} ms |`);
lines.push(`| wasm compile, every function up front (--no-wasm-lazy-compilation) | ${f(startup.node_compile_eager_ms, 2)} ms |`);
lines.push(`| wasm instantiate, node | ${f(startup.node_instantiate_ms, 2)} ms |`);
for (const [label, s] of Object.entries(e2e.startup)) {
  const runtime = s.runtime === "miniflare" ? "Miniflare" : "workerd";
  const range = s.first_ms_min != null ? ` (first ${f(s.first_ms_min, 1)}–${f(s.first_ms_max, 1)})` : "";
  const of = s.processes ? `, medians of ${s.processes} fresh processes` : "";
  lines.push(`| ${label}: ${runtime} ready / first request / steady request${of} | ${f(s.ready_ms)} / ${f(s.first_ms, 1)} / ${f(s.steady_ms, 1)} ms${range} |`);
}
if (steps) {
  lines.push(
    "",
    `The release wasm's own work per request, in node ${steps.node} (the entry's calls into wasm in a loop; median of ${steps.rounds} rounds of ${steps.iterations} requests)`,
    "",
    "| stage | RS256 | ES256 |",
    "|---|---:|---:|",
    `| warm request: begin (cached token) + fetched, inbox writes and answer reads included | ${f(steps.RS256.warm_request_us, 1)} µs | ${f(steps.ES256.warm_request_us, 1)} µs |`,
    `| cold request: begin + bytes copied out + verified + fetched (WebCrypto apart) | ${f(steps.RS256.cold_request_us, 1)} µs | ${f(steps.ES256.cold_request_us, 1)} µs |`,
    `| WebCrypto verify (node's crypto.subtle, key imported once) | ${f(steps.RS256.webcrypto_verify_us, 1)} µs | ${f(steps.ES256.webcrypto_verify_us, 1)} µs |`,
  );
}
lines.push("", "Stage costs, native (criterion median, RustCrypto)", "", "| stage | RS256 | ES256 |", "|---|---:|---:|");
const ns = (x) => (x == null ? "n/a" : x >= 1000 ? `${(x / 1000).toFixed(2)} µs` : `${x.toFixed(1)} ns`);
const stageLabel = {
  parse: "parse (token::prepare)",
  signature: "signature (check_signature)",
  claims: "claims (SessionClaims::check)",
  cache_hit: "cache hit (TokenCache::get)",
  verify_token: "verify_token (all, uncached)",
  pipeline_warm: "Pipeline::start + resume, cached token (whole pure pipeline)",
  edge_warm_step: "start + resume with wire text, cached token (all Rust work of a warm request)",
};
for (const s of stageNames) lines.push(`| ${stageLabel[s]} | ${ns(stages.rs256[s])} | ${ns(stages.es256[s])} |`);
lines.push(
  "",
  `Targets against the peers and the gateway floor, from this run (overhead = workerd CPU per request minus the pass-through's in the same round, at ${e2e.config.rate_rps} req/s, or over a fresh isolate's first 1,000 requests where the target says so; median (min–max) over rounds; req/s and p99 at saturation; the floors' lines are figures, not targets)`,
  "",
  "| target | measured | met |",
  "|---|---|---|",
);
for (const t of peerTargets) lines.push(`| ${t.name} | ${t.measured} | ${t.met ? "yes" : "**no**"} |`);
for (const fl of floors) lines.push(`| ${fl.name} (a figure: the floor's distance) | ${fl.measured} | — |`);
lines.push("", "Earlier targets (issue 5)", "", "| target | met | measured |", "|---|---|---|");
for (const t of targets) lines.push(`| ${t.name} | ${t.met ? "yes" : "**no**"} | ${t.detail} |`);
const table = lines.join("\n");
writeFileSync(join(RESULTS, "table.md"), table + "\n");
console.log(table);

// --- chart ---------------------------------------------------------------------------------------
const variants = [
  "passthrough",
  "clerk RS256",
  "jose RS256",
  "jose-cache RS256",
  "tinywasm RS256",
  "gateway-floor RS256",
  "edgegate-runtime RS256",
  "edgegate RS256",
  "edgegate-lean RS256",
  "edgegate ES256",
].filter(
  (v) => get(v, "warm") || get(v, "cold"),
); // like-for-like rows
const colors = {
  passthrough: "#9aa5b1",
  "clerk RS256": "#6c47ff",
  "jose RS256": "#0e7490",
  "jose-cache RS256": "#67e8f9",
  "tinywasm RS256": "#84cc16",
  "gateway-floor RS256": "#a16207",
  "edgegate-runtime RS256": "#d6d3d1",
  "edgegate RS256": "#f38020",
  "edgegate-lean RS256": "#fbbf24",
  "edgegate ES256": "#c2410c",
};
const W = 860;
// The legend: one row of up to 6 variants, else two rows (H grows by one row).
const legendPerRow = variants.length > 6 ? Math.ceil(variants.length / 2) : variants.length;
const legendRows = Math.ceil(variants.length / Math.max(1, legendPerRow));
const H = 340 + 20 * legendRows;
const panel = (x0, title, metric, unit, fmt) => {
  const pw = 380;
  const ph = 230;
  const top = 60;
  const vals = runs.filter((r) => variants.includes(r.label)).map((r) => Math.max(0, r[metric]));
  const max = Math.max(...vals) * 1.15 || 1;
  let s = `<text x="${x0 + pw / 2}" y="40" text-anchor="middle" font-size="15" font-weight="600">${title}</text>`;
  s += `<line x1="${x0}" y1="${top + ph}" x2="${x0 + pw}" y2="${top + ph}" stroke="#333"/>`;
  const groups = ["warm", "cold"];
  const gw = pw / groups.length;
  const bw = (gw - 30) / variants.length;
  groups.forEach((mode, gi) => {
    variants.forEach((v, vi) => {
      const r = get(v, mode);
      if (!r) return;
      const val = metric === "overhead_us" && v === "passthrough" ? 0 : r[metric];
      const h = (Math.max(0, val) / max) * ph;
      const x = x0 + gi * gw + 15 + vi * bw;
      s += `<rect x="${x.toFixed(1)}" y="${(top + ph - h).toFixed(1)}" width="${(bw - 4).toFixed(1)}" height="${h.toFixed(1)}" fill="${colors[v]}"><title>${v} ${mode}: ${fmt(val)} ${unit}</title></rect>`;
      s += `<text x="${(x + (bw - 4) / 2).toFixed(1)}" y="${(top + ph - h - 4).toFixed(1)}" text-anchor="middle" font-size="10">${fmt(val)}</text>`;
    });
    s += `<text x="${x0 + gi * gw + gw / 2}" y="${top + ph + 18}" text-anchor="middle" font-size="13">${mode}</text>`;
  });
  return s;
};
let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif">`;
svg += `<rect width="${W}" height="${H}" fill="#fff"/>`;
svg += `<text x="${W / 2}" y="18" text-anchor="middle" font-size="12" fill="#555">edgegate benchmark, workerd, ${e2e.config.connections} connections, median of ${e2e.config.rounds} × ${e2e.config.duration_s} s runs, commit ${commit}</text>`;
svg += panel(20, "requests per second (higher is better)", "rps", "req/s", (x) => x.toFixed(0));
svg += panel(450, "overhead per request, µs (lower is better)", "overhead_us", "µs", (x) => x.toFixed(0));
variants.forEach((v, i) => {
  const x = 20 + (i % legendPerRow) * Math.floor((W - 40) / legendPerRow);
  const y = H - 28 - 20 * (legendRows - 1 - Math.floor(i / legendPerRow));
  svg += `<rect x="${x}" y="${y}" width="12" height="12" fill="${colors[v]}"/><text x="${x + 18}" y="${y + 10}" font-size="12">${v}</text>`;
});
svg += "</svg>\n";
writeFileSync(join(RESULTS, "chart.svg"), svg);
console.error(`[report] wrote ${join(RESULTS, "latest.json")}, chart.svg, table.md`);
