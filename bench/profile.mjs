import autocannon from "autocannon";
import { Miniflare } from "miniflare";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { generateKeys, mintToken, sessionClaims, APP_ORIGIN, WWW_DIR } from "../tests/e2e/helpers.mjs";
const child = spawn(process.execPath, ["bench/origin.mjs"], { stdio: ["ignore", "pipe", "inherit"] });
const port = await new Promise(r => child.stdout.once("data", d => r(Number(String(d)))));
const k = generateKeys("RS256");
const now = Math.floor(Date.now()/1000);
const token = mintToken({ privatePem: k.privatePem, alg: "RS256", claims: sessionClaims({ azp: APP_ORIGIN, exp: now + 3600 }, now) });
const mf = new Miniflare({ name: "edgegate", modules: true, scriptPath: "build/index.js", modulesRoot: "build",
  modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true }],
  compatibilityDate: "2025-01-01", inspectorPort: 9339,
  bindings: { CLERK_JWT_KEY: k.publicPem, AUTHORIZED_PARTIES: APP_ORIGIN, ORIGIN_URL: `http://127.0.0.1:${port}`, ...(process.env.BENCH_LEAN ? { LOG_REQUESTS: "refusals", AUTH_STATUS_HEADER: "false" } : {}) },
  host: "127.0.0.1", port: 0, handleRuntimeStdio(a, b) { a.resume(); b.resume(); } });
const url = (await mf.ready).toString();
const targets = await (await fetch("http://127.0.0.1:9339/json/list")).json();
console.log(targets.map(t => t.title + " " + t.webSocketDebuggerUrl));
const t = targets.find(t => /edgegate/.test(t.title)) ?? targets[0];
const ws = new WebSocket(t.webSocketDebuggerUrl);
await new Promise(r => ws.onopen = r);
let id = 0; const pending = new Map();
ws.onmessage = (m) => { const d = JSON.parse(m.data); if (d.id && pending.has(d.id)) { pending.get(d.id)(d); pending.delete(d.id); } };
const send = (method, params = {}) => new Promise(r => { const i = ++id; pending.set(i, r); ws.send(JSON.stringify({ id: i, method, params })); });
const headers = { authorization: `Bearer ${token}` };
await autocannon({ url: url + "api/data", connections: 16, duration: 1, headers });
console.log(await send("Profiler.enable"));
await send("Profiler.setSamplingInterval", { interval: 100 });
console.log(await send("Profiler.start"));
const r = await autocannon({ url: url + "api/data", connections: 16, duration: 4, headers });
console.log("rps", r.requests.average, "non2xx", r.non2xx);
const prof = await send("Profiler.stop");
writeFileSync("build/bench/edgegate.cpuprofile", JSON.stringify(prof.result.profile));
// self-time summary
const p = prof.result.profile; const self = new Map(); const byId = new Map(p.nodes.map(n => [n.id, n]));
const dt = new Map(); for (let i = 0; i < p.samples.length; i++) dt.set(p.samples[i], (dt.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
for (const n of p.nodes) { const key = n.callFrame.functionName + " " + (n.callFrame.url||"").slice(-30); self.set(key, (self.get(key) ?? 0) + (dt.get(n.id) ?? 0)); }
const total = [...self.values()].reduce((a, b) => a + b, 0);
for (const [k2, v] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log((100*v/total).toFixed(1).padStart(5), k2);
// inclusive time of interesting frames
ws.close(); await mf.dispose(); child.kill();
