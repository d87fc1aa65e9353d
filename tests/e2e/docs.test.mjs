// The README's "Why edgegate" and the one quoted wasm size against what backs them: every figure
// of the cost table is the bench run's (bench/results/latest.json, the run the README names),
// every file the section names exists, and docs/performance.md's Size is the size of the build.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { BUILD_DIR, ROOT } from "./helpers.mjs";

const README = readFileSync(join(ROOT, "README.md"), "utf8");
const WHY = README.split("\n## Why edgegate\n")[1]?.split("\n## ")[0] ?? "";
const bench = JSON.parse(readFileSync(join(ROOT, "bench", "results", "latest.json"), "utf8"));
const run = (label, mode) => bench.e2e.find((r) => r.label === label && r.mode === mode);

/** The cost table's row whose first cell starts with `name`: its cells after the first. */
function row(name) {
  const line = WHY.split("\n").find((l) => l.startsWith(`| ${name}`));
  assert.ok(line, `the Why table has a "${name}" row`);
  return line.split("|").slice(2, -1).map((c) => c.trim());
}
const us = (x) => `${Math.round(x)} µs`;

describe("the README's Why edgegate", () => {
  test("its cost table is the bench run it names", () => {
    assert.ok(WHY.includes(`commit ${bench.commit}`), `the section names the run's commit ${bench.commit}`);
    const variants = ["edgegate RS256", "edgegate-lean RS256", "clerk RS256"];
    assert.deepEqual(row("warm request"), variants.map((v) => us(run(v, "warm").rate.cpu_overhead_us)));
    assert.deepEqual(row("cold request"), variants.map((v) => us(run(v, "cold").rate.cpu_overhead_us)));
    assert.deepEqual(row("a fresh isolate's first 1,000"), variants.map((v) => us(run(v, "warm").early.cpu_overhead_us)));
    const first = (v) => `${bench.workerd_startup[v].first_ms.toFixed(1)} ms`;
    assert.deepEqual(row("first request"), [first("edgegate RS256"), "", first("clerk RS256")]);
    const saturation = (v) => {
      const r = run(v, "warm");
      return `${Math.round(r.rps).toLocaleString("en")} (${r.p99_ms.toFixed(1)} ms)`;
    };
    assert.deepEqual(row("req/s at saturation"), variants.map(saturation));
  });

  test("every file it names exists", () => {
    const named = [
      ...[...WHY.matchAll(/\]\(([^)#]+)[^)]*\)/g)].map((m) => m[1]),
      ...[...WHY.matchAll(/`((?:tests|bench|docs|origin|src)\/[^`\s]+)`/g)].map((m) => m[1]),
    ];
    assert.ok(named.length >= 10, named.join(" "));
    for (const path of named) assert.ok(existsSync(join(ROOT, path)), path);
  });
});

describe("the wasm's size, quoted once", () => {
  test("docs/performance.md's Size is the build's, within 5%", (t) => {
    const wasm = join(BUILD_DIR, "worker", "index.wasm");
    if (!existsSync(wasm)) {
      t.skip("no build: run `bash scripts/build.sh` first");
      return;
    }
    const doc = readFileSync(join(ROOT, "docs", "performance.md"), "utf8");
    const quoted = /\*\*([\d,]+) bytes gzipped\*\*/.exec(doc.split("\n## Size\n")[1] ?? "");
    assert.ok(quoted, "Size quotes the gzipped bytes");
    const stated = Number(quoted[1].replaceAll(",", ""));
    const built = gzipSync(readFileSync(wasm), { level: 9 }).length;
    // A figure a few hundred bytes off is still true; one that is not means Size needs the
    // `[build]` line's figure again.
    assert.ok(Math.abs(built - stated) / stated <= 0.05, `Size says ${stated} bytes, the build is ${built} (gzip level 9): update docs/performance.md`);
  });
});
