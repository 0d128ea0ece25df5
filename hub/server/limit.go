package server

import (
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Limits bounds how fast one client, and one shop's admin API, may call the
// hub. A zero rate disables that limit.
type Limits struct {
	// ClientRate and ClientBurst bound requests per second per client
	// address and route.
	ClientRate  float64
	ClientBurst int
	// ShopRate and ShopBurst bound admin requests per second per shop,
	// whoever sends them.
	ShopRate  float64
	ShopBurst int
}

// DefaultLimits allows 50 requests a second per client and route (bursts of
// 100) and 5 admin writes a second per shop (bursts of 20).
func DefaultLimits() Limits {
	return Limits{ClientRate: 50, ClientBurst: 100, ShopRate: 5, ShopBurst: 20}
}

// maxBuckets bounds the limiter's memory; when full, idle buckets go first.
const maxBuckets = 100_000

type bucket struct {
	tokens float64
	last   time.Time
}

// limiter is a set of token buckets.
type limiter struct {
	mu      sync.Mutex
	buckets map[string]*bucket
}

// take spends one token of key's bucket (rate per second, burst size) and
// reports whether there was one, and if not how long until there is.
func (l *limiter) take(key string, rate float64, burst int, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil {
		l.buckets = map[string]*bucket{}
	}
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxBuckets {
			l.evict(now, rate, burst)
		}
		b = &bucket{tokens: float64(burst), last: now}
		l.buckets[key] = b
	}
	b.tokens = math.Min(float64(burst), b.tokens+now.Sub(b.last).Seconds()*rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / rate * float64(time.Second))
	return false, wait
}

// evict drops the buckets that have refilled (they hold no state worth
// keeping), or all of them if none has.
func (l *limiter) evict(now time.Time, rate float64, burst int) {
	full := time.Duration(float64(burst) / rate * float64(time.Second))
	for k, b := range l.buckets {
		if now.Sub(b.last) >= full {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) >= maxBuckets {
		clear(l.buckets)
	}
}

// clientOf is the address a request came from (the direct peer: the hub is
// not meant to sit behind an untrusted proxy that sets forwarding headers).
func clientOf(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// allow applies the limits to r; when it refuses, it has answered 429.
func (h *Hub) allow(w http.ResponseWriter, r *http.Request, route string) bool {
	lim, now := h.deps.Limits, h.deps.Now()
	refuse := func(wait time.Duration) bool {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		httpError(w, http.StatusTooManyRequests, "too many requests; retry later")
		return false
	}
	if lim.ClientRate > 0 {
		if ok, wait := h.limits.take("c\x00"+clientOf(r)+"\x00"+route, lim.ClientRate, max(lim.ClientBurst, 1), now); !ok {
			return refuse(wait)
		}
	}
	if lim.ShopRate > 0 && route == "/v1/admin/..." {
		shop, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/v1/admin/"), "/")
		if ok, wait := h.limits.take("s\x00"+shop, lim.ShopRate, max(lim.ShopBurst, 1), now); !ok {
			return refuse(wait)
		}
	}
	return true
}

func httpError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(`{"error":` + strconv.Quote(msg) + "}\n"))
}
