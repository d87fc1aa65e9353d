// Per-operation cost of runtime calls the edgegate entry makes, measured inside workerd: each
// request runs one operation OP N times, then does what the pass-through worker does. Comparing
// workerd CPU per request with OP=none gives the cost of N operations (`node bench/ab.mjs
// NAME=amp:OP:N ...`). A loop measures an operation with warm caches and JIT, so it is a lower
// bound on what one call costs inside a real request.
const LOG_LINE =
  '{"request_id":"ca10deb516b03105c3f44d07be5808d7","method":"GET","path":"/api/data","outcome":"proxy","status":200,"auth_status":"signed-in","reason":null,"detail":null,"fault":null,"token_source":"header","forwarded_issues":[],"dropped_cookies":[],"grace":false,"duration_ms":0}';
let sink = 0;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const INBOX = new Uint8Array(16384);
const REQUEST_TEXT = "GET\nhttp://127.0.0.1:8787/api/data\n" + "authorization\nBearer " + "e".repeat(900) + "\n" + "accept\n*/*\n".repeat(20);
const STEP_TEXT = new TextEncoder().encode("GET\nhttp://127.0.0.1:9000/api/data\n" + "X-Auth-User-Id\nuser_2abc\n".repeat(10));
const IDENTITY = [
  ["x-auth-status", "signed-in"], ["x-auth-user-id", "user_1"], ["x-auth-session-id", "sess_1"],
  ["x-auth-token-type", "session_token"], ["x-request-id", "ca10deb516b03105"],
  ["x-forwarded-host", "app.example.com"], ["x-forwarded-proto", "https"], ["x-forwarded-for", "127.0.0.1"],
];

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
  // The origin request's headers, three ways: a copy of the request's edited in place (one
  // runtime call per edit), one array of pairs, one plain object.
  headersEdited(request) {
    const h = new Headers(request.headers);
    h.delete("authorization");
    h.delete("cookie");
    for (const [name, value] of IDENTITY) h.append(name, value);
    sink += h.has("x-request-id") ? 1 : 0;
  },
  headersPairs(request) {
    const pairs = [];
    for (const pair of request.headers) if (pair[0] !== "authorization" && pair[0] !== "cookie") pairs.push(pair);
    for (const pair of IDENTITY) pairs.push(pair);
    sink += new Headers(pairs).has("x-request-id") ? 1 : 0;
  },
  headersObject(request) {
    const object = {};
    for (const [name, value] of request.headers) if (name !== "authorization" && name !== "cookie") object[name] = value;
    for (const [name, value] of IDENTITY) object[name] = value;
    sink += new Headers(object).has("x-request-id") ? 1 : 0;
  },
  // The request's headers as the inbox text, three ways: the iterator's pairs, forEach, and
  // the names alone (keys()).
  headerBlobForEach(request) {
    let blob = "";
    request.headers.forEach((value, name) => {
      blob += name + "\n" + value + "\n";
    });
    sink += blob.length;
  },
  headerNames(request) {
    let blob = "";
    for (const name of request.headers.keys()) blob += name + "\n";
    sink += blob.length;
  },
  headersCopyOnly(request) {
    sink += new Headers(request.headers).has("x-request-id") ? 1 : 0;
  },
  // The boundary's own runtime calls: a step's text area decoded (300 bytes), a request
  // written into memory (1,200 bytes).
  decode() {
    sink += decoder.decode(STEP_TEXT).length;
  },
  encodeInto() {
    sink += encoder.encodeInto(REQUEST_TEXT, INBOX).written;
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
