// Removes from the worker's wasm the exports of the `worker` crate's own types that edgegate
// never uses (ContainerStartupOptions, MinifyConfig, R2Range and the IntoUnderlying* stream
// adapters): wasm-bindgen exports every #[wasm_bindgen] item of every crate, and an export
// keeps its code alive. With the exports gone, wasm-opt (run next) removes the code they alone
// reached. The glue's classes for these types stay in the JavaScript, never instantiated.
//   node scripts/drop-exports.mjs <file.wasm>     (rewrites the file in place)
import { readFileSync, writeFileSync } from "node:fs";

const DROPPED = /^(__wbg_(get_|set_)?(containerstartupoptions|minifyconfig|r2range|intounderlying(bytesource|sink|source))_|intounderlying(bytesource|sink|source)_)/;

function leb(bytes, at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[at++];
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (b < 0x80) return [value, at];
  }
}

function uleb(value) {
  const out = [];
  do {
    let b = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) b |= 0x80;
    out.push(b);
  } while (value > 0);
  return out;
}

const file = process.argv[2];
const wasm = readFileSync(file);
const parts = [wasm.subarray(0, 8)];
let at = 8;
let dropped = 0;
while (at < wasm.length) {
  const id = wasm[at];
  const [size, start] = leb(wasm, at + 1);
  const end = start + size;
  if (id !== 7) {
    parts.push(wasm.subarray(at, end));
  } else {
    let [count, p] = leb(wasm, start);
    const kept = [];
    for (; count > 0; count--) {
      const [len, nameAt] = leb(wasm, p);
      const name = wasm.subarray(nameAt, nameAt + len).toString("utf8");
      const [, after] = leb(wasm, nameAt + len + 1);
      if (DROPPED.test(name)) dropped++;
      else kept.push(wasm.subarray(p, after));
      p = after;
    }
    const body = Buffer.concat([Buffer.from(uleb(kept.length)), ...kept]);
    parts.push(Buffer.from([7, ...uleb(body.length)]), body);
  }
  at = end;
}
writeFileSync(file, Buffer.concat(parts));
console.log(`[drop-exports] ${dropped} unused exports of the worker crate removed from ${file}`);
