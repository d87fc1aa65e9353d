#!/usr/bin/env node
// `npx edgegate-check [--config FILE] [--env NAME] [--var NAME:VALUE]... [--dev-vars FILE]`:
// every problem of a deploy at once, judged by this package's own worker (lib/check.mjs).
import { main } from "../lib/check.mjs";
import { buildDir } from "../lib/build-dir.mjs";

process.exitCode = await main(process.argv.slice(2), { buildDir: buildDir() });
