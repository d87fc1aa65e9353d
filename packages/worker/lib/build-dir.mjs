// The worker whose wasm holds the check's rules: the package's own build/ (`npm run pack` puts
// the tested one there). Run from edgegate's repository instead (packages/worker/ beside src/),
// the repository's build/, the one `npm run pack` would copy (`npm run check` builds it first).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export function buildDir() {
  const own = fileURLToPath(new URL("../build/", import.meta.url));
  const inRepository = existsSync(fileURLToPath(new URL("../../../src/deploy_check.rs", import.meta.url)));
  return existsSync(own) || !inRepository ? own : fileURLToPath(new URL("../../../build/", import.meta.url));
}
