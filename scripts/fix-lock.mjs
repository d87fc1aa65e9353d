#!/usr/bin/env node
// The package mirror these machines use carries workerd's Linux binaries only, so a lock file
// written here lacks the darwin/windows optional entries and `npm ci` refuses it ("Missing: ...").
// This adds those entries (version and platform only: npm skips them on Linux and resolves them
// by version elsewhere). Run after any `npm install`: node scripts/fix-lock.mjs
import { readFileSync, writeFileSync } from "node:fs";

const path = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(path, "utf8"));
const platform = {
  "darwin-64": { os: ["darwin"], cpu: ["x64"] },
  "darwin-arm64": { os: ["darwin"], cpu: ["arm64"] },
  "linux-64": { os: ["linux"], cpu: ["x64"] },
  "linux-arm64": { os: ["linux"], cpu: ["arm64"] },
  "windows-64": { os: ["win32"], cpu: ["x64"] },
};
let added = 0;
for (const [key, entry] of Object.entries(lock.packages)) {
  if (!key.endsWith("node_modules/workerd") || !entry.optionalDependencies) continue;
  const prefix = key.slice(0, -"workerd".length);
  for (const [dep, version] of Object.entries(entry.optionalDependencies)) {
    const target = `${prefix}${dep}`;
    const topLevel = `node_modules/${dep}`;
    const existing = lock.packages[target] ?? lock.packages[topLevel];
    if (existing && existing.version === version) continue;
    const suffix = dep.replace("@cloudflare/workerd-", "");
    lock.packages[existing ? target : topLevel] = {
      version,
      dev: true,
      license: "Apache-2.0",
      optional: true,
      ...platform[suffix],
      engines: { node: ">=16" },
    };
    added++;
  }
}
lock.packages = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : a > b ? 1 : 0)));
writeFileSync(path, JSON.stringify(lock, null, 2) + "\n");
console.error(`fix-lock: added ${added} platform entries`);
