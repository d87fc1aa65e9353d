// JavaScript half of the edge's I/O, imported by src/edge/mod.rs through wasm-bindgen. Each
// function does in one call what would otherwise take one wasm/JS crossing per header or per
// property: header lists travel as one string, `name\nvalue\n` per header (see
// `http::header_blob`; Fetch headers never contain `\n`). Nothing here decides anything.

/** Every header of a `Headers` as one blob (names in lower case, as the runtime gives them). */
export function headerBlob(headers) {
  let blob = "";
  for (const [name, value] of headers) blob += name + "\n" + value + "\n";
  return blob;
}

/** A `Headers` from a blob; a pair the runtime refuses is dropped (the planners never emit one). */
export function headersFromBlob(blob) {
  const headers = new Headers();
  const parts = blob.split("\n");
  for (let i = 0; i + 1 < parts.length; i += 2) {
    try {
      headers.append(parts[i], parts[i + 1]);
    } catch {
      // dropped, see above
    }
  }
  return headers;
}

/**
 * The origin fetch: redirects never followed, never cached, aborted with a `TimeoutError` when
 * the response headers have not arrived after `timeoutMs` (the timer is cleared as soon as they
 * do, so a long streamed body is never cut). `body` is a stream or null.
 */
export function originFetch(url, method, blob, body, timeoutMs) {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException("origin timeout", "TimeoutError")),
    timeoutMs,
  );
  const init = {
    method,
    headers: headersFromBlob(blob),
    redirect: "manual",
    cache: "no-store",
    signal: controller.signal,
  };
  if (body) init.body = body;
  return fetch(url, init).then(
    (response) => {
      clearTimeout(timer);
      return response;
    },
    (error) => {
      clearTimeout(timer);
      throw error;
    },
  );
}

/** The name of a rejection (`TimeoutError` for the origin timeout), or "". */
export function errorName(error) {
  return typeof error?.name === "string" ? error.name : "";
}

/** A `Response` with `status`, the blob's headers and `body` (a stream, a string or null). */
export function respond(status, blob, body) {
  return new Response(body ?? null, { status, headers: headersFromBlob(blob) });
}

// WebCrypto parameters, built once per isolate.
const VERIFY_PARAMS = {
  RS256: { name: "RSASSA-PKCS1-v1_5" },
  ES256: { name: "ECDSA", hash: "SHA-256" },
};

/**
 * `crypto.subtle.verify` of `signature` over `message` with an imported `CryptoKey`; resolves to a
 * boolean. Both are views into wasm memory: WebCrypto copies its inputs before it returns.
 */
export function verifySignature(cryptoKey, alg, message, signature) {
  const params = VERIFY_PARAMS[alg];
  if (!params) return Promise.resolve(false);
  return crypto.subtle.verify(params, cryptoKey, signature, message);
}
