package main

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestFallback(t *testing.T) {
	ctx := context.Background()
	errKV := errors.New("kv down")
	errHub := errors.New("hub down")
	v := strings.Repeat("ab", 32)
	w := strings.Repeat("cd", 32)
	for _, tc := range []struct {
		name       string
		kv, hub    *memSource
		pointer    string
		fetch      string // bytes fetched for v
		err        []error
		noHubCalls bool
	}{
		{name: "first answers", kv: &memSource{pointer: v, blobs: map[string][]byte{v: []byte("kv")}}, hub: &memSource{pointer: w},
			pointer: v, fetch: "kv", noHubCalls: true},
		{name: "second answers", kv: &memSource{err: errKV}, hub: &memSource{pointer: w, blobs: map[string][]byte{v: []byte("hub")}},
			pointer: w, fetch: "hub"},
		{name: "fetch falls through", kv: &memSource{pointer: v, blobs: map[string][]byte{}}, hub: &memSource{blobs: map[string][]byte{v: []byte("hub")}},
			pointer: v, fetch: "hub"},
		{name: "both fail", kv: &memSource{err: errKV}, hub: &memSource{err: errHub}, err: []error{errKV, errHub}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := fallback{{"kv", tc.kv}, {"hub", tc.hub}}
			p, perr := f.Pointer(ctx)
			b, ferr := f.Fetch(ctx, v)
			if tc.err != nil {
				for _, err := range []error{perr, ferr} {
					for _, want := range tc.err {
						if !errors.Is(err, want) {
							t.Errorf("error %v does not wrap %v", err, want)
						}
					}
					if err == nil || !strings.HasPrefix(err.Error(), "kv: kv down; hub: hub down") {
						t.Errorf("error %q; want both sources named, on one line", err)
					}
				}
				return
			}
			if perr != nil || p != tc.pointer || ferr != nil || string(b) != tc.fetch {
				t.Fatalf("Pointer() = %q, %v; Fetch() = %q, %v; want %q, %q", p, perr, b, ferr, tc.pointer, tc.fetch)
			}
			if tc.noHubCalls && tc.hub.calls != 0 {
				t.Fatalf("hub called %d times although KV answered", tc.hub.calls)
			}
		})
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	kv := &memSource{err: context.Canceled}
	hub := &memSource{pointer: v}
	if _, err := (fallback{{"kv", kv}, {"hub", hub}}).Pointer(cancelled); !errors.Is(err, context.Canceled) || hub.calls != 0 {
		t.Fatalf("with the context cancelled: %v after %d hub calls; want context.Canceled and no further source tried", err, hub.calls)
	}
	if _, err := (fallback{}).Pointer(ctx); err == nil {
		t.Fatal("an empty fallback answered")
	}
}
