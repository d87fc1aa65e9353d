// Isolate start-up cost of the release wasm, in node (V8, as workerd): WebAssembly.compile of
// build/worker/index.wasm (lazy, V8's default, and eager) and instantiation with the generated
// glue's import object (every import present, as in the worker), median of several rounds; plus
// the file's raw and gzipped size.
// V8 caches compiled modules per process, so only a process's first compile is the cold cost:
// each round runs in a fresh node process (`--child`). Prints one JSON object on stdout.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { BUILD_DIR, median } from "../tests/e2e/helpers.mjs";

const bytes = readFileSync(join(BUILD_DIR, "worker", "index.wasm"));
const ROUNDS = 9;

// An import object shaped like the glue's: functions for functions, the JS exception tag for tags.
function imports(module) {
  const obj = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    obj[imp.module] ??= {};
    obj[imp.module][imp.name] =
      imp.kind === "function" ? () => undefined : imp.kind === "tag" ? WebAssembly.JSTag : undefined;
  }
  return obj;
}

async function once() {
  const t0 = performance.now();
  const module = await WebAssembly.compile(bytes);
  const t1 = performance.now();
  await WebAssembly.instantiate(module, imports(module));
  const t2 = performance.now();
  return { compile_ms: t1 - t0, instantiate_ms: t2 - t1 };
}

if (process.argv.includes("--child")) {
  console.log(JSON.stringify(await once()));
} else {
  // V8 compiles wasm functions lazily by default: `compile` then mostly validates, and each
  // function compiles (baseline tier) on its first call. The eager rounds compile every function
  // up front, which is the whole baseline-compile cost a fresh isolate spreads over its first
  // requests.
  const child = (flags) =>
    JSON.parse(execFileSync(process.execPath, [...flags, fileURLToPath(import.meta.url), "--child"], { encoding: "utf8" }));
  const rounds = [];
  const eager = [];
  for (let i = 0; i < ROUNDS; i++) {
    rounds.push(child([]));
    eager.push(child(["--no-wasm-lazy-compilation"]));
  }
  const compile = median(rounds.map((r) => r.compile_ms));
  const instantiate = median(rounds.map((r) => r.instantiate_ms));
  console.log(
    JSON.stringify({
      wasm_raw_bytes: bytes.length,
      wasm_gzip_bytes: gzipSync(bytes, { level: 9 }).length,
      node_compile_ms: compile,
      node_instantiate_ms: instantiate,
      node_startup_ms: compile + instantiate,
      node_compile_eager_ms: median(eager.map((r) => r.compile_ms)),
      rounds: ROUNDS,
      node: process.version,
    }),
  );
}
