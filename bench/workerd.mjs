// Serves one worker with `workerd serve` (the runtime Cloudflare runs, from the `workerd` npm
// package), with no Miniflare in front, for the benchmarks (bench/e2e.mjs, bench/ab.mjs); and
// the CPU time of a workerd, however it was started.
//
// Why not Miniflare: it routes every request through its own entry worker first, a second JS
// worker in the same process that rebuilds the request and its `cf` object. On this kind of
// machine that is about 0.85 ms of CPU per request, twice the pass-through worker's own cost,
// and nothing like it runs in the worker's process on Cloudflare. Miniflare stays for what only
// it has (the asset router of the "+assets" rows, and the e2e test suite).
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { join, relative } from "node:path";
import { ROOT, compatibilityDate } from "../tests/e2e/helpers.mjs";

const WORKERD = join(ROOT, "node_modules", ".bin", "workerd");

/** Clock ticks per second of /proc's CPU times (USER_HZ). */
const CLOCK_TICKS = Number(String(execFileSync("getconf", ["CLK_TCK"])).trim()) || 100;

/** CPU time (user + system, µs) a process has used so far, from /proc, in clock ticks (10 ms). */
export function cpuMicrosTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name, which is in parentheses and may itself hold ") ".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
}

/**
 * CPU time (µs) a process has used so far: the scheduler's on-CPU time of each of its threads
 * (/proc/PID/task/TID/schedstat, nanoseconds), summed. /proc/PID/stat counts in clock ticks,
 * 10 ms here: over a 5 s run at 400 req/s that is 5 µs a request, as coarse as the differences
 * measured. A thread that exits between two readings takes its time with it; workerd's threads
 * live as long as the process. Falls back to the ticks without schedstat.
 */
export function cpuMicros(pid) {
  let tids;
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return cpuMicrosTicks(pid);
  }
  let ns = 0;
  for (const tid of tids) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // the thread exited meanwhile
    }
  }
  return ns > 0 ? ns / 1000 : cpuMicrosTicks(pid);
}

/**
 * The workerd this process's newest Miniflare instance started: Miniflare spawns workerd as a
 * child of this process, one per instance. Only our own children count, so another workerd on
 * the machine is never measured.
 */
export function newestChildWorkerd() {
  return Number(String(execFileSync("pgrep", ["-n", "-x", "-P", String(process.pid), "workerd"])).trim());
}

/** The modules of an edgegate build folder (build/ or a copy), named as its imports name them. */
export function edgegateModules(dir) {
  return [
    { name: "index.js", esModule: join(dir, "index.js") },
    { name: "worker/shim.mjs", esModule: join(dir, "worker", "shim.mjs") },
    { name: "worker/index.wasm", wasm: join(dir, "worker", "index.wasm") },
  ];
}

/** A free loopback port (the kernel's pick; workerd binds it right after). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function listening(port) {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

const capnpString = (s) => JSON.stringify(String(s));

/**
 * Starts workerd with one worker: `modules` [{ name, esModule | wasm: file }], text `bindings`,
 * optional `v8Flags` (for example `--perf-basic-prof` for a profile). The capnp config is
 * written into `dir` (embed paths are relative to it). stdout and stderr are drained, as
 * Miniflare drains them, so a log line is still written. Resolves once the socket listens:
 * { url, pid (workerd's own, for its CPU time), readyMs, runtime: "workerd", stop() }.
 */
export async function serveWorker({ name, dir, modules, bindings = {}, v8Flags = [] }) {
  const port = await freePort();
  mkdirSync(dir, { recursive: true });
  const embed = (file) => capnpString(relative(dir, file));
  const moduleList = modules.map((m) =>
    m.wasm
      ? `(name = ${capnpString(m.name)}, wasm = embed ${embed(m.wasm)})`
      : `(name = ${capnpString(m.name)}, esModule = embed ${embed(m.esModule)})`,
  );
  const bindingList = Object.entries(bindings).map(([k, v]) => `(name = ${capnpString(k)}, text = ${capnpString(v)})`);
  const config = `# Written by bench/workerd.mjs for ${name}.
using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    # The default outbound: the origin is on loopback, which workerd's default "internet" refuses.
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
  v8Flags = [${v8Flags.map(capnpString).join(", ")}],
);
const worker :Workerd.Worker = (
  modules = [${moduleList.join(", ")}],
  compatibilityDate = ${capnpString(compatibilityDate())},
  bindings = [${bindingList.join(", ")}],
);
`;
  const configPath = join(dir, "config.capnp");
  writeFileSync(configPath, config);
  const started = performance.now();
  const child = spawn(WORKERD, ["serve", configPath], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stdout.resume();
  child.stderr.on("data", (d) => {
    if (stderr.length < 4096) stderr += d;
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  for (let i = 0; !(await listening(port)); i++) {
    if (child.exitCode !== null) throw new Error(`bench/workerd: workerd for ${name} exited: ${stderr}`);
    if (i >= 400) {
      child.kill("SIGKILL");
      throw new Error(`bench/workerd: workerd for ${name} did not listen within 20 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const readyMs = performance.now() - started;
  const stop = async () => {
    if (child.exitCode === null) child.kill("SIGTERM");
    await exited;
  };
  return { url: `http://127.0.0.1:${port}`, pid: child.pid, readyMs, runtime: "workerd", stop };
}
