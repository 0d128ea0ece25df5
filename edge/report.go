package edge

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"math"
	"net/http"
	"sync/atomic"
	"time"
)

// Reporter sends an edge's report (a JSON Report) to the hub. HTTPHub is
// one: POST {hub}/v1/edge/report with the edge secret.
type Reporter interface {
	Report(ctx context.Context, body []byte) error
}

// LatencyBoundsMicros are the upper bounds, in microseconds, of the
// recommend latency histogram's buckets; a last bucket counts everything
// slower. Edge and hub must agree on them.
var LatencyBoundsMicros = [...]int64{50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000}

// LatencyBuckets is the length of Report.Latency.
const LatencyBuckets = len(LatencyBoundsMicros) + 1

// MaxReportBytes caps an encoded Report; the hub refuses a larger one.
const MaxReportBytes = 4 << 10

// Report is what an edge tells the hub about one window of its traffic:
// counts since the last report the hub accepted (a report that fails to
// arrive is folded into the next one, so nothing is lost or counted
// twice) and a histogram of recommend latencies.
type Report struct {
	// Region is the region the edge serves.
	Region string `json:"region"`
	// Instance tells apart the edges of one region: random per process
	// (per isolate under Workers), 16 hex digits.
	Instance string `json:"instance"`
	// Index is the snapshot version being served, "" before the first load.
	Index string `json:"index"`
	// From and To bound the window, Unix ms by the edge's clock.
	From int64 `json:"from"`
	To   int64 `json:"to"`
	// Requests counts requests on every route; Recommends answered
	// recommend requests; Errors answers of 4xx and 5xx; Fallbacks
	// recommend answers that fell back to popularity; Degraded chat and
	// summarize answers given without the hub.
	Requests   int64 `json:"requests"`
	Recommends int64 `json:"recommends"`
	Errors     int64 `json:"errors"`
	Fallbacks  int64 `json:"fallbacks"`
	Degraded   int64 `json:"degraded"`
	// Timed says whether Latency was measured: the Workers runtime does
	// not advance the clock during computation, so Workers edges send
	// false and no latencies.
	Timed bool `json:"timed"`
	// Latency counts answered recommends by time spent in the handler
	// (reading the body to writing the answer), per LatencyBoundsMicros
	// bucket plus one for slower ones; empty when not Timed.
	Latency []int64 `json:"latency,omitempty"`
}

// counters are the cumulative figures a report is the difference of.
type counters struct {
	requests, recommends, errors, fallbacks, degraded int64
	latency                                           [LatencyBuckets]int64
}

// reporting is the edge's report state.
type reporting struct {
	to       Reporter
	run      func(func())
	latency  [LatencyBuckets]atomic.Int64
	next     atomic.Int64  // Unix ns when the next report is due; MinInt64 before the first request
	lock     chan struct{} // one report in flight
	sent     counters      // guarded by lock: what the hub has accepted
	from     int64         // guarded by lock: start of the unsent window, Unix ms
	instance string        // guarded by lock
}

// runInline runs a report's send inside the request that found it due, as
// the pointer check does: the handler starts no goroutines (Workers does
// work only during requests). One request per Config.ReportEvery pays one
// hub round trip; native edges pass Deps.Background to send beside it.
func runInline(f func()) { f() }

func newReporting(to Reporter, run func(func())) *reporting {
	if run == nil {
		run = runInline
	}
	r := &reporting{to: to, run: run, lock: make(chan struct{}, 1)}
	r.next.Store(math.MinInt64)
	return r
}

// observe records one answered recommend that took d.
func (e *Edge) observe(d time.Duration) {
	if e.rep == nil {
		return
	}
	us := d.Microseconds()
	b := len(LatencyBoundsMicros)
	for i, bound := range LatencyBoundsMicros {
		if us <= bound {
			b = i
			break
		}
	}
	e.rep.latency[b].Add(1)
}

func (e *Edge) counters() counters {
	c := counters{
		requests:   e.requests.Load(),
		recommends: e.ranked.Load(),
		errors:     e.errors.Load(),
		fallbacks:  e.fallbacks.Load(),
		degraded:   e.degraded.Load(),
	}
	if e.rep != nil {
		for i := range c.latency {
			c.latency[i] = e.rep.latency[i].Load()
		}
	}
	return c
}

// maybeReport sends a report when one is due: at most once per
// Config.ReportEvery of the edge's clock, and only from inside a request
// (there are no timers), so an idle edge sends nothing. The send runs
// through Deps.Background; only one is in flight at a time.
func (e *Edge) maybeReport(now time.Time) {
	r := e.rep
	if r == nil {
		return
	}
	ns := now.UnixNano()
	next := r.next.Load()
	if next == math.MinInt64 {
		// The first request opens the first window.
		if r.next.CompareAndSwap(next, now.Add(e.cfg.ReportEvery).UnixNano()) {
			select {
			case r.lock <- struct{}{}:
				r.from = now.UnixMilli()
				<-r.lock
			default:
			}
		}
		return
	}
	if ns < next {
		return
	}
	select {
	case r.lock <- struct{}{}:
	default:
		return // a report is in flight
	}
	r.next.Store(now.Add(e.cfg.ReportEvery).UnixNano())
	body, cur := e.report(now)
	r.run(func() {
		defer func() { <-r.lock }()
		ctx := context.Background()
		if e.cfg.HubTimeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, e.cfg.HubTimeout)
			defer cancel()
		}
		if err := r.to.Report(ctx, body); err != nil {
			e.log.Warn("edge: report to the hub failed; its figures go with the next one", "region", e.cfg.Region, "err", err)
			return
		}
		r.sent, r.from = cur, now.UnixMilli()
	})
}

// report encodes the unsent window up to now. It must hold the report lock.
func (e *Edge) report(now time.Time) ([]byte, counters) {
	r := e.rep
	if r.instance == "" {
		var b [8]byte
		_, _ = rand.Read(b[:]) // never fails (crypto/rand)
		r.instance = hex.EncodeToString(b[:])
	}
	cur := e.counters()
	rep := Report{
		Region:     e.cfg.Region,
		Instance:   r.instance,
		From:       r.from,
		To:         now.UnixMilli(),
		Requests:   cur.requests - r.sent.requests,
		Recommends: cur.recommends - r.sent.recommends,
		Errors:     cur.errors - r.sent.errors,
		Fallbacks:  cur.fallbacks - r.sent.fallbacks,
		Degraded:   cur.degraded - r.sent.degraded,
		Timed:      clockAdvances,
	}
	if rep.From == 0 || rep.From > rep.To {
		rep.From = rep.To
	}
	if cur := e.cur.Load(); cur != nil {
		rep.Index = cur.r.Version()
	}
	if rep.Timed {
		rep.Latency = make([]int64, LatencyBuckets)
		for i := range rep.Latency {
			rep.Latency[i] = cur.latency[i] - r.sent.latency[i]
		}
	}
	b, _ := json.Marshal(rep) // plain fields: cannot fail
	return b, cur
}

// Report posts an edge report to the hub.
func (h *HTTPHub) Report(ctx context.Context, body []byte) error {
	_, err := send(ctx, h.doer, http.MethodPost, h.base.JoinPath("v1", "edge", "report"), h.secret, "application/json", body, 4<<10)
	return err
}
