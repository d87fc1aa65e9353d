// `npm run pack`: the npm package @edgegate/worker, packed into edgegate-worker-<version>.tgz at
// the repository's root (README, "Deploy"). It holds the tested build (build/index.js and what it
// imports, build/worker/), the gateway's pages (www/), and packages/worker/ (the wrangler.jsonc
// template, the settings check, its README); the version is the root package.json's. The build
// runs first (scripts/worker-build.sh; nothing happens when build/ is current), so the package is
// always the sources' build, the one `bash scripts/test.sh` tests.
import { spawnSync } from "node:child_process";
import { copyFileSync, cpSync, createReadStream, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const PACKAGE = join(ROOT, "packages", "worker");

function run(command, args, options) {
  const result = spawnSync(command, args, { stdio: ["ignore", "pipe", "inherit"], encoding: "utf8", ...options });
  if (result.status !== 0) {
    process.stderr.write(`[pack] ${command} ${args.join(" ")} failed\n`);
    process.exit(result.status ?? 1);
  }
  return result.stdout;
}

/** The package's tree in a fresh folder, as npm will pack it. */
function stage() {
  const dir = mkdtempSync(join(tmpdir(), "edgegate-pack-"));
  const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  const manifest = JSON.parse(readFileSync(join(PACKAGE, "package.json"), "utf8"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: manifest.name, version, ...manifest }, null, 2) + "\n");
  for (const name of ["README.md", "wrangler.jsonc"]) copyFileSync(join(PACKAGE, name), join(dir, name));
  for (const name of ["bin", "lib"]) cpSync(join(PACKAGE, name), join(dir, name), { recursive: true });
  cpSync(join(ROOT, "www"), join(dir, "www"), { recursive: true });
  // The entry and what it imports (./worker/shim.mjs, ./index.wasm), nothing else of build/.
  cpSync(join(ROOT, "build", "worker"), join(dir, "build", "worker"), { recursive: true });
  copyFileSync(join(ROOT, "build", "index.js"), join(dir, "build", "index.js"));
  return dir;
}

async function sha256(path) {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk);
  return hash.digest("hex");
}

run("sh", [join(ROOT, "scripts", "worker-build.sh")], { stdio: ["ignore", 2, 2] });
const dir = stage();
try {
  // npm itself packs: the tarball is what `npm publish` would upload. npm_execpath is the npm
  // that runs `npm run pack`.
  const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ["npm"];
  const out = run(npm[0], [...npm.slice(1), "pack", "--json", "--pack-destination", ROOT], { cwd: dir });
  const [{ filename, files }] = JSON.parse(out);
  const wasm = readdirSync(join(dir, "build", "worker")).filter((f) => f.endsWith(".wasm"));
  process.stdout.write(`[pack] ${join(ROOT, filename)}: ${files.length} files\n`);
  for (const f of wasm) process.stdout.write(`[pack] build/worker/${f} sha256 ${await sha256(join(dir, "build", "worker", f))}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
