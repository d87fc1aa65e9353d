// The session page: asks the gateway who the caller is (/__edgegate/session) and shows it.
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const show = (name) => {
    for (const s of ["loading", "signed-in", "signed-out", "error"]) $("state-" + s).hidden = s !== name;
  };
  const text = (id, value, fallback = "–") => { $(id).textContent = value == null || value === "" ? fallback : String(value); };
  let timer = null;

  // A plain sentence for every reason code /__edgegate/session can give (src/clerk/reason.rs,
  // src/clerk/handshake.rs, src/token/error.rs); tests/e2e/browser.test.mjs checks none is missing.
  const CLOCKS = "the clocks of this gateway and Clerk may disagree.";
  const REASONS = {
    "session-token-and-uat-missing": "You are not signed in: the browser sent no Clerk session cookies.",
    "client-uat-but-no-session-token": "Clerk has you signed in, but the browser sent no session token; it needs a fresh one from Clerk.",
    "session-token-but-no-client-uat": "A session token came without Clerk's signed-in marker cookie, so the session counts as signed out.",
    "session-token-iat-before-client-uat": "The session token is older than your latest sign-in or sign-out, so it is out of date.",
    "session-token-expired": "The session token ran out and has not been refreshed yet.",
    "session-token-nbf": "The session token is not valid yet: " + CLOCKS,
    "session-token-iat-in-the-future": "The session token says it was issued in the future: " + CLOCKS,
    "dev-browser-missing": "This Clerk development instance needs its dev-browser token, which this browser does not have yet.",
    "dev-browser-sync": "The browser is still syncing its Clerk development session.",
    "satellite-needs-syncing": "This site shares its sign-in with a primary domain and is fetching your session from it.",
    "primary-responds-to-syncing": "This primary domain is sending your session back to one of its satellite sites.",
    "primary-domain-cross-origin-sync": "You arrived from one of this site's satellite domains, so your session is being refreshed.",
    "redirect-loop": "Signing in went back and forth between this site and Clerk too many times, so the gateway stopped.",
    "handshake-state-mismatch": "Clerk's sign-in answer did not match a sign-in this browser started, so it was refused.",
    "handshake-token-type-mismatch": "Clerk's sign-in answer was the wrong kind of token.",
    "handshake-token-invalid-signature": "Clerk's sign-in answer was not signed with this instance's key.",
    "handshake-token-invalid": "Clerk's sign-in answer could not be read.",
    "handshake-token-stale": "Clerk's sign-in answer was too old to use.",
    "handshake-token-iat-in-the-future": "Clerk's sign-in answer says it was issued in the future: " + CLOCKS,
    "handshake-token-expired": "Clerk's sign-in answer had expired.",
    "handshake-token-invalid-claims": "Clerk's sign-in answer was missing required fields.",
    "handshake-bad-url": "The gateway could not work out this page's address to finish signing in.",
    "token-missing": "This request carried no session token: no session cookie and no Authorization header.",
    "token-too-large": "The session token is larger than this gateway accepts (MAX_TOKEN_BYTES).",
    "token-invalid": "The session token is malformed and cannot be read.",
    "token-invalid-algorithm": "The session token is signed with an algorithm this gateway has no key for.",
    "token-forbidden-header": "The session token's header asks for processing this gateway refuses.",
    "token-type-mismatch": "This is not the kind of token this page takes: a machine token or JWT template where a person's session is needed.",
    "token-needs-backend-api": "This is an opaque machine token (such as an API key), which only Clerk's Backend API can check; the gateway makes no such call.",
    "token-unknown-kid": "The session token was signed by a key this gateway does not know: is it from another Clerk instance?",
    "token-invalid-signature": "The session token's signature does not match this gateway's keys.",
    "token-expired": "The session token ran out and has not been refreshed yet.",
    "token-not-active-yet": "The session token is not valid yet: " + CLOCKS,
    "token-iat-in-the-future": "The session token says it was issued in the future: " + CLOCKS,
    "token-invalid-authorized-parties": "The session token was issued for another site (its azp is not in AUTHORIZED_PARTIES).",
    "token-invalid-issuer": "The session token comes from an issuer this gateway does not accept (ISSUER).",
    "token-invalid-audience": "The session token is meant for another audience (AUDIENCE).",
    "session-pending": "Your session is pending: finish the remaining sign-in steps, such as choosing an organisation.",
  };

  // FNV-1a over the whole id: the avatar's colour and letters differ per user (every Clerk
  // user id starts "user_2", so its first characters would not).
  function hash(s) {
    let h = 0x811c9dc5;
    for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 0x01000193) >>> 0; }
    return h;
  }
  const LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

  function avatar(s) {
    const id = String(s.user_id || "");
    const h = hash(id);
    const words = String(s.name || "").trim().split(/\s+/).filter(Boolean);
    const local = String(s.email || "").split("@")[0].replace(/[^\p{L}\p{N}]/gu, "");
    let initials = words.length > 1 ? words[0][0] + words[words.length - 1][0]
      : words.length === 1 ? words[0].slice(0, 2) : local.slice(0, 2);
    if (!initials) initials = LETTERS[h % 32] + LETTERS[(h >>> 5) % 32];
    const el = $("avatar");
    el.textContent = initials.toUpperCase();
    el.style.background = `hsl(${h % 360} 55% 32%)`;
  }

  function fmt(seconds) {
    if (seconds < 120) return `${seconds} s`;
    const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    const pad = (n) => String(n).padStart(2, "0");
    return h > 0 ? `${h} h ${pad(m)} min` : `${m} min ${pad(s)} s`;
  }

  // The token lives about a minute and Clerk's frontend replaces it before then: the countdown
  // is the token's refresh, not the session's end (the session is signed in either way).
  function countdown(expiresAt) {
    const el = $("countdown"), fill = $("meter-fill");
    const total = Math.max(1, expiresAt - Date.now() / 1000);
    const tick = () => {
      const left = Math.max(0, Math.round(expiresAt - Date.now() / 1000));
      const due = left === 0;
      $("countdown-label").textContent = due ? "Session token" : "Session token refreshes in";
      el.textContent = due ? "due for refresh" : fmt(left);
      el.classList.toggle("soon", left <= 15);
      fill.style.width = `${Math.min(100, (left / total) * 100)}%`;
      fill.style.background = left <= 15 ? "var(--warn)" : "var(--good)";
      $("refresh-due").hidden = !due;
      if (due && timer) { clearInterval(timer); timer = null; }
    };
    if (timer) clearInterval(timer);
    timer = setInterval(tick, 1000);
    tick();
  }

  function render(s) {
    text("user-id", s.user_id);
    avatar(s);
    const who = [s.name, s.email].filter((v) => typeof v === "string" && v).join(" · ");
    text("session-line", [who, s.org_slug ? `in ${s.org_slug}` : "personal account"].filter(Boolean).join(" · "), "");
    text("session-id", s.session_id);
    text("session-status", s.session_status);
    text("org", s.org_id ? `${s.org_slug || ""} ${s.org_id}`.trim() : null, "none active");
    text("org-role", s.org_role);
    text("fva", Array.isArray(s.factor_verification_age)
      ? `${s.factor_verification_age[0]} min (first) · ${s.factor_verification_age[1] < 0 ? "n/a" : s.factor_verification_age[1] + " min"} (second)`
      : null);
    const actor = s.actor && typeof s.actor === "object" ? s.actor.sub : null;
    text("actor", actor ? `impersonated by ${actor}` : null, "yourself");
    const list = $("permissions");
    list.replaceChildren();
    const perms = Array.isArray(s.org_permissions) ? s.org_permissions : [];
    if (perms.length === 0) {
      const li = document.createElement("li"); li.className = "chip empty"; li.textContent = "none"; list.append(li);
    }
    for (const p of perms) {
      const li = document.createElement("li"); li.className = "chip"; li.textContent = p; list.append(li);
    }
    if (typeof s.expires_at === "number") countdown(s.expires_at); else text("countdown", null);
    show("signed-in");
  }

  function signedOut(body, headers) {
    const reason = typeof body.reason === "string" ? body.reason : null;
    text("signed-out-reason", reason ? REASONS[reason] || "The gateway did not accept this request's session." : null,
      "Sign in to the app, then come back to this page.");
    $("reason-line").hidden = !reason;
    text("reason-code", reason, "");
    // The body's sign_in_url (SIGN_IN_URL, else Clerk's Account Portal); older gateways sent
    // only the header.
    const signIn = body.sign_in_url || headers.get("x-edgegate-sign-in-url");
    const link = $("sign-in");
    if (signIn) link.href = signIn;
    link.hidden = !signIn;
    $("sign-in-missing").hidden = Boolean(signIn);
    show("signed-out");
  }

  async function load() {
    show("loading");
    try {
      const res = await fetch("/__edgegate/session", { credentials: "same-origin", headers: { accept: "application/json" }, cache: "no-store" });
      if (res.status === 401) {
        let body = {};
        try { body = (await res.json()) || {}; } catch { /* body is optional */ }
        signedOut(body, res.headers);
        return;
      }
      if (!res.ok) throw new Error(`status ${res.status}`);
      render(await res.json());
    } catch (e) {
      text("error-detail", `The session endpoint did not answer (${e.message}).`);
      show("error");
    }
  }

  async function copy(button, source) {
    const value = source.textContent;
    let ok = false;
    try { await navigator.clipboard.writeText(value); ok = true; } catch {
      const range = document.createRange(); range.selectNodeContents(source);
      const sel = getSelection(); sel.removeAllRanges(); sel.addRange(range);
      try { ok = document.execCommand("copy"); } catch { /* selected for a manual copy */ }
    }
    button.textContent = ok ? "Copied" : "Press Ctrl+C";
    setTimeout(() => { button.textContent = "Copy"; }, 2000);
  }

  // The example calls this page's own origin: what a person pastes reaches the gateway they are
  // looking at (127.0.0.1:8787 under scripts/dev.sh, their domain once deployed).
  $("curl-origin").textContent = location.origin;
  $("retry").addEventListener("click", load);
  $("copy-curl").addEventListener("click", (e) => copy(e.currentTarget, $("curl")));
  load();
})();
