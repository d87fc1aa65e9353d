// The deployment check: every problem of a deploy at once, before `wrangler deploy`.
//
//   edgegate-check [--config FILE] [--env NAME] [--var NAME:VALUE]... [--dev-vars FILE]
//
// This file only reads and prints. wrangler itself reads the configuration (its own lookup of
// wrangler.json, wrangler.jsonc, wrangler.toml; its TOML and JSONC parsers; the environment it
// deploys, with --env or CLOUDFLARE_ENV, and what that environment inherits), so the check sees
// what `wrangler deploy` with the same arguments ships. Every rule is in the worker's wasm
// (src/deploy_check.rs, the `checkDeploy` export), which judges the settings with the worker's
// own parser. Exit 0: no problem; 1: problems (listed); 2: the check could not run.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join, resolve } from "node:path";
import * as util from "node:util";

export const USAGE = `usage: edgegate-check [--config FILE] [--env NAME] [--var NAME:VALUE]... [--dev-vars FILE]

Checks what \`wrangler deploy\` with the same arguments would ship: the configuration wrangler
finds (wrangler.json, wrangler.jsonc or wrangler.toml, here or above; or --config FILE), the vars
of the environment it deploys (--env NAME, else CLOUDFLARE_ENV), --var NAME:VALUE. Shell
variables are not settings of a deploy and are not read. --dev-vars FILE checks the shape of the
secrets in a .dev.vars-style file (its other values are not shipped and not read).
Exit 0: no problem; 1: problems; 2: the check could not run.`;

/** A failure of the check itself (exit 2), as opposed to a problem it found (exit 1). */
export class CannotCheck extends Error {}

/**
 * Runs the check. `argv`: the arguments; `buildDir`: the worker's build (its worker/index.wasm
 * holds the rules); `passthrough`: ignore arguments that are `wrangler deploy`'s, not the
 * check's (`edgegate-deploy` passes all of them to both). Returns the exit code.
 */
export async function main(argv, { buildDir, passthrough = false, out = process.stdout, err = process.stderr } = {}) {
  try {
    const args = parseArgs(argv, passthrough);
    if (args.help) {
      out.write(USAGE + "\n");
      return 0;
    }
    const input = readDeploy(args);
    const result = JSON.parse(wasmCheck(buildDir)(JSON.stringify(input, jsonSafe)));
    out.write(result.out);
    err.write(result.err);
    return result.exit;
  } catch (e) {
    // Exit 1 means "problems found": anything that stopped the check itself (a bad or old
    // wasm, a trap) is 2, "could not check", with the reason.
    const reason = e instanceof CannotCheck ? e.message : `could not run: ${e?.stack ?? e}`;
    err.write(`edgegate check: ${reason}\n`);
    return 2;
  }
}

/** The check's arguments; wrangler's spellings (`-c`, `-e`, `--env=NAME`, `--var A:1 B:2`). */
export function parseArgs(argv, passthrough = false) {
  const args = { config: undefined, env: undefined, vars: [], devVars: undefined, help: false };
  for (let i = 0; i < argv.length; i++) {
    let flag = argv[i];
    let inline;
    const eq = flag.startsWith("-") ? flag.indexOf("=") : -1;
    if (eq > 0) [flag, inline] = [flag.slice(0, eq), flag.slice(eq + 1)];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new CannotCheck(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    switch (flag) {
      case "-c":
      case "--config":
        args.config = value();
        break;
      case "-e":
      case "--env":
        args.env = value();
        break;
      case "--var":
        args.vars.push(value());
        // yargs' array option: `--var A:1 B:2` gives both.
        while (inline === undefined && i + 1 < argv.length && !argv[i + 1].startsWith("-")) args.vars.push(argv[++i]);
        break;
      case "--dev-vars":
        args.devVars = value();
        break;
      case "-h":
      case "--help":
        // Under edgegate-deploy, wrangler's: `wrangler deploy --help` answers it.
        args.help = !passthrough;
        break;
      default:
        if (!passthrough) throw new CannotCheck(`unexpected argument: ${argv[i]}\n${USAGE}`);
    }
  }
  return args;
}

/** What the rules need, read by wrangler: the file as parsed, the deployed environment. */
function readDeploy(args) {
  const wrangler = loadWrangler();
  const options = { useRedirectIfAvailable: true };
  let raw;
  try {
    raw = wrangler.experimental_readRawConfig({ config: args.config }, options);
  } catch (e) {
    throw new CannotCheck(`wrangler cannot read ${args.config ?? "the configuration"}: ${e.message}${where(e)}`);
  }
  if (!raw.configPath) {
    throw new CannotCheck(
      `no wrangler.json, wrangler.jsonc or wrangler.toml in ${process.cwd()} or above: create one, or name it with --config FILE`,
    );
  }
  let config;
  try {
    config = wrangler.unstable_readConfig({ config: args.config, env: args.env }, { ...options, hideWarnings: true });
  } catch (e) {
    throw new CannotCheck(`wrangler refuses ${basename(raw.configPath)}: ${e.message}`);
  }
  return {
    file: basename(raw.configPath),
    raw: raw.rawConfig,
    env: config.targetEnvironment ?? null,
    effective: {
      vars: config.vars,
      kv_namespaces: config.kv_namespaces,
      triggers: config.triggers,
      route: config.route,
      routes: config.routes,
    },
    cli_vars: args.vars,
    ...readDevVars(args.devVars),
    shell: Object.keys(process.env),
  };
}

/** Where wrangler's parser stopped, when it says. */
function where(error) {
  const at = error.location;
  return at?.line ? ` (line ${at.line}, column ${at.column})` : "";
}

/** A `.dev.vars` file read as wrangler reads it (dotenv: `export`, quotes, multi-line values). */
function readDevVars(path) {
  if (path === undefined) return {};
  if (typeof util.parseEnv !== "function") throw new CannotCheck("--dev-vars needs node 20.12 or later");
  let text;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new CannotCheck(`cannot read ${path}: ${e.message}`);
  }
  return { dev_vars_file: basename(path), dev_vars: util.parseEnv(text) };
}

/**
 * The project's wrangler: the one `npx wrangler` runs in this folder, else the one beside this
 * package. Its package API is the same code as its `deploy`.
 */
export function loadWrangler() {
  const path = resolveWrangler();
  if (!path) {
    throw new CannotCheck("wrangler is not installed here: run `npm install --save-dev wrangler`");
  }
  return createRequire(path)(path);
}

/** The path of wrangler's package entry, or undefined. */
export function resolveWrangler() {
  for (const from of [join(process.cwd(), "package.json"), import.meta.filename]) {
    try {
      return createRequire(from).resolve("wrangler");
    } catch {
      // Not installed there; try the next place.
    }
  }
  return undefined;
}

/** wrangler's command-line entry (its package's `bin`), the one `npx wrangler` runs here. */
export function wranglerBin() {
  const entry = resolveWrangler();
  if (!entry) throw new CannotCheck("wrangler is not installed here: run `npm install --save-dev wrangler`");
  const manifest = createRequire(entry).resolve("wrangler/package.json");
  const { bin } = JSON.parse(readFileSync(manifest, "utf8"));
  return join(dirname(manifest), typeof bin === "string" ? bin : bin.wrangler);
}

/** JSON for values TOML gives that JSON has not (big integers). */
function jsonSafe(_key, value) {
  return typeof value === "bigint" ? value.toString() : value;
}

/**
 * The worker's wasm, instantiated in node for its `checkDeploy` export: a string in, a string
 * out, through wasm-bindgen's calling convention (its malloc, free and two-value returns). The
 * check calls nothing outside the wasm, so every import is a stub that throws if called.
 */
function wasmCheck(buildDir) {
  const path = resolve(buildDir, "worker", "index.wasm");
  if (!existsSync(path)) throw new CannotCheck(`the worker is not built: ${path} is missing`);
  const module = new WebAssembly.Module(readFileSync(path));
  const imports = {};
  for (const { module: from, name } of WebAssembly.Module.imports(module)) {
    imports[from] ??= {};
    imports[from][name] = () => {
      throw new Error(`edgegate check: the wasm called ${from}.${name}`);
    };
  }
  const x = new WebAssembly.Instance(module, imports).exports;
  if (typeof x.checkDeploy !== "function") {
    throw new CannotCheck(`${path} has no deployment check (a worker built before it had one): rebuild it`);
  }
  return (text) => {
    const bytes = new TextEncoder().encode(text);
    const at = x.__wbindgen_malloc(bytes.length, 1);
    new Uint8Array(x.memory.buffer, at, bytes.length).set(bytes);
    const [outAt, outLength] = x.checkDeploy(at, bytes.length);
    const result = new TextDecoder().decode(new Uint8Array(x.memory.buffer, outAt, outLength));
    x.__wbindgen_free(outAt, outLength, 1);
    return result;
  };
}
