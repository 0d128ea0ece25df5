package main

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/aisle-rec/aisle/edge"
	"github.com/aisle-rec/aisle/shared/snapshot"
)

// Names of the Worker's bindings (wrangler.toml [vars], secrets and
// [[kv_namespaces]]).
const (
	envHubURL   = "HUB_URL"
	envSecret   = "EDGE_SECRET"
	envRegion   = "REGION"
	envOrigins  = "ALLOWED_ORIGINS"
	envRefresh  = "REFRESH_SECONDS"
	kvBindingID = "SNAPSHOTS"
)

// maxSnapshotBytes caps one snapshot in the Worker. An isolate has 128 MB,
// and during a swap it holds the old index, the new bytes and the new index
// at once; Workers KV stores at most 25 MiB per value anyway.
const maxSnapshotBytes = 32 << 20

// pointerTimeout bounds one read of the snapshot pointer from the hub. A
// due pointer check runs inside the visitor request that finds it due, so a
// hub that accepts the connection and never answers would otherwise hold
// that request until the platform's own limit (about a minute); with the
// bound the request is answered from the current index a little over 2 s
// later, and the failed check is retried REFRESH_SECONDS later. The pointer
// is a few dozen bytes: a healthy hub answers in milliseconds.
const pointerTimeout = 2 * time.Second

// contentTimeout bounds one fetch of a snapshot's bytes from the hub
// (headers and body). It runs only after the pointer named a new version,
// so a hung hub is caught by pointerTimeout first; it must let a large
// snapshot arrive over a slow link (32 MiB at about 2 MB/s), and it holds
// at most one visitor request per new version (the one doing the refresh)
// when the hub answers the pointer and then stalls.
const contentTimeout = 15 * time.Second

// hubTimeout bounds one chat or summarize call to the hub, so that the
// visitor gets an answer, degraded if need be, within 3 s. The edge arms no
// Go timer for it (Config.HubTimeout is 0 here): the hub's FetchDoer aborts
// the fetch with a JavaScript timer (AbortSignal.timeout).
const hubTimeout = 2500 * time.Millisecond

// memoryLimit is the Go heap's soft limit inside an isolate. The isolate
// has 128 MB in all, for the JavaScript heap, the ArrayBuffers and the Wasm
// memory, which never shrinks. A 100,000-item index keeps about 35 MiB
// live (48 MiB once searches have built its lexical index); with the
// default GOGC the heap would grow to twice that between collections.
// Under the limit the collector runs more often only when the index is
// that large; a lower GOGC instead made every index collect more often and
// put Beauty's CPU p99 over 3 ms.
const memoryLimit = 72 << 20

// swapMemoryLimit is the most the heap's soft limit is raised to while a
// new index loads beside the served one (edge.Config.MaxMemoryLimit): the
// Wasm memory then keeps that high-water mark, and the isolate needs room
// beside it for the JavaScript heap and the fetched bytes.
const swapMemoryLimit = 96 << 20

// maxRefreshSeconds is the largest REFRESH_SECONDS accepted: a day.
const maxRefreshSeconds = 24 * 60 * 60

// settings is the Worker's configuration, read from its bindings.
type settings struct {
	edge   edge.Config
	hubURL string
	secret string
}

// loadSettings reads the configuration through getenv. haveKV says whether
// the SNAPSHOTS KV namespace is bound: without it HUB_URL is required.
// Errors name the binding and say what to set; they never repeat the
// secret.
func loadSettings(getenv func(string) string, haveKV bool) (settings, error) {
	s := settings{
		edge:   edge.DefaultConfig(),
		hubURL: strings.TrimSpace(getenv(envHubURL)),
		secret: getenv(envSecret),
	}
	// The Workers platform bounds every request and cancels it; Go timers
	// misbehave in a long-lived Workers instance (see package edge).
	s.edge.HubTimeout = 0
	s.edge.SourceTimeout = 0
	s.edge.CollectAfterLoad = true
	s.edge.MemoryLimit, s.edge.MaxMemoryLimit = memoryLimit, swapMemoryLimit
	s.edge.Region = strings.TrimSpace(getenv(envRegion))
	if s.edge.Region == "" {
		return s, fmt.Errorf("%s is not set: add it under [vars] in wrangler.toml, e.g. REGION = \"eu-west\"", envRegion)
	}
	for _, o := range strings.Split(getenv(envOrigins), ",") {
		if o = strings.TrimSpace(o); o != "" {
			s.edge.AllowedOrigins = append(s.edge.AllowedOrigins, o)
		}
	}
	if v := strings.TrimSpace(getenv(envRefresh)); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxRefreshSeconds {
			return s, fmt.Errorf("%s=%q: want whole seconds from 1 to %d", envRefresh, v, maxRefreshSeconds)
		}
		s.edge.RefreshEvery = time.Duration(n) * time.Second
		s.edge.RetryAfter = min(s.edge.RetryAfter, s.edge.RefreshEvery)
	}
	if s.hubURL == "" && !haveKV {
		return s, fmt.Errorf("neither %s nor a %s KV namespace is configured: set %s under [vars] in wrangler.toml, or bind %s under [[kv_namespaces]]",
			envHubURL, kvBindingID, envHubURL, kvBindingID)
	}
	if s.hubURL != "" && s.secret == "" {
		return s, fmt.Errorf("%s is set but %s is not: run npx wrangler secret put %s (the hub refuses edges without it)",
			envHubURL, envSecret, envSecret)
	}
	if err := s.edge.Validate(); err != nil {
		return s, fmt.Errorf("%w (from %s, %s, %s)", err, envRegion, envOrigins, envRefresh)
	}
	return s, nil
}

// platform is what the Worker takes from the Workers runtime; tests pass
// native stand-ins.
type platform struct {
	// kv reads the SNAPSHOTS namespace; nil when it is not bound.
	kv edge.Source
	// hub returns the hub's snapshot source and chat client on the
	// platform's HTTP client: edge.NewFetchSource and edge.NewFetchHub in
	// the Worker, which link no net/http client, each with its time bound.
	hub func(base, region, secret string) (edge.Source, *edge.HTTPHub, error)
	// log receives the edge's events.
	log *slog.Logger
}

// newEdge wires the edge: snapshots from KV when it is bound, falling back
// to the hub over HTTP; chat and summaries from the hub.
func newEdge(s settings, p platform) (*edge.Edge, error) {
	var src fallback
	if p.kv != nil {
		src = append(src, namedSource{"kv", p.kv})
	}
	var hub edge.Hub
	if s.hubURL != "" {
		if p.hub == nil {
			return nil, errors.New("worker: no HTTP client for the hub")
		}
		hs, h, err := p.hub(s.hubURL, s.edge.Region, s.secret)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", envHubURL, err)
		}
		src = append(src, namedSource{"hub", hs})
		hub = h
	}
	if len(src) == 0 {
		return nil, errors.New("worker: no snapshot source: set HUB_URL or bind SNAPSHOTS")
	}
	var source edge.Source = src
	if len(src) == 1 {
		source = src[0].Source
	}
	return edge.New(s.edge, edge.Deps{
		Source: source,
		// Inflating and hashing a large snapshot are most of a cold start
		// under Wasm: the runtime's DecompressionStream inflates
		// (inflate_js.go) and its digest hashes (digest_js.go) several
		// times faster than Go (aisle bench edge, 100,000 items: first
		// answer 814 → about 580 ms). A source that can stream (the hub
		// over fetch) is decoded while the bytes arrive, so the fetched
		// copy is never held whole. The inflated bytes come back into Go
		// up to 256 KiB per read through reused buffers, so the isolate's
		// peak at load stays where Go's inflater left it (+96 to +101 MiB
		// measured); an earlier try that inflated a body held whole and
		// read its output in 4 KiB chunks had added about 17 MiB.
		Loader: edge.NativeLoader{Limits: snapshot.Limits{MaxTotalBytes: maxSnapshotBytes}, Inflate: newInflater, NewHasher: newDigest, Collect: true},
		Hub:    hub,
		Clock:  time.Now, // reading the clock is fine under Workers; only timers are not
		Logger: p.log,
	})
}
