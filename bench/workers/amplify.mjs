// Per-operation cost of runtime calls the edgegate entry makes, measured inside workerd: each
// request runs one operation OP N times, then does what the pass-through worker does. Comparing
// workerd CPU per request with OP=none gives the cost of N operations (`node bench/ab.mjs
// NAME=amp:OP:N ...`). A loop measures an operation with warm caches and JIT, so it is a lower
// bound on what one call costs inside a real request.
const LOG_LINE =
  '{"request_id":"ca10deb516b03105c3f44d07be5808d7","method":"GET","path":"/api/data","outcome":"proxy","status":200,"auth_status":"signed-in","reason":null,"detail":null,"fault":null,"token_source":"header","forwarded_issues":[],"dropped_cookies":[],"grace":false,"duration_ms":0}';
let sink = 0;

function headerBlob(headers) {
  let blob = "";
  for (const [name, value] of headers) blob += name + "\n" + value + "\n";
  return blob;
}

const BEFORE_FETCH = {
  none() {},
  // AbortController + setTimeout + clearTimeout, the timeout the entry used to have.
  abortTimer() {
    const c = new AbortController();
    const t = setTimeout(() => c.abort(), 30000);
    clearTimeout(t);
  },
  // setTimeout + clearTimeout alone, the timeout it has now.
  timer() {
    clearTimeout(setTimeout(() => {}, 30000));
  },
  headersCopy(request) {
    const h = new Headers(request.headers);
    h.delete("authorization");
    h.append("X-Auth-User-Id", "user_1");
  },
  log() {
    console.log(LOG_LINE);
  },
  random() {
    sink += crypto.getRandomValues(new Uint8Array(32))[0];
  },
  headerBlob(request) {
    sink += headerBlob(request.headers).length;
  },
  url(request) {
    sink += new URL(request.url).pathname.length;
  },
};

export default {
  async fetch(request, env) {
    const n = Number(env.N ?? 0);
    const op = BEFORE_FETCH[env.OP];
    if (op) for (let i = 0; i < n; i++) op(request);
    const url = new URL(request.url);
    const response = await fetch(env.ORIGIN_URL + url.pathname + url.search, {
      method: request.method,
      headers: request.headers,
      redirect: "manual",
    });
    // The copy the entry makes of a fetched response to edit its headers.
    if (env.OP === "responseCopy") for (let i = 0; i < n; i++) sink += new Response(null, response).status;
    return response;
  },
};
