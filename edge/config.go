package edge

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/aisle-rec/aisle/shared/wire"
)

// Config is an edge's configuration. Start from DefaultConfig, set Region
// and AllowedOrigins, and check it with Validate (New does).
type Config struct {
	// Region is the region this edge serves: snapshots are fetched for it,
	// and a snapshot built for another region is refused. Required; 1 to 64
	// letters, digits, '-', '_' or '.'.
	Region string
	// AllowedOrigins lists the exact origins whose pages may call the edge
	// from a browser, as browsers send them: "https://shop.example" or
	// "http://localhost:8080" (lower case, no path, no trailing slash, no
	// default port). "*" is refused. Empty means no browser page may read
	// the answers; server-to-server calls (no Origin header) always work.
	AllowedOrigins []string
	// RefreshEvery is the least time, on the injected clock, between two
	// checks of the snapshot pointer. Must be positive.
	RefreshEvery time.Duration
	// RetryAfter applies while no index is loaded: it is the least time
	// between two load attempts and the Retry-After of the 503 answer.
	// Must be positive.
	RetryAfter time.Duration
	// HubTimeout bounds one chat or summarize call to the hub; the default,
	// 2.5 s, keeps the visitor's answer, degraded if need be, within 3 s. 0
	// arms no timer and relies on the platform to cancel the request's
	// context (the Workers build sets 0 and bounds the fetch itself; see the
	// package documentation).
	HubTimeout time.Duration
	// SourceTimeout bounds one refresh (pointer, fetch). 0 arms no timer and
	// relies on the platform, as for HubTimeout.
	SourceTimeout time.Duration
	// CollectAfterLoad runs a garbage collection right after a new index
	// is swapped in, so the fetched snapshot bytes and the previous index
	// are freed at once (not after a first index that streamed in: there
	// is nothing to free). Memory-bound platforms (a Workers isolate has
	// 128 MB in all, and Wasm memory never shrinks) set it.
	CollectAfterLoad bool
	// MemoryLimit, when positive, is the Go heap's soft limit
	// (runtime/debug.SetMemoryLimit) that the edge keeps while it serves;
	// the platform sets it at start. While a new index loads beside the one
	// being served both are live, so for the load the edge trims the old
	// one, raises the limit to fit both, at most MaxMemoryLimit, and sets
	// MemoryLimit again once the old index has been collected (see
	// CollectAfterLoad). 0 leaves the limit alone.
	MemoryLimit    int64
	MaxMemoryLimit int64
	// ReportEvery is the least time, on the injected clock, between two
	// traffic reports to the hub (see Report); 0 sends none. Reports are
	// sent from inside requests, so an idle edge sends none either.
	ReportEvery time.Duration
	// MaxBodyBytes caps a /v1/recommend body: 1 to wire.MaxBodyBytes. Larger
	// bodies are refused with 413 before they are read whole.
	MaxBodyBytes int
}

// DefaultConfig returns a configuration with every field but Region and
// AllowedOrigins set: refresh every 30 s, retry a failed first load after
// 5 s, hub calls bounded to 2.5 s, refreshes to 30 s, a traffic report every
// minute, bodies to wire.MaxBodyBytes.
func DefaultConfig() Config {
	return Config{
		RefreshEvery:  30 * time.Second,
		RetryAfter:    5 * time.Second,
		HubTimeout:    2500 * time.Millisecond,
		SourceTimeout: 30 * time.Second,
		ReportEvery:   time.Minute,
		MaxBodyBytes:  wire.MaxBodyBytes,
	}
}

// Validate returns the first problem in c, saying which field and what to do.
func (c Config) Validate() error {
	if err := checkRegion(c.Region); err != nil {
		return fmt.Errorf("edge: config: region: %w", err)
	}
	for i, o := range c.AllowedOrigins {
		if err := checkOrigin(o); err != nil {
			return fmt.Errorf("edge: config: allowed_origins[%d]: %w", i, err)
		}
	}
	switch {
	case c.RefreshEvery <= 0:
		return fmt.Errorf("edge: config: refresh_every %v must be positive", c.RefreshEvery)
	case c.RetryAfter <= 0:
		return fmt.Errorf("edge: config: retry_after %v must be positive", c.RetryAfter)
	case c.HubTimeout < 0:
		return fmt.Errorf("edge: config: hub_timeout %v is negative (0 means no timer)", c.HubTimeout)
	case c.ReportEvery < 0:
		return fmt.Errorf("edge: config: report_every %v is negative (0 sends no reports)", c.ReportEvery)
	case c.SourceTimeout < 0:
		return fmt.Errorf("edge: config: source_timeout %v is negative (0 means no timer)", c.SourceTimeout)
	case c.MaxBodyBytes < 1 || c.MaxBodyBytes > wire.MaxBodyBytes:
		return fmt.Errorf("edge: config: max_body_bytes %d outside 1..%d", c.MaxBodyBytes, wire.MaxBodyBytes)
	}
	return nil
}

// checkRegion accepts a name that is safe as a URL path segment and a KV key.
func checkRegion(r string) error {
	if r == "" {
		return errors.New("missing; set the region this edge serves, e.g. \"eu-west\"")
	}
	if len(r) > 64 {
		return fmt.Errorf("%d bytes, limit 64", len(r))
	}
	if r == "." || r == ".." {
		return fmt.Errorf("%q is not a region name", r)
	}
	for i := 0; i < len(r); i++ {
		c := r[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("%q: use only letters, digits, '-', '_' and '.'", r)
		}
	}
	return nil
}

// checkOrigin accepts an origin in the exact form a browser sends it.
func checkOrigin(o string) error {
	if o == "*" {
		return errors.New(`"*" is not allowed: list the exact origins, e.g. "https://shop.example"`)
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" ||
		u.User != nil || u.Path != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return fmt.Errorf("%q is not an origin: want scheme://host[:port] with no path, e.g. \"https://shop.example\"", o)
	}
	if o != u.Scheme+"://"+u.Host {
		return fmt.Errorf("%q is not an origin: want scheme://host[:port] with no path, e.g. \"https://shop.example\"", o)
	}
	if o != strings.ToLower(o) {
		return fmt.Errorf("%q: write it in lower case, as browsers send it", o)
	}
	if (u.Scheme == "https" && u.Port() == "443") || (u.Scheme == "http" && u.Port() == "80") {
		return fmt.Errorf("%q: drop the default port, browsers omit it", o)
	}
	return nil
}
