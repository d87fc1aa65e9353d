// Compiles bench/workers/tiny.wat (the tiny-wasm floor's module) to a .wasm file with binaryen
// (a pinned dev dependency; no other toolchain). Used by bench/e2e.mjs; also runnable alone:
//   node bench/tinywasm-build.mjs OUT.wasm
import { readFileSync, writeFileSync } from "node:fs";
import binaryen from "binaryen";

export function buildTinyWasm(outFile) {
  const text = readFileSync(new URL("./workers/tiny.wat", import.meta.url), "utf8");
  const mod = binaryen.parseText(text);
  mod.setFeatures(binaryen.Features.MVP | binaryen.Features.BulkMemory | binaryen.Features.BulkMemoryOpt);
  if (!mod.validate()) throw new Error("bench/workers/tiny.wat does not validate");
  mod.optimize();
  const bytes = mod.emitBinary();
  mod.dispose();
  writeFileSync(outFile, bytes);
  return bytes.length;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = process.argv[2] ?? "tiny.wasm";
  console.log(`${out}: ${buildTinyWasm(out)} bytes`);
}
