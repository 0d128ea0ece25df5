package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/aisle-rec/aisle/cmd/internal/workerd"
)

func TestBenchUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		in   string
	}{
		{[]string{"bench"}, exitUsage, "aisle bench edge"},
		{[]string{"bench", "nope"}, exitUsage, "aisle bench edge"},
		{[]string{"bench", "-h"}, exitOK, "aisle bench edge"},
		{[]string{"bench", "edge", "-h"}, exitOK, "-requests"},
		{[]string{"bench", "edge", "-items", "5"}, exitUsage, "-items 5"},
		{[]string{"bench", "edge", "-requests", "0"}, exitUsage, "-requests 0"},
		{[]string{"bench", "edge", "-swap-after", "1500ms"}, exitUsage, "-swap-after 1.5s"},
		{[]string{"bench", "edge", "extra"}, exitUsage, `unexpected argument "extra"`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out, errs := runCLI(t, tc.args...)
			if code != tc.code || !strings.Contains(out+errs, tc.in) {
				t.Fatalf("exit %d, want %d with %q; output:\n%s%s", code, tc.code, tc.in, out, errs)
			}
		})
	}
}

// TestBenchEdgeSmoke runs `aisle bench edge` small, without the Beauty
// data, and checks every engine reported figures. It asserts no times.
func TestBenchEdgeSmoke(t *testing.T) {
	needWorkerd(t)
	var out, errb bytes.Buffer
	code := run(t.Context(), []string{"bench", "edge", "-items", "5000", "-requests", "100", "-json", "-swap-after", "4s",
		"-data", t.TempDir(), "-cache", t.TempDir()}, &out, &errb)
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, errb.String())
	}
	var rep benchReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("-json output: %v\n%s", err, out.String())
	}
	if rep.Wasm.RawBytes <= 0 || rep.Wasm.GzipBytes <= 0 || rep.Wasm.GzipBytes >= rep.Wasm.RawBytes {
		t.Errorf("worker wasm sizes %+v", rep.Wasm)
	}
	if len(rep.Snapshots) != 2 {
		t.Fatalf("%d snapshots in the report, want beauty (skipped) and synthetic", len(rep.Snapshots))
	}
	if b := rep.Snapshots[0]; b.Name != "beauty" || !strings.Contains(b.Skipped, "not found") || b.Workerd != nil {
		t.Errorf("beauty without data: %+v; want it skipped, saying the data was not found", b)
	}
	s := rep.Snapshots[1]
	if s.Items != 5000 || s.Bytes <= 0 || s.Requests == nil || s.Requests.EventsMax > benchMaxEvents {
		t.Errorf("synthetic snapshot: %+v", s)
	}
	for name, e := range map[string]*engineReport{"workerd": s.Workerd, "wazero": s.Wazero, "native": s.Native} {
		if e == nil {
			t.Errorf("%s: no figures", name)
			continue
		}
		if e.P50Ms <= 0 || e.P99Ms < e.P50Ms || e.FirstMs <= 0 || e.MeanMs <= 0 || e.Errors != 0 {
			t.Errorf("%s: figures %+v; want positive latencies and first answer, no errors", name, e)
		}
	}
	if w := s.Workerd; w != nil {
		if w.CPUP50Ms <= 0 || w.CPUP99Ms < w.CPUP50Ms || w.CPUMeanMs < 0 || w.PeakRSSBytes <= 0 || w.ListenMs <= 0 || w.GoStartMs < w.ListenMs || w.FirstMs < w.GoStartMs {
			t.Errorf("workerd CPU, memory or cold start figures: %+v", w)
		}
		// The isolate's memory, at load, after the run, after a V8
		// collection and after the swap: the Wasm memory never shrinks.
		ms := []*isolateMemory{w.IsolateLoaded, w.IsolateAfter, w.IsolateCollected, w.IsolateSwapped}
		for i, m := range ms {
			if m == nil || m.Wasm <= 0 || m.JSHeap <= 0 || m.GoLive <= 0 || m.Total != m.Wasm+m.JSHeap+m.BackingStores {
				t.Fatalf("isolate figures %d: %+v", i, m)
			}
			if i > 0 && m.Wasm < ms[i-1].Wasm {
				t.Errorf("isolate figures %d: Wasm memory %d below the earlier %d", i, m.Wasm, ms[i-1].Wasm)
			}
		}
		if w.SwapMs <= 0 {
			t.Errorf("no swap time: %+v", w)
		}
	}
	if r := s.Ratios; r == nil || r.WorkerdNativeP50 <= 0 || r.WazeroNativeP50 <= 0 {
		t.Errorf("ratios %+v", r)
	}
	if s.Identical != rep.Requests {
		t.Errorf("%d of %d answers identical across workerd, wazero and native", s.Identical, rep.Requests)
	}
	if len(rep.Acceptance) == 0 || len(rep.Notes) == 0 {
		t.Errorf("no acceptance lines or notes")
	}
}

// needWorkerd skips a test that builds the Worker and runs it in workerd
// when workerd is not installed or -short is set, and fails it instead when
// CI requires workerd (AISLE_REQUIRE_WORKERD=1).
func needWorkerd(t *testing.T) {
	t.Helper()
	require := os.Getenv("AISLE_REQUIRE_WORKERD") == "1"
	if testing.Short() && !require {
		t.Skip("builds the Worker and starts workerd; skipped in -short mode")
	}
	root, err := workerd.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := workerd.Binary(root); err != nil {
		if require {
			t.Fatal(err.Error() + " (AISLE_REQUIRE_WORKERD=1)")
		}
		t.Skip(err)
	}
}
