// Command worker is the Aisle edge as a Cloudflare Worker: the edge handler
// (package edge) compiled to WebAssembly with GOOS=js GOARCH=wasm and run by
// entry.mjs, which keeps one Go instance per isolate so that the loaded
// region index survives between requests.
//
// Build it (wrangler.toml's [build] command does the same):
//
//	sh cmd/worker/build.sh            # build/app.wasm, build/wasm_exec.js, build/entry.mjs, build/bridge.mjs
//	npx wrangler deploy --dry-run --outdir /tmp/aisle-worker
//
// Configuration comes from the Worker's bindings:
//
//	HUB_URL          the hub, e.g. https://hub.example (snapshots, chat, summaries)
//	EDGE_SECRET      the edge's shared secret with the hub (a Worker secret)
//	REGION           the region this Worker serves, e.g. eu-west
//	ALLOWED_ORIGINS  storefront origins, comma-separated
//	REFRESH_SECONDS  least seconds between snapshot pointer checks (default 30)
//	SNAPSHOTS        optional KV namespace: snapshot:{region}:pointer names the
//	                 version, snapshot:{region}:{version} holds its bytes; the
//	                 hub over HTTP is the fallback when KV has nothing
//
// Built for any other platform, the command only explains how to build it.
// The tests in this directory build the real Worker, run it in workerd and
// compare its answers with the native ranking core.
package main
