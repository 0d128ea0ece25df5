package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aisle-rec/aisle/edge"
	"github.com/aisle-rec/aisle/hub/publish"
	"github.com/aisle-rec/aisle/shared/snapshot"
)

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestLoadSettings(t *testing.T) {
	base := []string{"HUB_URL", "https://hub.example", "EDGE_SECRET", "s3cret", "REGION", "eu-west"}
	with := func(kv ...string) []string { return append(append([]string(nil), base...), kv...) }
	for _, tc := range []struct {
		name   string
		env    []string
		haveKV bool
		check  func(t *testing.T, s settings)
		err    string // substring of the error; "" means success
	}{
		{name: "minimal", env: base, check: func(t *testing.T, s settings) {
			d := edge.DefaultConfig()
			if s.edge.Region != "eu-west" || s.hubURL != "https://hub.example" || s.secret != "s3cret" ||
				s.edge.RefreshEvery != d.RefreshEvery || len(s.edge.AllowedOrigins) != 0 {
				t.Fatalf("%+v", s)
			}
			if s.edge.HubTimeout != 0 || s.edge.SourceTimeout != 0 {
				t.Fatalf("timeouts %v, %v; the Workers build must arm no Go timers", s.edge.HubTimeout, s.edge.SourceTimeout)
			}
		}},
		{name: "origins and refresh", env: with("ALLOWED_ORIGINS", " https://a.example ,http://localhost:8080,, ", "REFRESH_SECONDS", "2"),
			check: func(t *testing.T, s settings) {
				if strings.Join(s.edge.AllowedOrigins, "|") != "https://a.example|http://localhost:8080" {
					t.Fatalf("origins %q", s.edge.AllowedOrigins)
				}
				if s.edge.RefreshEvery != 2*time.Second || s.edge.RetryAfter != 2*time.Second {
					t.Fatalf("refresh %v, retry %v; want 2s, 2s", s.edge.RefreshEvery, s.edge.RetryAfter)
				}
			}},
		{name: "kv only", env: []string{"REGION", "us-east"}, haveKV: true},
		{name: "no region", env: []string{"HUB_URL", "https://hub.example", "EDGE_SECRET", "x"}, err: "REGION is not set"},
		{name: "bad region", env: with("REGION", "eu west"), err: "region"},
		{name: "no source", env: []string{"REGION", "eu-west"}, err: "neither HUB_URL nor a SNAPSHOTS"},
		{name: "no secret", env: []string{"HUB_URL", "https://hub.example", "REGION", "eu-west"}, err: "EDGE_SECRET"},
		{name: "refresh zero", env: with("REFRESH_SECONDS", "0"), err: "REFRESH_SECONDS"},
		{name: "refresh text", env: with("REFRESH_SECONDS", "soon"), err: "REFRESH_SECONDS"},
		{name: "refresh too long", env: with("REFRESH_SECONDS", "86401"), err: "REFRESH_SECONDS"},
		{name: "star origin", env: with("ALLOWED_ORIGINS", "*"), err: "allowed_origins[0]"},
		{name: "origin with path", env: with("ALLOWED_ORIGINS", "https://a.example/shop"), err: "not an origin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := loadSettings(env(tc.env...), tc.haveKV)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v; want one containing %q", err, tc.err)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Fatalf("error repeats the secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.check != nil {
				tc.check(t, s)
			}
		})
	}
}

// memSource is a Source from memory.
type memSource struct {
	pointer string
	blobs   map[string][]byte
	err     error
	calls   int
}

func (m *memSource) Pointer(context.Context) (string, error) {
	m.calls++
	if m.err != nil {
		return "", m.err
	}
	return m.pointer, nil
}

func (m *memSource) Fetch(_ context.Context, v string) ([]byte, error) {
	m.calls++
	if m.err != nil {
		return nil, m.err
	}
	b, ok := m.blobs[v]
	if !ok {
		return nil, errors.New("no such version")
	}
	return b, nil
}

// nativeHub is platform.hub natively: the HTTP source and hub client on
// net/http's client.
func nativeHub(base, region, secret string) (edge.Source, *edge.HTTPHub, error) {
	src, err := edge.NewHTTPSource(base, region, secret, http.DefaultClient)
	if err != nil {
		return nil, nil, err
	}
	hub, err := edge.NewHTTPHub(base, secret, http.DefaultClient)
	return src, hub, err
}

// TestNewEdge wires the edge as the Worker does, with native stand-ins for
// KV and fetch, and checks which source serves the index.
func TestNewEdge(t *testing.T) {
	s := snapshot.Synthetic(100, 8, 4, 3, 5)
	hubSnap, err := snapshot.Encode(s, snapshot.EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s2 := snapshot.Synthetic(100, 8, 4, 3, 6)
	s2.Built += 1000
	kvSnap, err := snapshot.Encode(s2, snapshot.EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	store, err := publish.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Publish("eu-west", hubSnap); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(publish.Handler(store, "s3cret"))
	defer srv.Close()

	settings, err := loadSettings(env("HUB_URL", srv.URL, "EDGE_SECRET", "s3cret", "REGION", "eu-west"), true)
	if err != nil {
		t.Fatal(err)
	}
	health := func(e *edge.Edge) edge.Health {
		t.Helper()
		if err := e.Refresh(context.Background()); err != nil {
			t.Fatalf("refresh: %v", err)
		}
		return e.Health()
	}

	t.Run("kv first", func(t *testing.T) {
		kv := &memSource{pointer: s2.Version, blobs: map[string][]byte{s2.Version: kvSnap}}
		e, err := newEdge(settings, platform{kv: kv, hub: nativeHub})
		if err != nil {
			t.Fatal(err)
		}
		if h := health(e); h.Index != s2.Version {
			t.Fatalf("serving %s; want KV's %s", h.Index, s2.Version)
		}
	})
	t.Run("hub when kv fails", func(t *testing.T) {
		kv := &memSource{err: errors.New("kv down")}
		e, err := newEdge(settings, platform{kv: kv, hub: nativeHub})
		if err != nil {
			t.Fatal(err)
		}
		if h := health(e); h.Index != s.Version || kv.calls == 0 {
			t.Fatalf("serving %s after %d KV calls; want the hub's %s after trying KV", h.Index, kv.calls, s.Version)
		}
	})
	t.Run("hub only", func(t *testing.T) {
		e, err := newEdge(settings, platform{hub: nativeHub})
		if err != nil {
			t.Fatal(err)
		}
		if h := health(e); h.Index != s.Version {
			t.Fatalf("serving %s; want the hub's %s", h.Index, s.Version)
		}
	})
	t.Run("both fail", func(t *testing.T) {
		bad := settings
		bad.secret = "wrong"
		e, err := newEdge(bad, platform{kv: &memSource{err: errors.New("kv down")}, hub: nativeHub})
		if err != nil {
			t.Fatal(err)
		}
		err = e.Refresh(context.Background())
		if err == nil || !strings.Contains(err.Error(), "kv: kv down; hub: ") || strings.Contains(err.Error(), "\n") {
			t.Fatalf("refresh error %v; want both sources' errors on one line", err)
		}
		h, _ := json.Marshal(e.Health())
		if strings.Contains(string(h), "wrong") {
			t.Fatalf("health shows the secret: %s", h)
		}
	})
	t.Run("no client", func(t *testing.T) {
		if _, err := newEdge(settings, platform{}); err == nil {
			t.Fatal("newEdge without a hub client succeeded")
		}
	})
}
