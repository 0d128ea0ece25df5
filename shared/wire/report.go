package wire

// EdgeReport is what an edge tells the hub about one window of its traffic
// (POST /v1/edge/report): counts since the last report the hub accepted (a
// report that fails to arrive is folded into the next one, so nothing is
// lost or counted twice) and a histogram of recommend latencies.
type EdgeReport struct {
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

// LatencyBoundsMicros are the upper bounds, in microseconds, of the
// recommend latency histogram's buckets; a last bucket counts everything
// slower.
var LatencyBoundsMicros = [...]int64{50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000}

// LatencyBuckets is the length of EdgeReport.Latency.
const LatencyBuckets = len(LatencyBoundsMicros) + 1

// MaxReportBytes caps an encoded EdgeReport; the hub refuses a larger one.
const MaxReportBytes = 4 << 10
