// Package fleet keeps what the hub hears from its edges: every edge posts a
// traffic report (requests, recommend answers, errors, fallbacks, degraded
// answers and a histogram of recommend latencies) at most once a minute or
// so of its request time, authenticated with the edge secret. The hub keeps
// the latest reports of each region in memory, bounded (and on disk, see
// Open), and sums them for the dashboard.
//
// The report is the JSON of wire.EdgeReport; this package decodes it on its
// own, strictly (unknown fields, negative counts, a histogram of the wrong
// length or over its count are refused), since it comes from the network.
package fleet

import (
	"bytes"
	"cmp"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aisle-rec/aisle/shared/wire"
)

// LatencyBoundsMicros are the upper bounds of the latency buckets, as the
// edge sends them; a last bucket counts slower answers.
var LatencyBoundsMicros = wire.LatencyBoundsMicros

// Buckets is the length of a timed report's latency histogram.
const Buckets = wire.LatencyBuckets

// Limits of what the hub accepts and keeps.
const (
	// MaxReportBytes caps a report body.
	MaxReportBytes = wire.MaxReportBytes
	// MaxCount caps every count of one report.
	MaxCount = 1 << 40
	// MaxWindow is the longest window one report may cover.
	MaxWindow = 7 * 24 * time.Hour
	// KeepPerRegion is how many of a region's latest reports are kept.
	KeepPerRegion = 120
	// MaxRegions caps the regions kept; reports of further regions are
	// refused.
	MaxRegions = 64
)

// Report is one edge report.
type Report = wire.EdgeReport

// ErrInvalid wraps every reason a report is refused.
var ErrInvalid = errors.New("fleet: invalid report")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Decode reads and checks one report.
func Decode(b []byte) (Report, error) {
	var r Report
	if len(b) > MaxReportBytes {
		return r, invalid("%d bytes, limit %d", len(b), MaxReportBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return Report{}, invalid("not a report object: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Report{}, invalid("trailing data after the object")
	}
	return r, Validate(&r)
}

// Validate reports the first problem with r: the hub's checks of a report
// that came from the network.
func Validate(r *Report) error {
	if err := name(r.Region, 64, false); err != nil {
		return invalid("region: %v", err)
	}
	if err := name(r.Instance, 32, true); err != nil {
		return invalid("instance: %v", err)
	}
	if r.Index != "" && (len(r.Index) != 64 || strings.Trim(r.Index, "0123456789abcdef") != "") {
		return invalid("index: want a 64-digit lower-case hex version or empty")
	}
	if r.From <= 0 || r.To < r.From || time.Duration(r.To-r.From)*time.Millisecond > MaxWindow {
		return invalid("window from %d to %d: want Unix ms, from ≤ to, at most %v apart", r.From, r.To, MaxWindow)
	}
	for _, c := range []struct {
		name string
		n    int64
	}{{"requests", r.Requests}, {"recommends", r.Recommends}, {"errors", r.Errors}, {"fallbacks", r.Fallbacks}, {"degraded", r.Degraded}} {
		if c.n < 0 || c.n > MaxCount {
			return invalid("%s: %d outside 0..%d", c.name, c.n, int64(MaxCount))
		}
	}
	if r.Recommends > r.Requests || r.Errors > r.Requests || r.Fallbacks > r.Recommends {
		return invalid("counts disagree: recommends %d and errors %d must not exceed requests %d, fallbacks %d not recommends", r.Recommends, r.Errors, r.Requests, r.Fallbacks)
	}
	switch {
	case !r.Timed && len(r.Latency) > 0:
		return invalid("latency: sent by an edge that does not time")
	case r.Timed && len(r.Latency) != Buckets:
		return invalid("latency: %d buckets, want %d", len(r.Latency), Buckets)
	}
	var sum int64
	for i, n := range r.Latency {
		if n < 0 || n > MaxCount {
			return invalid("latency[%d]: %d outside 0..%d", i, n, int64(MaxCount))
		}
		sum += n
	}
	if sum > r.Recommends {
		return invalid("latency: %d answers timed, %d recommends", sum, r.Recommends)
	}
	return nil
}

// name accepts 1 to max letters, digits, '-', '_' or '.' (only lower-case
// hex digits when hex).
func name(s string, max int, hex bool) error {
	if s == "" || len(s) > max {
		return fmt.Errorf("want 1 to %d characters, got %d", max, len(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := '0' <= c && c <= '9' || 'a' <= c && c <= 'f'
		if !hex {
			ok = ok || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-' || c == '_' || c == '.'
		}
		if !ok {
			return fmt.Errorf("character %q not allowed", c)
		}
	}
	return nil
}

// received is a report and when the hub got it.
type received struct {
	Report
	at time.Time
}

// Registry keeps the latest reports of each region. It is safe for
// concurrent use.
type Registry struct {
	now func() time.Time
	dir string // where Open keeps the reports; "" keeps them in memory only

	mu       sync.Mutex
	regions  map[string][]received // oldest first, at most KeepPerRegion
	notSaved int64
}

// NewRegistry returns an empty registry reading now (nil: time.Now).
func NewRegistry(now func() time.Time) *Registry {
	if now == nil {
		now = time.Now
	}
	return &Registry{now: now, regions: map[string][]received{}}
}

// ErrFull: a report of a new region when MaxRegions are kept already.
var ErrFull = errors.New("fleet: too many regions")

// Add keeps r, which must be valid.
func (g *Registry) Add(r Report) error {
	if err := Validate(&r); err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	rs, ok := g.regions[r.Region]
	if !ok && len(g.regions) >= MaxRegions {
		return ErrFull
	}
	if len(rs) == KeepPerRegion {
		rs = append(rs[:0], rs[1:]...)
	}
	g.regions[r.Region] = append(rs, received{r, g.now()})
	if g.dir != "" {
		if err := g.save(r.Region); err != nil {
			// Kept in memory; the dashboard is right until a restart.
			g.notSaved++
			return fmt.Errorf("%w: %v", ErrNotSaved, err)
		}
	}
	return nil
}

// NotSaved counts the reports kept in memory whose region's file could not
// be written.
func (g *Registry) NotSaved() int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.notSaved
}

// ErrNotSaved: a report was kept in memory but its region's file could not
// be written.
var ErrNotSaved = errors.New("fleet: report kept but not saved")

// Stats sums a region's kept reports.
type Stats struct {
	Region string
	// Reports and Instances count the reports kept and the edges they came
	// from; Index is the snapshot version of the latest report.
	Reports, Instances int
	Index              string
	// From and To bound the windows summed; Last is when the latest
	// report arrived.
	From, To, Last                                    time.Time
	Requests, Recommends, Errors, Fallbacks, Degraded int64
	// Timed counts the recommends with a latency; Latency sums the
	// histograms (Buckets long).
	Timed   int64
	Latency []int64
}

// FallbackRate is the share of recommend answers that fell back.
func (s Stats) FallbackRate() float64 {
	if s.Recommends == 0 {
		return 0
	}
	return float64(s.Fallbacks) / float64(s.Recommends)
}

// ErrorRate is the share of requests answered with an error.
func (s Stats) ErrorRate() float64 {
	if s.Requests == 0 {
		return 0
	}
	return float64(s.Errors) / float64(s.Requests)
}

// Quantile returns the upper bound, in microseconds, of the bucket that
// holds quantile q of the timed recommends; -1 when none was timed, and
// math.MaxInt64 when it is in the last, open bucket.
func (s Stats) Quantile(q float64) int64 {
	if s.Timed == 0 {
		return -1
	}
	rank := int64(q*float64(s.Timed) + 0.999999)
	rank = max(1, min(rank, s.Timed))
	var seen int64
	for i, n := range s.Latency {
		seen += n
		if seen >= rank {
			if i < len(LatencyBoundsMicros) {
				return LatencyBoundsMicros[i]
			}
			break
		}
	}
	return 1<<63 - 1
}

// Region returns the sums of region's reports, and false when it has none.
func (g *Registry) Region(region string) (Stats, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	rs := g.regions[region]
	if len(rs) == 0 {
		return Stats{}, false
	}
	s := Stats{Region: region, Reports: len(rs), Latency: make([]int64, Buckets)}
	inst := map[string]bool{}
	for i, r := range rs {
		inst[r.Instance] = true
		from, to := time.UnixMilli(r.From), time.UnixMilli(r.To)
		if i == 0 || from.Before(s.From) {
			s.From = from
		}
		if to.After(s.To) {
			s.To = to
		}
		s.Requests += r.Requests
		s.Recommends += r.Recommends
		s.Errors += r.Errors
		s.Fallbacks += r.Fallbacks
		s.Degraded += r.Degraded
		for j, n := range r.Latency {
			s.Latency[j] += n
			s.Timed += n
		}
	}
	s.Instances = len(inst)
	s.Index = rs[len(rs)-1].Index
	s.Last = rs[len(rs)-1].at
	return s, true
}

// Regions lists the regions with reports, sorted.
func (g *Registry) Regions() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]string, 0, len(g.regions))
	for r := range g.regions {
		out = append(out, r)
	}
	slices.SortFunc(out, cmp.Compare)
	return out
}

// Handler serves POST /v1/edge/report: the edge secret as a Bearer token
// (401 without it, 403 with another), a body of at most MaxReportBytes
// (413), a valid report (400 saying what is wrong); 200 when kept.
func Handler(g *Registry, secret string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			answer(w, http.StatusMethodNotAllowed, "use POST")
			return
		}
		scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		switch {
		case !ok || !strings.EqualFold(scheme, "Bearer") || token == "":
			answer(w, http.StatusUnauthorized, "missing edge secret")
			return
		case secret == "" || subtle.ConstantTimeCompare([]byte(token), []byte(secret)) != 1:
			answer(w, http.StatusForbidden, "wrong edge secret")
			return
		}
		if r.ContentLength > MaxReportBytes {
			answer(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("report over %d bytes", MaxReportBytes))
			return
		}
		b, err := io.ReadAll(io.LimitReader(r.Body, MaxReportBytes+1))
		if err != nil {
			answer(w, http.StatusBadRequest, "could not read the body")
			return
		}
		if len(b) > MaxReportBytes {
			answer(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("report over %d bytes", MaxReportBytes))
			return
		}
		rep, err := Decode(b)
		if err != nil {
			answer(w, http.StatusBadRequest, err.Error())
			return
		}
		if err := g.Add(rep); err != nil && !errors.Is(err, ErrNotSaved) {
			answer(w, http.StatusTooManyRequests, err.Error())
			return
		}
		// A report kept but not saved is still taken: the edge must not
		// send it again (Registry.NotSaved counts them).
		answer(w, http.StatusOK, "")
	})
}

// answer writes {"error": msg}, or {"ok": true} when msg is empty.
func answer(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	if msg == "" {
		_, _ = io.WriteString(w, `{"ok":true}`+"\n")
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
