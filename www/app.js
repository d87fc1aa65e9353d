// The session page: asks the gateway who the caller is (/__edgegate/session) and shows it.
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const show = (name) => {
    for (const s of ["loading", "signed-in", "signed-out", "error"]) $("state-" + s).hidden = s !== name;
  };
  const text = (id, value, fallback = "–") => { $(id).textContent = value == null || value === "" ? fallback : String(value); };
  let timer = null;

  function fmt(seconds) {
    if (seconds <= 0) return "expired";
    const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    const pad = (n) => String(n).padStart(2, "0");
    return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
  }

  function countdown(expiresAt) {
    const el = $("countdown"), fill = $("meter-fill");
    const start = Date.now() / 1000;
    const total = Math.max(1, expiresAt - start);
    const tick = () => {
      const left = Math.max(0, Math.round(expiresAt - Date.now() / 1000));
      el.textContent = fmt(left);
      el.classList.toggle("soon", left > 0 && left <= 15);
      el.classList.toggle("gone", left === 0);
      fill.style.width = `${Math.min(100, (left / total) * 100)}%`;
      fill.style.background = left === 0 ? "var(--bad)" : left <= 15 ? "var(--warn)" : "var(--good)";
      $("expired-note").hidden = left !== 0;
      if (left === 0 && timer) { clearInterval(timer); timer = null; }
    };
    tick();
    if (timer) clearInterval(timer);
    timer = setInterval(tick, 1000);
  }

  function render(s) {
    text("user-id", s.user_id);
    $("avatar").textContent = (s.user_id || "?").replace(/^user_/, "").charAt(0).toUpperCase() || "?";
    text("session-line", s.org_slug ? `in ${s.org_slug}` : "personal account", "");
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

  async function load() {
    show("loading");
    try {
      const res = await fetch("/__edgegate/session", { credentials: "same-origin", headers: { accept: "application/json" }, cache: "no-store" });
      if (res.status === 401) {
        let reason = null;
        try { reason = (await res.json()).reason; } catch { /* body is optional */ }
        const signIn = res.headers.get("x-edgegate-sign-in-url");
        if (signIn) $("sign-in").href = signIn;
        text("signed-out-reason", reason ? `Reason: ${reason}. Sign in to the app, then come back.` : null,
          "Sign in to the app, then come back to this page.");
        show("signed-out");
        return;
      }
      if (!res.ok) throw new Error(`status ${res.status}`);
      render(await res.json());
    } catch (e) {
      text("error-detail", `The session endpoint did not answer (${e.message}).`);
      show("error");
    }
  }

  $("retry").addEventListener("click", load);
  load();
})();
