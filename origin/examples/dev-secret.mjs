// The secret an example origin runs with when started by hand: ORIGIN_ASSERTION_SECRET, else the
// development secret `bash scripts/dev.sh` keeps in .edgegate-dev/assertion-secret at the
// repository's root (found from this file, so any working directory will do). Without either, or
// with one the kit would refuse, the example stops with one line saying what to do, rather than
// the kit's TypeError and its stack.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const DEV_SECRET_FILE = fileURLToPath(new URL("../../.edgegate-dev/assertion-secret", import.meta.url));
// The kit's own minimum (index.js): a shorter secret is a configuration error there.
const MIN_SECRET_BYTES = 32;

/** The secret, or exit 1 with one line on stderr naming the fix. */
export function exampleSecret(env = process.env) {
  let secret = env.ORIGIN_ASSERTION_SECRET;
  let from = "ORIGIN_ASSERTION_SECRET";
  if (!secret) {
    try {
      secret = readFileSync(DEV_SECRET_FILE, "utf8").trim();
      from = DEV_SECRET_FILE;
    } catch {
      stop(`no ORIGIN_ASSERTION_SECRET and no ${DEV_SECRET_FILE}: run \`bash scripts/dev.sh\` first (it writes the development secret), or set ORIGIN_ASSERTION_SECRET`);
    }
  }
  if (Buffer.byteLength(secret, "utf8") < MIN_SECRET_BYTES) {
    stop(`the secret in ${from} is shorter than ${MIN_SECRET_BYTES} bytes: use the one \`bash scripts/dev.sh\` wrote, or a random value of 32 bytes or more`);
  }
  return secret;
}

function stop(line) {
  console.error(`origin example: ${line}`);
  process.exit(1);
}
