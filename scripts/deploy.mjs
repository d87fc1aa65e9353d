// `npm run check` and `npm run deploy` in this repository (README, "Deploy"):
//
//   node scripts/deploy.mjs check  [--config FILE] [--env NAME] [--var NAME:VALUE]... [--dev-vars FILE]
//   node scripts/deploy.mjs deploy [wrangler deploy arguments]
//
// Both build the worker first (scripts/worker-build.sh, wrangler.toml's [build] command; nothing
// happens when build/ is current), because the check's rules are in the worker's wasm. Then the
// package's own check (packages/worker/lib/check.mjs) judges the deploy with that build, and
// `deploy` runs `wrangler deploy` with the same arguments when it found no problem. The build's
// output goes to stderr: stdout is the check's report.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { main as check } from "../packages/worker/lib/check.mjs";
import { deploy } from "../packages/worker/lib/deploy.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const BUILD_DIR = join(ROOT, "build");

/** The release build, as `wrangler deploy` runs it; its exit code. */
function build() {
  const run = spawnSync("sh", [join(ROOT, "scripts", "worker-build.sh")], { stdio: ["ignore", 2, 2] });
  return run.status ?? 1;
}

const [command, ...argv] = process.argv.slice(2);
if (command !== "check" && command !== "deploy") {
  process.stderr.write("usage: node scripts/deploy.mjs check|deploy [arguments]\n");
  process.exit(2);
}
const built = build();
if (built !== 0) {
  process.stderr.write(`edgegate ${command}: the worker build failed (above)\n`);
  process.exit(built);
}
process.exitCode = command === "check" ? await check(argv, { buildDir: BUILD_DIR }) : await deploy(argv, { buildDir: BUILD_DIR });
