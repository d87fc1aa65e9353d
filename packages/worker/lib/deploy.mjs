// The check, then `wrangler deploy` with the same arguments (`edgegate-deploy`, and
// `npm run deploy` in the edgegate repository): `--env production` is checked as
// `[env.production.vars]` because wrangler deploys exactly that. Nothing is deployed when the
// check finds a problem.
import { spawnSync } from "node:child_process";
import { CannotCheck, main as check, wranglerBin } from "./check.mjs";

/** The arguments only the check reads, never passed to wrangler (with their values). */
const CHECK_ONLY = new Set(["--dev-vars"]);

/** Runs the check, then `wrangler deploy ARGV`; returns the exit code. */
export async function deploy(argv, { buildDir }) {
  const code = await check(argv, { buildDir, passthrough: true });
  if (code !== 0) {
    process.stderr.write("edgegate deploy: not deployed; fix the problems above (`wrangler deploy` was not run)\n");
    return code;
  }
  let bin;
  try {
    bin = wranglerBin();
  } catch (e) {
    if (!(e instanceof CannotCheck)) throw e;
    process.stderr.write(`edgegate deploy: ${e.message}\n`);
    return 2;
  }
  const run = spawnSync(process.execPath, [bin, "deploy", ...wranglerArgs(argv)], { stdio: "inherit" });
  return run.status ?? 1;
}

/** `argv` without the check's own arguments. */
export function wranglerArgs(argv) {
  const out = [];
  for (let i = 0; i < argv.length; i++) {
    const [flag] = argv[i].split("=", 1);
    if (!CHECK_ONLY.has(flag)) out.push(argv[i]);
    else if (!argv[i].includes("=")) i++;
  }
  return out;
}
