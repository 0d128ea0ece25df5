// Entry module of the Aisle Worker: keeps ONE Go instance per isolate.
//
// syumai/workers' stock worker.mjs starts a new Go program for every
// request, so nothing survives between requests and the region index would
// be fetched and decoded on every call. Here the Go program (app.wasm, see
// cmd/worker and edge/workers_js.go) is started once, on the first request
// an isolate receives, and serves every later request from the same memory:
//
//   1. start(): instantiate the precompiled module with the Go runtime's
//      imports plus "workers.ready", run the program, and wait until it has
//      registered context.binding.serve and called workers.Ready(); the
//      program then blocks forever in Go (select {}).
//   2. fetch(): read the body with arrayBuffer() (bounded) and hand the
//      request to Go through the byte bridge (bridge.mjs: one long-lived
//      buffer, calls that carry numbers only, so no per-request JavaScript
//      object stays reachable from Go), then turn the {status, headers,
//      body} Go answers with into a Response.
//   3. If the program exits (os.Exit, a fatal error, a runtime panic) or a
//      call into it throws (a trap), the instance is dropped: requests in
//      flight on it fail with 503 and the next request starts a fresh one.
//
// Concurrent requests share the instance: Go schedules their goroutines
// between JavaScript events. The Go side arms no timers (the runtime may
// not deliver them once the request that armed them has ended).

import "./wasm_exec.js";
import wasmModule from "./app.wasm";
import { forget, newBinding, request } from "./bridge.mjs";

// MAX_BODY mirrors edge.WorkersMaxBodyBytes: a longer request body reaches
// Go cut to MAX_BODY+1 bytes, and the edge answers 413.
const MAX_BODY = 1 << 20;

// ANSWER_TIMEOUT_MS bounds the wait for one Go answer. The pending timer
// also tells workerd that the request is still waiting on something: a
// request whose goroutine waits on another request's work (concurrent first
// requests wait for the one index load) has no I/O of its own in flight,
// and workerd would otherwise cancel it as hung.
const ANSWER_TIMEOUT_MS = 30_000;

// Statuses whose Response must have a null body.
const NULL_BODY = new Set([101, 204, 205, 304]);

let current = null; // the live instance, see start()

// start runs a fresh Go program and returns its instance record:
//   binding  where the Go side registers serve()
//   ready    settles when the Go side is ready, or rejects if it dies first
//   alive    false once the program has exited or thrown
//   waiters  reject functions of the calls in flight, failed on death
//
// Every promise a request waits on is created in that request's own
// context: workerd cancels continuations of a promise settled after the
// request that created it has finished, and warns about it.
function start(env, ctx) {
  const go = new Go();
  const binding = newBinding();
  // syumai/workers' Go packages read env (bindings) and binding from here.
  globalThis.context = { env, ctx, binding };
  const inst = { binding, alive: true, waiters: new Set(), error: null };
  inst.kill = (err) => {
    if (!inst.alive) return;
    inst.alive = false;
    inst.error = err;
    if (current === inst) current = null;
    for (const reject of inst.waiters) reject(err);
    inst.waiters.clear();
  };
  go.exit = (code) => inst.kill(new Error(`Go program exited with code ${code}`));
  // go.run()'s promise settles when the program exits; go.exit reports
  // that already, and settling a promise of a long-finished request only
  // makes workerd warn. (_resolveExitPromise and _resume are wasm_exec.js
  // internals; without them this degrades to warnings, not failures.)
  go._resolveExitPromise = () => {};
  // A trap inside Go (while resuming it for an event) leaves it unusable;
  // _resume is wasm_exec.js's single entry point back into Go.
  if (typeof go._resume === "function") {
    const resume = go._resume.bind(go);
    go._resume = () => {
      try {
        resume();
      } catch (err) {
        inst.kill(err);
        throw err;
      }
    };
  }
  inst.ready = new Promise((resolve, reject) => {
    inst.waiters.add(reject);
    try {
      const instance = new WebAssembly.Instance(wasmModule, {
        ...go.importObject,
        workers: {
          ready: () => {
            inst.waiters.delete(reject);
            resolve();
          },
        },
      });
      // Runs main until it blocks, which is after workers.Ready().
      go.run(instance).catch((err) => inst.kill(err));
    } catch (err) {
      inst.kill(err);
    }
  });
  inst.ready.catch(() => {}); // awaited by instance(); this only silences the unobserved case
  return inst;
}

// instance returns the live instance, starting one if there is none.
// Concurrent first requests wait for the same start.
async function instance(env, ctx) {
  if (current === null) {
    current = start(env, ctx);
  }
  const inst = current;
  await inst.ready;
  return inst;
}

// TimeoutError: the Go program is alive but did not answer in time.
class TimeoutError extends Error {}

// serve hands the request to the Go handler and resolves with its
// {status, headers, body}; it rejects if the program dies (or is dead)
// before answering, and with a TimeoutError after ANSWER_TIMEOUT_MS.
function serve(inst, method, url, headers, body) {
  return new Promise((resolve, reject) => {
    if (!inst.alive) {
      reject(inst.error);
      return;
    }
    let timer;
    let id = 0;
    const fail = (err) => {
      clearTimeout(timer);
      inst.waiters.delete(fail);
      forget(inst.binding, id);
      reject(err);
    };
    inst.waiters.add(fail);
    timer = setTimeout(() => fail(new TimeoutError(`no answer within ${ANSWER_TIMEOUT_MS} ms`)), ANSWER_TIMEOUT_MS);
    try {
      id = request(inst.binding, method, url, headers, body, (err, status, out) => {
        if (err) {
          fail(err);
          return;
        }
        clearTimeout(timer);
        inst.waiters.delete(fail);
        resolve({ status, headers: out.headers, body: out.body });
      });
    } catch (err) {
      fail(err);
    }
  });
}

// readBody returns the request body as a Uint8Array of at most MAX_BODY+1
// bytes, or null when there is none.
async function readBody(request) {
  if (request.body === null) return null;
  const declared = Number(request.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > 0 && declared <= MAX_BODY) {
    return new Uint8Array(await request.arrayBuffer());
  }
  const reader = request.body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size > MAX_BODY) {
      await reader.cancel();
      break;
    }
  }
  const body = new Uint8Array(Math.min(size, MAX_BODY + 1));
  let at = 0;
  for (const c of chunks) {
    const n = Math.min(c.byteLength, body.byteLength - at);
    body.set(c.subarray(0, n), at);
    at += n;
    if (at === body.byteLength) break;
  }
  return body;
}

function unavailable(message) {
  return new Response(JSON.stringify({ error: message }) + "\n", {
    status: 503,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "cache-control": "no-store",
      "retry-after": "1",
    },
  });
}

async function fetch(request, env, ctx) {
  let inst;
  try {
    inst = await instance(env, ctx);
  } catch (err) {
    console.error("aisle: the Go program failed to start:", String(err));
    return unavailable("edge starting failed; retry shortly");
  }
  const headers = [];
  for (const [name, value] of request.headers) headers.push(name, value);
  const body = await readBody(request);
  const answer = serve(inst, request.method, request.url, headers, body);
  // If the client goes away, the platform cancels the request and every
  // promise it started: a refresh it was running for all requests would
  // never finish. waitUntil keeps the request's context until Go answers.
  ctx?.waitUntil?.(answer.catch(() => {}));
  let out;
  try {
    out = await answer;
  } catch (err) {
    if (err instanceof TimeoutError) {
      console.error("aisle: the Go program did not answer in time:", err.message);
      return unavailable("edge busy; retry shortly");
    }
    inst.kill(err instanceof Error ? err : new Error(String(err)));
    console.error("aisle: the Go program failed; it restarts on the next request:", String(err));
    return unavailable("edge restarting; retry shortly");
  }
  const h = new Headers();
  for (let i = 0; i + 1 < out.headers.length; i += 2) h.append(out.headers[i], out.headers[i + 1]);
  return new Response(NULL_BODY.has(out.status) ? null : out.body, { status: out.status, headers: h });
}

export default { fetch };
