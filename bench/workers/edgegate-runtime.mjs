// The runtime work edgegate's entry (src/edge/shim.js) does for a warm, lean, signed-in request,
// with the wasm taken out: the request written as inbox text, the origin Headers copied and
// edited as the plan says (2 deletes, 8 identity and forwarding headers), the fetch with its
// timeout timer and `cache: "no-store"`, the response headers read back as text and written, the
// response sent on untouched. Decisions are free here (constants), so it prices the entry's
// calls into the runtime alone: edgegate-lean minus this is the wasm, the step reading and the
// entry's own JavaScript. CUT (names joined by "+") leaves parts out to price each: text, copy,
// cache, timer, response; `copy-response` adds the copy a response with edits costs.
const encoder = new TextEncoder();
const inbox = new Uint8Array(16384);
const IDENTITY = [
  ["X-Forwarded-For", "127.0.0.1"], ["X-Forwarded-Host", "127.0.0.1:8787"], ["X-Forwarded-Proto", "http"],
  ["X-Request-Id", "55e4621af7df663c5f56721f16d624f7"], ["X-Auth-Status", "signed-in"],
  ["X-Auth-Token-Type", "session_token"], ["X-Auth-User-Id", "user_2abc"], ["X-Auth-Session-Id", "sess_2abc"],
];
let cut;

let t = "";
const append = (value, name) => {
  t += name + "\n" + value + "\n";
};

function text(headers, head) {
  t = head;
  headers.forEach(append);
  return encoder.encodeInto(t, inbox).written;
}

export default {
  fetch(request, env) {
    cut ??= new Set((env.CUT ?? "").split("+"));
    if (!cut.has("text")) text(request.headers, request.method + "\n" + request.url + "\n");
    let headers = request.headers;
    if (!cut.has("copy")) {
      headers = new Headers(request.headers);
      headers.delete("connection");
      headers.delete("host");
      for (const [name, value] of IDENTITY) headers.append(name, value);
    }
    const url = new URL(request.url);
    const init = { method: request.method, headers, redirect: "manual" };
    if (!cut.has("cache")) init.cache = "no-store";
    const pending = fetch(env.ORIGIN_URL + url.pathname + url.search, init);
    return new Promise((resolve) => {
      let settled = false;
      const settle = (kind, response) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (kind !== 0) return resolve(new Response("origin timed out", { status: 504 }));
        if (!cut.has("response")) text(response.headers, "");
        if (!cut.has("copy-response")) return resolve(response);
        const copy = new Response(response.body, response);
        copy.headers.delete("connection");
        copy.headers.delete("keep-alive");
        resolve(copy);
      };
      const timer = cut.has("timer") ? 0 : setTimeout(settle, 30000, 1, null);
      pending.then((response) => settle(0, response), () => settle(2, null));
    });
  },
};
