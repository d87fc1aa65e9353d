// The worker's JavaScript entry (worker-build's CUSTOM_SHIM): instantiates the wasm once per
// isolate and hands each request to the Rust `fetch` export. It replaces worker-build's default
// entry, which constructs a `WorkerEntrypoint` subclass wrapped in Proxies for every request:
// about half of edgegate's CPU overhead over a pass-through worker (README, Performance).
// Nothing here decides anything.
//
// Recovery: a Rust panic aborts the wasm instance (panic = "abort"), leaving its memory in an
// unknown state. The worker crate's panic hook marks `globalThis.__worker_init_state`; a trap
// that skips the hook is caught here. The next request then runs on a fresh instance: the glue's
// reinit path (wasm-bindgen) builds one from the same module, drops its cached memory views and
// ignores callbacks from the old instance.
import * as imports from "./index_bg.js";
import wasmModule from "./index.wasm";
$SNIPPET_JS_IMPORTS

// The wasm-bindgen glue's reinit path names these as free variables.
globalThis.wasmModule = wasmModule;
globalThis.__wbg_get_imports = () => ({
  "./index_bg.js": imports,
  $SNIPPET_WASM_IMPORTS
});
globalThis.wasmInstance = new WebAssembly.Instance(wasmModule, globalThis.__wbg_get_imports());
imports.__wbg_set_wasm(globalThis.wasmInstance.exports);
globalThis.wasmInstance.exports.__wbindgen_start?.();

const scheduleReinit = Object.keys(imports)
  .filter((name) => name.startsWith("__wbg___wbindgen_reinit_"))
  .map((name) => imports[name])[0];

function initState() {
  return globalThis.__worker_init_state ?? {};
}

function noteTrap(error) {
  if (error instanceof WebAssembly.RuntimeError) {
    console.error(JSON.stringify({ level: "error", event: "wasm-trap", message: String(error.message) }));
    initState().criticalError = true;
  }
}

addEventListener("error", (event) => noteTrap(event.error));

export default {
  fetch(request, env, ctx) {
    const state = initState();
    if (state.criticalError && scheduleReinit) {
      console.error(JSON.stringify({ level: "error", event: "wasm-reinit" }));
      state.criticalError = false;
      scheduleReinit();
    }
    try {
      return imports.fetch(request, env, ctx).catch((error) => {
        noteTrap(error);
        throw error;
      });
    } catch (error) {
      noteTrap(error);
      throw error;
    }
  },
};
