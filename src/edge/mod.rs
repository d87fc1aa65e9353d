//! TEMPORARY edge module, written in the `infra` branch only so that the build, `wrangler dev`
//! and the end-to-end pipeline can be exercised before the real edge lands from main.
//!
//! It verifies nothing: it serves `/__edgegate/*` from the ASSETS binding, answers
//! `/__edgegate/health`, and proxies every other request to `ORIGIN_URL` unchanged.
//! The real `src/edge/` replaces this file wholesale.

use serde_json::json;
use wasm_bindgen::JsValue;
use worker::{
    event, Context, Env, Fetch, Headers, Method, Request, RequestInit, RequestRedirect, Response,
    Result, Url,
};

const PREFIX: &str = "/__edgegate";

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let url = req.url()?;
    let path = url.path().to_string();

    if path == "/__edgegate/health" {
        return Response::from_json(&json!({
            "valid": true,
            "version": env!("CARGO_PKG_VERSION"),
            "edge": "temporary",
        }));
    }
    if path == PREFIX {
        let mut to = url.clone();
        to.set_path("/__edgegate/");
        return Response::redirect_with_status(to, 308);
    }
    if let Some(rest) = path.strip_prefix("/__edgegate/") {
        return serve_asset(&req, &env, &url, rest).await;
    }
    proxy(req, &env, &url).await
}

async fn serve_asset(req: &Request, env: &Env, url: &Url, rest: &str) -> Result<Response> {
    if !matches!(req.method(), Method::Get | Method::Head) {
        return Response::error("method not allowed", 405);
    }
    let asset_path = if rest.is_empty() || rest.ends_with('/') {
        format!("/{rest}index.html")
    } else {
        format!("/{rest}")
    };
    let mut asset_url = url.clone();
    asset_url.set_path(&asset_path);
    asset_url.set_query(None);
    env.assets("ASSETS")?
        .fetch(asset_url.to_string(), None)
        .await
}

async fn proxy(req: Request, env: &Env, url: &Url) -> Result<Response> {
    let origin = match env.var("ORIGIN_URL") {
        Ok(v) => v.to_string(),
        Err(_) => return json_error("misconfigured", 500),
    };
    let mut target = match Url::parse(&origin) {
        Ok(u) => u,
        Err(_) => return json_error("misconfigured", 500),
    };
    target.set_path(url.path());
    target.set_query(url.query());

    let headers = Headers::new();
    for (name, value) in req.headers().entries() {
        if name.eq_ignore_ascii_case("host") {
            continue;
        }
        headers.set(&name, &value)?;
    }
    let method = req.method();
    let mut init = RequestInit::new();
    init.with_method(method.clone())
        .with_headers(headers)
        .with_redirect(RequestRedirect::Manual);
    if !matches!(method, Method::Get | Method::Head) {
        init.with_body(req.inner().body().map(JsValue::from));
    }
    let outbound = Request::new_with_init(target.as_str(), &init)?;
    match Fetch::Request(outbound).send().await {
        Ok(resp) => Ok(resp),
        Err(_) => json_error("origin-unreachable", 502),
    }
}

fn json_error(reason: &str, status: u16) -> Result<Response> {
    Ok(Response::from_json(&json!({ "error": reason }))?.with_status(status))
}
