// What each crate costs in the wasm: code bytes per crate, from the function names a wasm with
// its name section keeps, with the data section apart. A few lines of binary reading instead of
// twiggy, so that the bench needs nothing installed beyond the project's own packages.
//   node bench/wasm-size.mjs [--json] [WASM]
// Without WASM it builds one: the release wasm of target/ (what worker-build started from) run
// through the same `wasm-opt -Oz` the build runs, keeping names (`-g`). Its code is within a few
// per cent of the shipped build's; the shipped one has no names to attribute by.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const ROOT = new URL("..", import.meta.url).pathname;
const asJson = process.argv.includes("--json");
// --top N also lists the N largest functions (raw code bytes), to find what to cut.
const topAt = process.argv.indexOf("--top");
const top = topAt > 0 ? Number(process.argv[topAt + 1]) : 0;
const given = process.argv.slice(2).find((a, i, all) => !a.startsWith("--") && all[i - 1] !== "--top");

function namedWasm() {
  if (given) return given;
  const target = process.env.CARGO_TARGET_DIR || join(ROOT, "target");
  const input = join(target, "wasm32-unknown-unknown/release/edgegate.wasm");
  if (!existsSync(input)) throw new Error("bench/wasm-size: build the wasm first (bash scripts/build.sh)");
  mkdirSync(join(ROOT, "build/bench"), { recursive: true });
  const out = join(ROOT, "build/bench/edgegate.named.wasm");
  const opt = join(ROOT, "node_modules/binaryen/bin/wasm-opt");
  execFileSync(opt, ["-Oz", "-g", "--all-features", input, "-o", out]);
  return out;
}

/** A LEB128 reader over `bytes`. */
class Reader {
  constructor(bytes, at = 0) {
    this.bytes = bytes;
    this.at = at;
  }
  u32() {
    let result = 0;
    let shift = 0;
    for (;;) {
      const byte = this.bytes[this.at++];
      result |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result >>> 0;
      shift += 7;
    }
  }
  name() {
    const len = this.u32();
    const text = new TextDecoder().decode(this.bytes.subarray(this.at, this.at + len));
    this.at += len;
    return text;
  }
}

/** Sections of a wasm binary: `{ id, name, start, end }`. */
function sections(bytes) {
  const out = [];
  const r = new Reader(bytes, 8);
  while (r.at < bytes.length) {
    const id = bytes[r.at++];
    const size = r.u32();
    const start = r.at;
    let name = "";
    if (id === 0) name = new Reader(bytes, start).name();
    out.push({ id, name, start, end: start + size });
    r.at = start + size;
  }
  return out;
}

function importedFunctions(bytes, section) {
  const r = new Reader(bytes, section.start);
  let functions = 0;
  for (let n = r.u32(); n > 0; n--) {
    r.name();
    r.name();
    const kind = bytes[r.at++];
    if (kind === 0) {
      functions++;
      r.u32();
    } else if (kind === 1) {
      r.at++;
      const flags = r.u32();
      r.u32();
      if (flags & 1) r.u32();
    } else if (kind === 2) {
      const flags = r.u32();
      r.u32();
      if (flags & 1) r.u32();
    } else if (kind === 3) {
      r.at += 2;
    } else if (kind === 4) {
      r.at++;
      r.u32();
    }
  }
  return functions;
}

function functionNames(bytes, section) {
  const names = new Map();
  const r = new Reader(bytes, section.start);
  r.name();
  while (r.at < section.end) {
    const kind = bytes[r.at++];
    const size = r.u32();
    const end = r.at + size;
    if (kind === 1) {
      for (let n = r.u32(); n > 0; n--) {
        const index = r.u32();
        names.set(index, r.name());
      }
    }
    r.at = end;
  }
  return names;
}

// Names that say nothing of a crate, or that belong to the glue.
const GLUE = /^(__wbindgen|__wbg|__externref|wasm_bindgen|js_sys|web_sys|__rust|__rdl|__rg|__main|_start|__wasm)/

/** A legacy-mangled Rust symbol (`_ZN4core3fmt5write17h…E`) as `core::fmt::write`. */
function demangle(name) {
  if (!name.startsWith("_ZN")) return name;
  const parts = [];
  let at = 3;
  while (at < name.length && name[at] !== "E") {
    const m = /^[0-9]+/.exec(name.slice(at));
    if (!m) break;
    at += m[0].length;
    parts.push(name.slice(at, at + Number(m[0])));
    at += Number(m[0]);
  }
  if (parts.length > 1 && /^h[0-9a-f]{16}$/.test(parts[parts.length - 1])) parts.pop();
  const unescape = (p) =>
    p
      .replace(/^_\$/, "$")
      .replaceAll("$LT$", "<")
      .replaceAll("$GT$", ">")
      .replaceAll("$u20$", " ")
      .replaceAll("$RF$", "&")
      .replaceAll("$BP$", "*")
      .replaceAll("$C$", ",")
      .replaceAll("..", "::");
  return parts.map(unescape).join("::");
}

/** The crate a Rust function name belongs to (`<a::B as c::D>::f` is `a`'s). */
function crateOf(mangled) {
  if (!mangled) return "(unnamed)";
  if (mangled.startsWith("_R")) return groupOf(v0Crate(mangled));
  const name = demangle(mangled);
  if (GLUE.test(name)) return "wasm-bindgen glue";
  let n = name.replace(/^<+/, "").replace(/^(impl |dyn |&(mut )?|\*(const|mut) )+/, "");
  if (/^\[|^\(/.test(n)) n = n.replace(/^[\[(]+/, "").replace(/^&(mut )?/, "");
  const m = /^([A-Za-z_][A-Za-z0-9_]*)::/.exec(n);
  if (!m) return "(other)";
  return groupOf(m[1]);
}

/** A v0-mangled symbol's first crate root (`…Cs<hash>_4core…` is `core`): std rebuilt from
 * source (scripts/worker-build.sh) is mangled this way. */
function v0Crate(mangled) {
  const m = /C(?:s[0-9A-Za-z]*_)?(\d+)_?/.exec(mangled);
  if (!m) return "(other)";
  const at = m.index + m[0].length;
  return mangled.slice(at, at + Number(m[1]));
}

function groupOf(crate) {
  if (crate === "wasm_bindgen" || crate === "js_sys" || crate === "web_sys") return "wasm-bindgen glue";
  if (["core", "alloc", "std", "compiler_builtins", "hashbrown", "dlmalloc"].includes(crate)) return "std (core, alloc, std)";
  return crate;
}

const file = namedWasm();
const bytes = readFileSync(file);
const all = sections(bytes);
const imports = all.find((s) => s.id === 2);
const code = all.find((s) => s.id === 10);
const data = all.find((s) => s.id === 11);
const nameSection = all.find((s) => s.id === 0 && s.name === "name");
if (!code || !nameSection) throw new Error(`bench/wasm-size: ${file} has no code or no name section`);
const firstIndex = imports ? importedFunctions(bytes, imports) : 0;
const names = functionNames(bytes, nameSection);

const perCrate = new Map();
const bodies = [];
const r = new Reader(bytes, code.start);
for (let i = 0, n = r.u32(); i < n; i++) {
  const size = r.u32();
  const start = r.at;
  r.at += size;
  const name = names.get(firstIndex + i) ?? "";
  // wasm-bindgen's describe functions exist only until wasm-bindgen reads and drops them.
  if (name.includes("__wbindgen_describe")) continue;
  const crate = crateOf(name);
  const entry = perCrate.get(crate) ?? { crate, bytes: 0, functions: 0, parts: [] };
  entry.bytes += size;
  entry.functions++;
  entry.parts.push(bytes.subarray(start, start + size));
  perCrate.set(crate, entry);
  bodies.push({ size, name: name ? demangle(name) : `(unnamed ${firstIndex + i})` });
}

// Gzipped cost per crate: its function bodies compressed together (an estimate: gzip across
// crates shares a little more), scaled so the parts add up to the shipped file's gzipped size.
const rows = [...perCrate.values()].map((e) => ({
  crate: e.crate,
  functions: e.functions,
  bytes: e.bytes,
  gzipped: gzipSync(Buffer.concat(e.parts), { level: 9 }).length,
}));
const dataBytes = data ? data.end - data.start : 0;
rows.push({ crate: "data section (strings, tables)", functions: 0, bytes: dataBytes, gzipped: data ? gzipSync(bytes.subarray(data.start, data.end), { level: 9 }).length : 0 });
rows.sort((a, b) => b.gzipped - a.gzipped);
const shipped = join(ROOT, "build/worker/index.wasm");
const shippedGz = existsSync(shipped) ? gzipSync(readFileSync(shipped), { level: 9 }).length : null;
const sumGz = rows.reduce((s, x) => s + x.gzipped, 0);
const scale = shippedGz ? shippedGz / sumGz : 1;
for (const row of rows) row.shipped_gzipped_estimate = Math.round(row.gzipped * scale);

if (asJson) {
  console.log(JSON.stringify({ wasm: file, raw_bytes: statSync(file).size, shipped_gzipped: shippedGz, rows }, null, 1));
} else {
  console.log(`wasm with names: ${file} (${(statSync(file).size / 1024).toFixed(1)} KB raw); shipped build: ${shippedGz ? (shippedGz / 1024).toFixed(1) + " KB gzipped" : "not built"}`);
  console.log("| crate | functions | code KB raw | KB gzipped (share of the shipped file) |");
  console.log("|---|---:|---:|---:|");
  for (const row of rows.filter((x) => x.bytes > 2048)) {
    console.log(`| ${row.crate} | ${row.functions} | ${(row.bytes / 1024).toFixed(1)} | ${(row.shipped_gzipped_estimate / 1024).toFixed(1)} |`);
  }
  const small = rows.filter((x) => x.bytes <= 2048);
  const smallGz = small.reduce((s, x) => s + x.shipped_gzipped_estimate, 0);
  console.log(`| ${small.length} crates under 2 KB each | | ${(small.reduce((s, x) => s + x.bytes, 0) / 1024).toFixed(1)} | ${(smallGz / 1024).toFixed(1)} |`);
}
if (top > 0) {
  console.log(`\n| largest functions | code bytes |\n|---|---:|`);
  for (const b of [...bodies].sort((a, b) => b.size - a.size).slice(0, top)) console.log(`| ${b.name.slice(0, 140)} | ${b.size} |`);
}
