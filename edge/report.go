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

	"github.com/aisle-rec/aisle/shared/wire"
)

// Reporter sends an edge's report (a JSON Report) to the hub. HTTPHub is
// one: POST {hub}/v1/edge/report with the edge secret.
type Reporter interface {
	Report(ctx context.Context, body []byte) error
}

// The report's contract is shared with the hub (see wire.EdgeReport).
var LatencyBoundsMicros = wire.LatencyBoundsMicros

// LatencyBuckets is the length of Report.Latency.
const LatencyBuckets = wire.LatencyBuckets

// MaxReportBytes caps an encoded Report; the hub refuses a larger one.
const MaxReportBytes = wire.MaxReportBytes

// Report is what an edge tells the hub about one window of its traffic.
type Report = wire.EdgeReport

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
