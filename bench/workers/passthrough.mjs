// Baseline (a): fetches the origin and returns its response, nothing else.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    return fetch(env.ORIGIN_URL + url.pathname + url.search, {
      method: request.method,
      headers: request.headers,
      redirect: "manual",
    });
  },
};
