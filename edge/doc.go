// Package edge is the HTTP handler every Aisle edge runs: natively in tests
// and in `aisle edge serve`, in front of the wazero-hosted ranker in local
// edge regions, and inside the Cloudflare Workers build.
//
// # Interfaces
//
// The handler is written against four small interfaces so that the same code
// runs on every platform:
//
//   - Ranker: a loaded region index (NativeRanker here; the wazero-hosted
//     module in package wasm).
//   - Loader: turns verified snapshot bytes into a Ranker (NativeLoader here).
//   - Source: where snapshots come from: a pointer naming the current version
//     and the immutable, content-addressed bytes of each version (HTTPSource
//     talks to the hub; the Workers build reads Workers KV).
//   - Hub: escalation of chat and review-summary requests (HTTPHub here).
//
// HTTP clients are injected as a Doer, because net/http's client panics
// inside Workers; the clock is injected as a Clock, because Workers has no
// reliable timers and tests use a fake one.
//
// # Routes
//
//	POST /v1/recommend   rank a session against the region index (wire JSON)
//	GET  /v1/health      region, index version, age, counters, last error
//	POST /v1/chat        shopping assistant, forwarded to the hub
//	POST /v1/summarize   review summary of an item, forwarded to the hub
//	GET  /aisle.js       the storefront script (ETag, 304)
//
// Errors are JSON objects {"error": "...", "field": "..."}; unknown routes
// answer 404, wrong methods 405 with an Allow header.
//
// # Index lifecycle
//
// The handler starts no goroutines and no timers of its own: everything
// happens inside request handling, which is what the Workers runtime allows.
// The first /v1/recommend loads an index lazily (concurrent first requests
// wait for that one load, bounded by their own contexts). After that, a
// request that finds RefreshEvery elapsed on the injected clock asks the
// Source for the pointer and, if the version changed, fetches the bytes,
// checks that their hex SHA-256 equals the version (VerifySnapshot), loads
// them and swaps the new Ranker in atomically. Only one refresh runs at a
// time (a try-lock): other requests keep ranking with the current index.
// Any failure keeps the last good index and is shown by /v1/health as
// last_error. A snapshot built before the current one, or for another
// region, is refused: the edge never rolls back. A version that was refused
// for a reason that cannot change (bytes that verify but do not load, an
// older build, another region) is not fetched again until the pointer moves.
// Edge.Refresh forces a check, for scheduled events and admin commands.
//
// /v1/health never loads or refreshes anything: it only reports. It answers
// 200 even before the first load (loaded:false), since the index is loaded
// lazily by the first recommend request.
//
// # Timeouts
//
// Config.HubTimeout and Config.SourceTimeout bound hub calls and refreshes
// with context.WithTimeout, which arms a Go runtime timer. Under Workers,
// Go timers misbehave when requests run concurrently in one Go instance, and
// the platform already bounds each request's wall time and cancels its
// context, so the Workers build sets both to 0: no Go timer. The platform's
// bound is far longer than a visitor waits for chat, so the Worker's hub
// client is a FetchDoer with a Timeout, which aborts the fetch with a
// JavaScript timer (AbortSignal.timeout). Natively, keep them set so a hung
// hub cannot hold a request (or the refresh lock) forever.
//
// # Escalation allow-list
//
// /v1/chat and /v1/summarize accept one JSON object of at most
// MaxEscalationBytes. The edge forwards to the hub a new object built from
// these fields only; everything else the page sends (addresses, e-mail,
// cookies, raw events, anything a future script version adds) is dropped:
//
//	message  string, the visitor's question (chat: required), ≤ MaxMessageBytes
//	history  array of {"role": "user"|"assistant", "text": string}, the last
//	         MaxHistoryTurns turns are kept; other keys of a turn are dropped
//	items    array of item ids the session engaged with, oldest first; the
//	         last MaxEscalationItems are kept (ids only, no times or types)
//	item     string, the item of the page (summarize: required)
//	shop     string, the shop id (tenant)
//
// and the edge adds "region" from its own Config. JSON null means absent; an
// allowed field of the wrong type is a 400 naming the field. If the hub
// fails, answers something that is not a JSON object, or does not answer
// within the timeout, the edge answers 200 with {"degraded": true,
// "answer": "..."} so the page can show a polite message.
//
// # CORS
//
// Browser access is limited to an exact allow-list of origins: an allowed
// Origin is echoed in Access-Control-Allow-Origin (never "*", never with
// credentials); any other origin gets no CORS headers, and its preflight
// gets 403. Every response carries Vary: Origin so that caches keep answers
// for different origins apart. Requests without an Origin header
// (server-to-server) are served normally.
//
// # Logging
//
// Logs (log/slog) carry routes, statuses, versions and error categories,
// never request or response bodies, visitor data or secrets.
package edge
