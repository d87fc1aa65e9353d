//! The warm-up: a throwaway run of the request path when the isolate starts, before any client
//! request. V8 compiles a wasm function on its first call (and optimises it only after many), so
//! without this the first client request of every isolate pays for compiling the whole request
//! path. The warm-up runs on a scratch pipeline (its own token cache and request table, the same
//! settings), answers its own steps (a signature "verified", a 200 from the "origin") and does no
//! I/O: nothing it accepts is ever in the cache a client's token is looked up in.

use super::{Event, Fetched, Pipeline, Request, Step};
use crate::cache::TokenCache;
use crate::clerk::OutageProbe;
use crate::config::Settings;
use crate::http::HeaderList;
use crate::keys::Alg;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// Runs the warm-up requests `rounds` times (the first round takes the cold path, a signature
/// check; later ones the warm path, a cache hit). `each` sees every step, so that the caller can
/// encode it as it would a real one. Returns how many steps ran.
pub fn run(live: &Pipeline, now_ms: i64, rounds: usize, each: &mut dyn FnMut(&Step)) -> usize {
    let Ok(gateway) = &live.gateway else {
        return 0;
    };
    let mut scratch = Pipeline {
        gateway: Ok(std::rc::Rc::clone(gateway)),
        cache: TokenCache::new(16),
        outage: OutageProbe::new(),
        table: super::RequestTable::new(16),
        pickup: crate::jwks::Pickup::default(),
        keys: live.keys.clone(),
        key_generation: live.key_generation,
    };
    let requests = requests(gateway, now_ms);
    let mut steps = 0;
    for _ in 0..rounds {
        for request in &requests {
            steps += drive(&mut scratch, request.clone(), now_ms, each);
        }
    }
    steps
}

/// Runs one request to its end, answering every step itself.
fn drive(p: &mut Pipeline, request: Request, now_ms: i64, each: &mut dyn FnMut(&Step)) -> usize {
    let (id, mut step) = p.start(request, now_ms, [7; 32]);
    // A request waits at most a handful of times (handshake, session, probe, fetch).
    for steps in 1..=8 {
        each(&step);
        let event = match &step {
            Step::Verify(_) => Event::Verified(true),
            Step::Probe { .. } => Event::Probed(crate::clerk::ProbeResult::Status(200)),
            Step::FetchOrigin(_) | Step::FetchAsset { .. } => Event::Fetched {
                fetched: Fetched::Response(200),
                headers: origin_headers(),
            },
            Step::Respond { .. } | Step::Stream { .. } | Step::PassThrough { .. } => return steps,
        };
        step = p.resume(id, event);
    }
    8
}

fn origin_headers() -> HeaderList {
    [
        ("content-type", "text/html; charset=utf-8"),
        ("cache-control", "private, no-store"),
        ("content-length", "1024"),
        ("date", "Mon, 07 Dec 2026 06:00:00 GMT"),
    ]
    .into_iter()
    .collect()
}

/// A signed-in API call (Bearer), the same token as a page load's cookie, and a signed-out
/// request, on the host of the first authorised party.
fn requests(gw: &Settings, now_ms: i64) -> Vec<Request> {
    let party = gw
        .tokens
        .validation
        .authorized_parties
        .first()
        .map_or("https://edgegate.invalid", String::as_str);
    let token = token(gw, party, now_ms);
    let url = format!("{}/warm-up/path?q=1", party.trim_end_matches('/'));
    let host = party.split("://").nth(1).unwrap_or(party);
    let common = [
        ("host", host),
        ("accept-encoding", "gzip, br"),
        ("user-agent", "edgegate-warm-up"),
        ("cf-connecting-ip", "127.0.0.1"),
    ];
    let bearer = format!("Bearer {token}");
    let cookie = format!("__session={token}; __client_uat={}", now_ms / 1000);
    let api = [("accept", "application/json"), ("authorization", &bearer)];
    let page = [
        ("accept", "text/html"),
        ("sec-fetch-mode", "navigate"),
        ("sec-fetch-dest", "document"),
        ("cookie", &cookie),
    ];
    let signed_out = [("accept", "application/json")];
    [&api[..], &page[..], &signed_out[..]]
        .into_iter()
        .map(|extra| Request {
            method: "GET".to_owned(),
            url: url.clone(),
            headers: common.iter().chain(extra).copied().collect(),
        })
        .collect()
}

/// A session token that passes every check but the signature (which the warm-up answers
/// itself), with the algorithm of the first key.
fn token(gw: &Settings, party: &str, now_ms: i64) -> String {
    let tokens = &gw.tokens;
    let alg = tokens.embedded_keys.get(0).map_or(Alg::Rs256, |k| k.alg());
    let now = now_ms / 1000;
    let header = format!("{{\"alg\":\"{}\",\"typ\":\"JWT\"}}", alg.as_str());
    let mut claims = serde_json::json!({
        "sub": "user_warmup", "sid": "sess_warmup", "azp": party,
        "iat": now - 1, "nbf": now - 1, "exp": now + 60, "v": 2,
    });
    if let Some(issuer) = &tokens.validation.issuer {
        claims["iss"] = issuer.as_str().into();
    }
    if let Some(audience) = tokens.validation.audience.as_ref().and_then(|a| a.first()) {
        claims["aud"] = audience.as_str().into();
    }
    let signature = match alg {
        Alg::Rs256 => vec![1u8; 256],
        Alg::Es256 => vec![1u8; 64],
    };
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Pipeline {
        let key = crate::mint::SigningKey::generate(Alg::Es256)
            .and_then(|k| k.public_pem())
            .unwrap_or_default();
        let lookup = |name: &str| match name {
            "CLERK_JWT_KEY" => Some(key.clone()),
            "AUTHORIZED_PARTIES" => Some("https://app.example.com".to_owned()),
            "ORIGIN_URL" => Some("http://127.0.0.1:9".to_owned()),
            _ => None,
        };
        Pipeline::from_settings(&lookup).0
    }

    #[test]
    fn it_takes_the_cold_and_the_warm_path_and_leaves_the_live_pipeline_alone() {
        let live = settings();
        let mut kinds = Vec::new();
        let steps = run(&live, 1_765_000_000_000, 2, &mut |s| {
            kinds.push(match s {
                Step::Verify(_) => "verify",
                Step::FetchOrigin(_) => "fetch",
                Step::Stream { .. } => "stream",
                Step::Respond { .. } => "respond",
                _ => "other",
            })
        });
        assert_eq!(steps, kinds.len());
        // Round one: the Bearer call verifies, then fetches and streams; round two hits the
        // scratch cache.
        assert_eq!(kinds.get(..3), Some(&["verify", "fetch", "stream"][..]));
        assert_eq!(kinds.iter().filter(|k| **k == "verify").count(), 1);
        assert!(kinds.contains(&"respond"));
        assert_eq!(live.cache_stats(), (0, (0, 0)));
        assert_eq!(live.in_flight(), 0);
    }
}
