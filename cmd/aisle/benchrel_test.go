package main

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestBenchReliabilityUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		in   string
	}{
		{[]string{"bench", "reliability", "-h"}, exitOK, "-soak"},
		{[]string{"bench", "reliability", "-only", "nope"}, exitUsage, `unknown scenario "nope"`},
		{[]string{"bench", "reliability", "-soak", "1s"}, exitUsage, "-soak 1s"},
		{[]string{"bench", "reliability", "-engine", "v8"}, exitUsage, `-engine "v8"`},
		{[]string{"bench", "reliability", "-faults=false"}, exitUsage, "nothing to run"},
		{[]string{"bench", "reliability", "extra"}, exitUsage, `unexpected argument "extra"`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out, errs := runCLI(t, tc.args...)
			if code != tc.code || !strings.Contains(out+errs, tc.in) {
				t.Fatalf("exit %d, want %d with %q; output:\n%s%s", code, tc.code, tc.in, out, errs)
			}
		})
	}
}

// TestBenchReliability runs `aisle bench reliability` short: every fault
// scenario for a few seconds against the Worker in workerd, and a short
// soak with two hub restarts. It asserts what the edge must do under each
// fault, never how fast anything is, except the 3 s bound on chat answers,
// which is the edge's contract (its hub timeout is 2.5 s).
func TestBenchReliability(t *testing.T) {
	needWorkerd(t)
	var out, errb bytes.Buffer
	code := run(t.Context(), []string{"bench", "reliability", "-duration", "2s", "-down", "3s",
		"-fault-rate", "40", "-chat-every", "400ms", "-items", "3000",
		"-soak", "6s", "-rate", "100", "-restarts", "2", "-json", "-q"}, &out, &errb)
	var rep relReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("exit %d, -json output: %v\n%s\n%s", code, err, out.String(), errb.String())
	}
	if code != exitOK {
		t.Errorf("exit %d: %s", code, errb.String())
	}
	var names []string
	for _, s := range rep.Scenarios {
		names = append(names, s.Name)
		r, c := s.Recommend, s.Chat
		if r.Sent == 0 || r.OK != r.Sent {
			t.Errorf("%s: %d of %d recommends answered; want all (first error: %s)", s.Name, r.OK, r.Sent, r.FirstError)
		}
		if r.WrongIndex != 0 || s.IndexEnd != s.GoodIndex {
			t.Errorf("%s: %d answers from another snapshot, serving %.12s at the end; want only the good %.12s", s.Name, r.WrongIndex, s.IndexEnd, s.GoodIndex)
		}
		if c.Sent == 0 || c.OK != c.Sent {
			t.Errorf("%s: %d of %d chats answered (first error: %s)", s.Name, c.OK, c.Sent, c.FirstError)
		}
		if c.DegradedMaxMs > ms(chatBound) || c.MaxMs > ms(chatBound) {
			t.Errorf("%s: a chat took %.0f ms (degraded %.0f ms); the edge must answer within %v", s.Name, c.MaxMs, c.DegradedMaxMs, chatBound)
		}
		hubFails := s.Name == "hub-down" || s.Name == "hub-slow" || s.Name == "hub-garbage"
		if hubFails && c.DegradedPct != 100 {
			t.Errorf("%s: %.0f %% of chats degraded; want all, the hub cannot answer", s.Name, c.DegradedPct)
		}
		if !hubFails && c.DegradedPct != 0 {
			t.Errorf("%s: %.0f %% of chats degraded; want none, the hub answers chat", s.Name, c.DegradedPct)
		}
		if s.RecoveredS < 0 {
			t.Errorf("%s: last_error not cleared after the fault ended (%s)", s.Name, s.LastError)
		}
		for _, ck := range s.Checks {
			if !ck.OK {
				t.Errorf("%s: %s: %s", s.Name, ck.What, ck.Got)
			}
		}
	}
	if !slices.Equal(names, relScenarioNames) {
		t.Errorf("scenarios run: %v; want %v", names, relScenarioNames)
	}
	k := rep.Soak
	if k == nil {
		t.Fatal("no soak in the report")
	}
	if k.Requests == 0 || k.Errors != 0 {
		t.Errorf("soak: %d errors in %d requests (first: %s)", k.Errors, k.Requests, k.FirstError)
	}
	if len(k.Versions) != 3 || k.IndexEnd != k.Versions[2] {
		t.Errorf("soak: published %d versions, serving %.12s at the end; want 3, the last served", len(k.Versions), k.IndexEnd)
	}
	if len(k.Samples) != 3 || k.Race != raceEnabled {
		t.Errorf("soak: %d samples, race %v; want 3 samples, race %v", len(k.Samples), k.Race, raceEnabled)
	}
	for _, ck := range k.Checks {
		if !ck.OK {
			t.Errorf("soak: %s: %s", ck.What, ck.Got)
		}
	}
	if t.Failed() {
		t.Logf("report:\n%s", out.String())
	}
}
