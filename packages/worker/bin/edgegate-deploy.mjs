#!/usr/bin/env node
// `npx edgegate-deploy [wrangler deploy arguments]`: edgegate-check, then `wrangler deploy`
// with the same arguments (lib/deploy.mjs).
import { buildDir } from "../lib/build-dir.mjs";
import { deploy } from "../lib/deploy.mjs";

process.exitCode = await deploy(process.argv.slice(2), { buildDir: buildDir() });
