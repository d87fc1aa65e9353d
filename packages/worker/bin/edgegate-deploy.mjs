#!/usr/bin/env node
// `npx edgegate-deploy [wrangler deploy arguments]`: edgegate-check, then `wrangler deploy`
// with the same arguments (lib/deploy.mjs).
import { fileURLToPath } from "node:url";
import { deploy } from "../lib/deploy.mjs";

process.exitCode = await deploy(process.argv.slice(2), { buildDir: fileURLToPath(new URL("../build/", import.meta.url)) });
