package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aisle-rec/aisle/cmd/internal/workerd"
	"github.com/aisle-rec/aisle/edge"
	"github.com/aisle-rec/aisle/hub/progress"
	"github.com/aisle-rec/aisle/shared/snapshot"
)

// relOptions are the flags of `aisle bench reliability`.
type relOptions struct {
	faults    bool
	only      string
	duration  time.Duration // each fault scenario but hub down
	down      time.Duration // hub down
	faultRate int
	chatEvery time.Duration
	items     int

	soak     time.Duration
	rate     int
	engine   string
	restarts int
	cache    string

	json, quiet bool
}

// relScenarioNames lists the fault scenarios in the order they run.
var relScenarioNames = []string{"baseline", "hub-down", "hub-slow", "hub-garbage", "truncated", "rollback", "kv-missing"}

// runBenchReliability runs `aisle bench reliability`.
func runBenchReliability(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench reliability", "bench reliability [-down D] [-duration D] [-only LIST] [-soak D -rate N] [-json]", stderr)
	var o relOptions
	fs.BoolVar(&o.faults, "faults", true, "run the fault scenarios against the Worker in workerd")
	fs.StringVar(&o.only, "only", "", "comma-separated fault `SCENARIOS` to run (default all: "+strings.Join(relScenarioNames, ",")+")")
	fs.DurationVar(&o.duration, "duration", 20*time.Second, "how long each fault scenario drives the edge (`D`), hub down excepted")
	fs.DurationVar(&o.down, "down", 60*time.Second, "how long the hub stays down in the hub-down scenario (`D`)")
	fs.IntVar(&o.faultRate, "fault-rate", 50, "POST /v1/recommend per second in the fault scenarios (`N`)")
	fs.DurationVar(&o.chatEvery, "chat-every", 500*time.Millisecond, "one POST /v1/chat every `D`")
	fs.IntVar(&o.items, "items", 20000, "items in the synthetic snapshot (`N`; 128 dims, 20 neighbours)")
	fs.DurationVar(&o.soak, "soak", 0, "also run a soak of `D` through an in-process edge, the hub restarting during it (0: no soak)")
	fs.IntVar(&o.rate, "rate", 200, "POST /v1/recommend per second in the soak (`N`)")
	fs.StringVar(&o.engine, "engine", "native", "the soak's edge: native or wazero")
	fs.IntVar(&o.restarts, "restarts", 2, "hub restarts during the soak (`N`)")
	fs.StringVar(&o.cache, "cache", defaultCacheDir(), "`DIR` for the wazero edge's compiled Wasm (-engine wazero)")
	fs.BoolVar(&o.json, "json", false, "print one JSON object instead of the tables")
	fs.BoolVar(&o.quiet, "q", false, "no progress output")
	if err := fs.parse(args); err != nil {
		return err
	}
	var only []string
	if o.only != "" {
		for _, s := range strings.Split(o.only, ",") {
			s = strings.TrimSpace(s)
			if !slices.Contains(relScenarioNames, s) {
				return fs.usageErr("-only: unknown scenario %q; want some of %s", s, strings.Join(relScenarioNames, ","))
			}
			only = append(only, s)
		}
	}
	switch {
	case fs.NArg() > 0:
		return fs.usageErr("unexpected argument %q", fs.Arg(0))
	case o.duration < time.Second || o.duration > 24*time.Hour:
		return fs.usageErr("-duration %v: want 1s to 24h", o.duration)
	case o.down < time.Second || o.down > 24*time.Hour:
		return fs.usageErr("-down %v: want 1s to 24h", o.down)
	case o.faultRate < 1 || o.faultRate > 5000:
		return fs.usageErr("-fault-rate %d: want 1 to 5000", o.faultRate)
	case o.chatEvery < 10*time.Millisecond:
		return fs.usageErr("-chat-every %v: want at least 10ms", o.chatEvery)
	case o.items < 100 || o.items > 1_000_000:
		return fs.usageErr("-items %d: want 100 to 1,000,000", o.items)
	case o.soak < 0 || (o.soak > 0 && o.soak < 3*time.Second) || o.soak > 7*24*time.Hour:
		return fs.usageErr("-soak %v: want 0 (none) or 3s to 168h", o.soak)
	case o.rate < 1 || o.rate > 20000:
		return fs.usageErr("-rate %d: want 1 to 20000", o.rate)
	case o.engine != "native" && o.engine != "wazero":
		return fs.usageErr("-engine %q: want native or wazero", o.engine)
	case o.restarts < 0 || o.restarts > 100:
		return fs.usageErr("-restarts %d: want 0 to 100", o.restarts)
	case !o.faults && o.soak == 0:
		return fs.usageErr("nothing to run: -faults=false and no -soak")
	}
	var bars io.Writer = stderr
	if o.quiet {
		bars = nil
	}
	rep, err := benchReliability(ctx, o, only, bars)
	if err != nil {
		return err
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else if err := rep.writeTables(stdout); err != nil {
		return err
	}
	if failed := rep.failed(); len(failed) > 0 {
		return fmt.Errorf("%d target(s) missed: %s", len(failed), strings.Join(failed, "; "))
	}
	return nil
}

// relReport is what `aisle bench reliability` measured; -json prints it.
type relReport struct {
	Host      string        `json:"host"`
	Race      bool          `json:"race_detector"`
	Items     int           `json:"items"`
	Scenarios []*relFault   `json:"scenarios,omitempty"`
	Soak      *soakReport   `json:"soak,omitempty"`
	Targets   []string      `json:"targets"`
	Notes     []string      `json:"notes"`
	Elapsed   time.Duration `json:"elapsed_ns"`
}

// relCheck is one target judged.
type relCheck struct {
	What string `json:"what"`
	OK   bool   `json:"ok"`
	Got  string `json:"got,omitempty"`
}

// relFault is one fault scenario against the Worker in workerd.
type relFault struct {
	Name      string  `json:"name"`
	Fault     string  `json:"fault"`
	DurationS float64 `json:"duration_s"`

	Recommend struct {
		Sent       int     `json:"sent"`
		OK         int     `json:"ok"`
		SuccessPct float64 `json:"success_pct"`
		P50Ms      float64 `json:"p50_ms"`
		P99Ms      float64 `json:"p99_ms"`
		MaxMs      float64 `json:"max_ms"`
		// StalePct: answers given while the edge's /v1/health reported a
		// failed refresh, i.e. from the last good index kept.
		StalePct float64 `json:"stale_pct"`
		// PopularPct: answers the ranker gave from popularity alone.
		PopularPct float64 `json:"popular_pct"`
		WrongIndex int     `json:"wrong_index"`
		FirstError string  `json:"first_error,omitempty"`
	} `json:"recommend"`
	Chat struct {
		Sent          int     `json:"sent"`
		OK            int     `json:"ok"`
		DegradedPct   float64 `json:"degraded_pct"`
		MaxMs         float64 `json:"max_ms"`
		DegradedMaxMs float64 `json:"degraded_max_ms"`
		FirstError    string  `json:"first_error,omitempty"`
	} `json:"chat"`

	// The edge's health at the end of the fault.
	GoodIndex  string     `json:"good_index"`
	IndexEnd   string     `json:"index_end"`
	AgeEndS    int64      `json:"age_end_s"`
	LastError  string     `json:"last_error,omitempty"`
	HubChats   int64      `json:"hub_chats"`
	RecoveredS float64    `json:"recovered_s"` // after the fault ended; -1: not within the wait
	Checks     []relCheck `json:"checks"`
	// WorkerdLog is the end of workerd's output when a check failed.
	WorkerdLog string `json:"workerd_log,omitempty"`
}

// relSnapshots are the snapshot versions the scenarios offer.
type relSnapshots struct {
	bench *benchSnapshot
	good  string // what the edge loads first and must keep
	// newer is a later build, whose bytes are truncated; older an earlier
	// build, a rollback.
	newer, older         string
	newerBytes, oldBytes []byte
}

// relTargets are the targets every fault scenario is judged against.
var relTargets = []string{
	"recommend success 100 %",
	"every answer from the last good snapshot: the bad one never served",
	"the last good snapshot kept at the end",
	"chat answered within 3 s, degraded when the hub cannot answer",
	"the fault seen by the edge (/v1/health last_error), and cleared once it ends",
}

var relNotes = []string{
	"faults: the Worker (cmd/worker, GOOS=js GOARCH=wasm) in workerd, a fresh process per scenario, REFRESH_SECONDS=1; the hub is publish.Handler plus echoing chat routes on loopback, switched between behaviours; KV is a local stand-in for workerd's KV binding.",
	"each scenario loads the good snapshot, injects the fault, drives POST /v1/recommend open loop at the fault rate (realistic sessions: walks over the co-visitation graph, 80 % for_you, 8 % similar, 6 % search, 6 % trending) and POST /v1/chat, reads /v1/health, then ends the fault and waits for last_error to clear.",
	"latency: client-side on loopback, including requests that ran a refresh against the failing hub.",
	"stale: answers given while /v1/health (polled every 200 ms) reported a failed refresh, i.e. from the last good snapshot kept; popular: answers from popularity alone (the ranker's fallback).",
	"soak: an in-process edge on loopback (edge.New with the native or wazero ranker, as aisle edge serve wires it but with a 2 s refresh and a traffic report to the hub every 5 s), open loop; heap in use after a GC and goroutines of the whole process (edge, hub and client) at 5 %, 50 % and the end of the run.",
}

func benchReliability(ctx context.Context, o relOptions, only []string, bars io.Writer) (*relReport, error) {
	began := time.Now()
	rep := &relReport{Host: fmt.Sprintf("%s/%s, %d CPUs, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version()),
		Race: raceEnabled, Items: o.items, Targets: relTargets, Notes: relNotes}
	status := func(format string, a ...any) {
		if bars != nil {
			fmt.Fprintf(bars, format+"\n", a...)
		}
	}
	tmp, err := os.MkdirTemp("", "aisle-reliability-")
	if err != nil {
		return nil, fmt.Errorf("temporary directory: %w", err)
	}
	defer os.RemoveAll(tmp)

	status("building the snapshots (%d items)", o.items)
	snaps, err := relBuildSnapshots(o.items, max(2000, o.rate*10))
	if err != nil {
		return nil, err
	}
	if o.faults {
		if rep.Scenarios, err = runFaults(ctx, o, only, snaps, tmp, bars, status); err != nil {
			return nil, err
		}
	}
	if o.soak > 0 {
		if rep.Soak, err = runSoak(ctx, o, snaps, filepath.Join(tmp, "soak"), bars, status); err != nil {
			return nil, fmt.Errorf("soak: %w", err)
		}
	}
	rep.Elapsed = time.Since(began)
	return rep, nil
}

// relBuildSnapshots builds the good snapshot and its newer and older
// builds (same items, built an hour later and earlier).
func relBuildSnapshots(items, reqs int) (*relSnapshots, error) {
	bs, err := syntheticSnapshot("synthetic", items, reqs)
	if err != nil {
		return nil, err
	}
	s := &relSnapshots{bench: bs, good: bs.snap.Version}
	built, version := bs.snap.Built, bs.snap.Version
	defer func() { bs.snap.Built, bs.snap.Version = built, version }()
	for _, x := range []struct {
		delta int64
		v     *string
		b     *[]byte
	}{{3600_000, &s.newer, &s.newerBytes}, {-3600_000, &s.older, &s.oldBytes}} {
		bs.snap.Built = built + x.delta
		b, err := snapshot.Encode(bs.snap, snapshot.EncodeOptions{Compress: true})
		if err != nil {
			return nil, fmt.Errorf("encode: %w", err)
		}
		*x.v, *x.b = bs.snap.Version, b
	}
	return s, nil
}

// faultEnv is what the fault scenarios share.
type faultEnv struct {
	hub   *faultHub
	kv    *fakeKV
	snaps *relSnapshots
	bin   string
	build string
}

// relScenario is one fault: how to start it and end it.
type relScenario struct {
	name, fault string
	kv          bool
	// hubFails: the hub cannot answer chat during the fault.
	hubFails bool
	// seen is a substring /v1/health's last_error shows during the fault.
	seen   string
	inject func(f *faultEnv)
	end    func(f *faultEnv) error
}

func relScenarios(s *relSnapshots) []relScenario {
	normal := func(f *faultEnv) error { f.hub.set(hubNormal); return f.hub.start() }
	return []relScenario{
		{name: "baseline", fault: "none", inject: func(*faultEnv) {}, end: normal},
		{name: "hub-down", fault: "hub refuses connections", hubFails: true, seen: "pointer",
			inject: func(f *faultEnv) { f.hub.stop() }, end: normal},
		{name: "hub-slow", fault: fmt.Sprintf("every hub answer %v late", slowDelay), hubFails: true, seen: "",
			inject: func(f *faultEnv) { f.hub.set(hubSlow) }, end: normal},
		{name: "hub-garbage", fault: "hub answers 200 with HTML, random bytes, bad JSON", hubFails: true, seen: "edge: ",
			inject: func(f *faultEnv) { f.hub.garble(f.snaps.newer) }, end: normal},
		{name: "truncated", fault: "a newer snapshot published truncated", seen: short(hexSHA(s.newerBytes[:len(s.newerBytes)/2])),
			inject: func(f *faultEnv) {
				half := f.snaps.newerBytes[:len(f.snaps.newerBytes)/2]
				f.hub.pointAt(hexSHA(half), half)
			}, end: normal},
		{name: "rollback", fault: "an older snapshot offered", seen: "roll back",
			inject: func(f *faultEnv) { f.hub.pointAt(f.snaps.older, f.snaps.oldBytes) }, end: normal},
		{name: "kv-missing", fault: "KV pointer names a missing content key", kv: true, seen: short(s.newer),
			inject: func(f *faultEnv) { f.kv.point(benchRegion, f.snaps.newer) },
			end:    func(f *faultEnv) error { f.kv.point(benchRegion, f.snaps.good); return nil }},
	}
}

// runFaults builds the Worker, starts the hub and runs each scenario.
func runFaults(ctx context.Context, o relOptions, only []string, snaps *relSnapshots, tmp string, bars io.Writer, status func(string, ...any)) ([]*relFault, error) {
	root, err := workerd.Root(".")
	if err != nil {
		return nil, fmt.Errorf("the fault scenarios build cmd/worker, so run them inside the Aisle repository: %w", err)
	}
	bin, err := workerd.Binary(root)
	if err != nil {
		return nil, err
	}
	status("building the Worker (cmd/worker/build.sh)")
	build := filepath.Join(tmp, "worker")
	if err := workerd.Build(ctx, root, build); err != nil {
		return nil, err
	}
	hub, err := startFaultHub(filepath.Join(tmp, "hub"))
	if err != nil {
		return nil, err
	}
	defer hub.stop()
	if _, err := hub.store.Publish(benchRegion, snaps.bench.bytes); err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	kv, err := startFakeKV()
	if err != nil {
		return nil, err
	}
	defer kv.close()
	f := &faultEnv{hub: hub, kv: kv, snaps: snaps, bin: bin, build: build}

	var out []*relFault
	for _, sc := range relScenarios(snaps) {
		if len(only) > 0 && !slices.Contains(only, sc.name) {
			continue
		}
		d := o.duration
		if sc.name == "hub-down" {
			d = o.down
		}
		r, err := runFault(ctx, o, f, sc, d, bars)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sc.name, err)
		}
		out = append(out, r)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	return out, nil
}

// runFault runs one scenario in a fresh workerd.
func runFault(ctx context.Context, o relOptions, f *faultEnv, sc relScenario, d time.Duration, bars io.Writer) (*relFault, error) {
	if err := f.hub.start(); err != nil {
		return nil, err
	}
	f.hub.set(hubNormal)
	f.kv.publish(benchRegion, f.snaps.good, f.snaps.bench.bytes)
	cfg := workerd.DefaultConfig()
	cfg.Binary, cfg.Build = f.bin, f.build
	cfg.Vars = map[string]string{
		"HUB_URL":         f.hub.url,
		"EDGE_SECRET":     f.hub.secret,
		"REGION":          benchRegion,
		"REFRESH_SECONDS": "1",
	}
	if sc.kv {
		cfg.KV = f.kv.url
	}
	p, err := workerd.Start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer p.Stop()
	fail := func(err error) (*relFault, error) {
		if out := strings.TrimSpace(p.Output()); out != "" {
			err = fmt.Errorf("%w\nworkerd output:\n%s", err, tail(out, 4000))
		}
		return nil, err
	}
	reqs := f.snaps.bench.reqs
	if _, err := firstAnswer(ctx, p.URL, reqs[0]); err != nil {
		return fail(err)
	}
	if h, err := getHealth(ctx, p.URL); err != nil {
		return fail(err)
	} else if h.Index != f.snaps.good {
		return fail(fmt.Errorf("before the fault the Worker serves %q; want the good snapshot %s", short(h.Index), short(f.snaps.good)))
	}

	r := &relFault{Name: sc.name, Fault: sc.fault, DurationS: d.Seconds(), GoodIndex: f.snaps.good}
	chatsBefore := f.hub.chats.Load()
	sc.inject(f)
	hw := watchHealth(ctx, p.URL, 200*time.Millisecond)
	l := &load{url: p.URL, reqs: reqs, rate: o.faultRate, chatEvery: o.chatEvery, inFlight: 256, health: hw,
		good: func(v string) bool { return v == f.snaps.good }}
	bar := progress.New(bars, fmt.Sprintf("%-12s", sc.name), int(d.Seconds()*float64(o.faultRate)))
	res := l.run(ctx, d, bar)
	bar.Done()
	hw.close()
	h, err := getHealth(ctx, p.URL)
	if err != nil {
		return fail(fmt.Errorf("health at the end of the fault: %w", err))
	}
	r.HubChats = f.hub.chats.Load() - chatsBefore
	if err := sc.end(f); err != nil {
		return nil, err
	}
	r.RecoveredS = waitRecovered(ctx, p.URL, reqs[0], 20*time.Second)

	fillFault(r, res, h)
	judgeFault(r, sc, res)
	for _, c := range r.Checks {
		if !c.OK {
			r.WorkerdLog = tail(strings.TrimSpace(p.Output()), 3000)
			break
		}
	}
	return r, nil
}

// waitRecovered sends requests until /v1/health shows no last_error, for up to
// limit, and returns how long that took in seconds (-1 if it did not).
func waitRecovered(ctx context.Context, url string, body []byte, limit time.Duration) float64 {
	start := time.Now()
	for time.Since(start) < limit && ctx.Err() == nil {
		_, _, _ = relPost(ctx, url+"/v1/recommend", body) // runs a due refresh
		if h, err := getHealth(ctx, url); err == nil && h.LastError == nil && h.Loaded {
			return time.Since(start).Seconds()
		}
		_ = waitCtx(ctx, 100*time.Millisecond)
	}
	return -1
}

func fillFault(r *relFault, res *loadResult, h edge.Health) {
	rc := &r.Recommend
	rc.Sent, rc.OK, rc.WrongIndex, rc.FirstError = res.Sent, res.OK, res.WrongIndex, res.FirstError
	rc.SuccessPct = pct(res.OK, res.Sent)
	rc.P50Ms, rc.P99Ms, rc.MaxMs, _ = quantiles(res.Lat)
	rc.StalePct, rc.PopularPct = pct(res.Stale, res.OK), pct(res.Popular, res.OK)
	if res.FirstWrong != "" && rc.FirstError == "" {
		rc.FirstError = "answered from snapshot " + short(res.FirstWrong)
	}
	c := &r.Chat
	c.Sent, c.OK, c.FirstError = res.Chats, res.ChatOK, res.FirstChatErr
	c.DegradedPct = pct(res.ChatDegraded, res.ChatOK)
	c.MaxMs, c.DegradedMaxMs = ms(res.ChatMax), ms(res.DegradedMax)
	r.IndexEnd, r.AgeEndS = h.Index, h.AgeSeconds
	if h.LastError != nil {
		r.LastError = *h.LastError
	}
}

// judgeFault checks r against the targets.
func judgeFault(r *relFault, sc relScenario, res *loadResult) {
	add := func(what string, ok bool, got string) {
		r.Checks = append(r.Checks, relCheck{What: what, OK: ok, Got: got})
	}
	rc, c := r.Recommend, r.Chat
	add("recommend success 100 %", rc.Sent > 0 && rc.OK == rc.Sent, fmt.Sprintf("%d/%d", rc.OK, rc.Sent))
	add("bad snapshot never served", rc.WrongIndex == 0, fmt.Sprintf("%d answers from another snapshot", rc.WrongIndex))
	add("last good snapshot kept", r.IndexEnd == r.GoodIndex, "serving "+short(r.IndexEnd))
	chatOK := c.Sent > 0 && c.OK == c.Sent && c.MaxMs <= ms(chatBound) && res.ChatUndecided == 0
	switch {
	case sc.hubFails:
		chatOK = chatOK && res.ChatDegraded == c.OK
	default:
		chatOK = chatOK && res.ChatDegraded == 0
	}
	add("chat within 3 s, degraded only when the hub fails", chatOK,
		fmt.Sprintf("%d/%d answered, %d degraded, max %.0f ms", c.OK, c.Sent, res.ChatDegraded, c.MaxMs))
	switch {
	case sc.name == "baseline":
		add("no refresh error", r.LastError == "", r.LastError)
	case sc.seen == "":
		// A slow hub answers in the end: refreshes succeed, late; only the
		// chat timeout shows it.
		add("fault seen by the edge", res.ChatDegraded > 0, fmt.Sprintf("%d degraded chats", res.ChatDegraded))
	default:
		add("fault seen by the edge", r.LastError != "" && strings.Contains(r.LastError, sc.seen), tail(r.LastError, 160))
	}
	add("recovers once the fault ends", r.RecoveredS >= 0, fmt.Sprintf("%.1f s", r.RecoveredS))
}

// failed lists the checks missed, by scenario.
func (rep *relReport) failed() []string {
	var out []string
	for _, s := range rep.Scenarios {
		for _, c := range s.Checks {
			if !c.OK {
				out = append(out, s.Name+": "+c.What+" ("+c.Got+")")
			}
		}
	}
	if rep.Soak != nil {
		for _, c := range rep.Soak.Checks {
			if !c.OK {
				out = append(out, "soak: "+c.What+" ("+c.Got+")")
			}
		}
	}
	return out
}

// writeTables prints the report as aligned text.
func (rep *relReport) writeTables(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "aisle bench reliability: host %s, race detector %s, synthetic snapshot of %d items\n", rep.Host, onOff(rep.Race), rep.Items)
	if len(rep.Scenarios) > 0 {
		b.WriteString("\nfaults, the Worker in workerd and the hub on loopback:\n\n")
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "scenario\tfault\ttime\trecommend ok\tp50\tp99\tmax\tstale\tpopular\tindex at end (age)\tchat degraded\tchat max\trecovered\tverdict\t")
		for _, s := range rep.Scenarios {
			verdict := "pass"
			for _, c := range s.Checks {
				if !c.OK {
					verdict = "FAIL"
				}
			}
			kept := "kept"
			if s.IndexEnd != s.GoodIndex {
				kept = "CHANGED"
			}
			rec := "-"
			if s.RecoveredS >= 0 {
				rec = fmt.Sprintf("%.1f s", s.RecoveredS)
			}
			fmt.Fprintf(tw, "%s\t%s\t%.0f s\t%d/%d %s\t%s\t%s\t%s\t%.1f %%\t%.1f %%\t%.12s %s (%s)\t%d/%d (%.0f %%)\t%s\t%s\t%s\t\n",
				s.Name, s.Fault, s.DurationS, s.Recommend.OK, s.Recommend.Sent, pctStr(s.Recommend.SuccessPct),
				msStr(s.Recommend.P50Ms), msStr(s.Recommend.P99Ms), msStr(s.Recommend.MaxMs), s.Recommend.StalePct, s.Recommend.PopularPct,
				s.IndexEnd, kept, ageStr(s.AgeEndS), int(s.Chat.DegradedPct*float64(s.Chat.OK)/100+0.5), s.Chat.Sent, s.Chat.DegradedPct,
				msStr(s.Chat.MaxMs), rec, verdict)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		b.WriteString("\n")
		for _, s := range rep.Scenarios {
			fmt.Fprintf(&b, "%s:", s.Name)
			if s.LastError != "" {
				fmt.Fprintf(&b, " last_error at the end: %s", tail(s.LastError, 200))
			}
			fmt.Fprintf(&b, "\n")
			for _, c := range s.Checks {
				mark := "ok  "
				if !c.OK {
					mark = "FAIL"
				}
				fmt.Fprintf(&b, "  %s %s: %s\n", mark, c.What, c.Got)
			}
			if s.Recommend.FirstError != "" {
				fmt.Fprintf(&b, "  first recommend error: %s\n", s.Recommend.FirstError)
			}
			if s.Chat.FirstError != "" {
				fmt.Fprintf(&b, "  first chat error: %s\n", s.Chat.FirstError)
			}
			if s.WorkerdLog != "" {
				fmt.Fprintf(&b, "  workerd output:\n    %s\n", strings.ReplaceAll(s.WorkerdLog, "\n", "\n    "))
			}
		}
	}
	if rep.Soak != nil {
		rep.Soak.write(&b)
	}
	b.WriteString("\ntargets:\n")
	for _, t := range rep.Targets {
		fmt.Fprintf(&b, "  - %s\n", t)
	}
	b.WriteString("\nnotes:\n")
	for _, n := range rep.Notes {
		fmt.Fprintf(&b, "  - %s\n", n)
	}
	fmt.Fprintf(&b, "\nelapsed %s\n", rep.Elapsed.Round(time.Second))
	_, err := io.WriteString(w, b.String())
	return err
}

// hexSHA is the hex SHA-256 of b: a snapshot's version.
func hexSHA(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// short abbreviates a snapshot version.
func short(v string) string {
	if len(v) > 12 {
		return v[:12]
	}
	return v
}

func pct(n, of int) float64 {
	if of <= 0 {
		return 0
	}
	return 100 * float64(n) / float64(of)
}

func pctStr(p float64) string {
	if p == 100 {
		return "(100 %)"
	}
	return fmt.Sprintf("(%.2f %%)", p)
}

// ageStr renders an index age given in seconds.
func ageStr(s int64) string {
	switch {
	case s < 120:
		return fmt.Sprintf("%d s", s)
	case s < 2*3600:
		return fmt.Sprintf("%d min", s/60)
	case s < 2*86400:
		return fmt.Sprintf("%d h", s/3600)
	default:
		return fmt.Sprintf("%d d", s/86400)
	}
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
