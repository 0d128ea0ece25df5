package server

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aisle-rec/aisle/hub/assistant"
	"github.com/aisle-rec/aisle/hub/assistant/chat"
	"github.com/aisle-rec/aisle/hub/dashboard"
	"github.com/aisle-rec/aisle/hub/fleet"
	"github.com/aisle-rec/aisle/hub/ingest"
	"github.com/aisle-rec/aisle/hub/publish"
	"github.com/aisle-rec/aisle/hub/store"
	"github.com/aisle-rec/aisle/shared/snapshot"
)

// TestEveryRouteNeedsItsCredential walks every registered route and proves
// that none that needs a credential answers without it or with a wrong one,
// and that the right one is accepted.
func TestEveryRouteNeedsItsCredential(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	pub, _ := publish.Open(filepath.Join(dir, "snap"))
	s := snapshot.Synthetic(30, 4, 3, 2, 1)
	s.Region = "eu"
	b, _ := snapshot.Encode(s, snapshot.EncodeOptions{})
	v, err := pub.Publish("eu", b)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, filepath.Join(dir, "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, shop := range []string{"a", "b"} {
		if err := st.CreateShop(ctx, shop, "token-of-shop-"+shop+"-0123456789"); err != nil {
			t.Fatal(err)
		}
	}
	const secret = "edge-secret-0123456789"
	h, err := New(Deps{Snapshots: pub, EdgeSecret: secret, Regions: []string{"eu"}, Admin: ingest.AdminHandler(st, slog.New(slog.DiscardHandler)), Summaries: assistant.NewSummaries(st, secret, nil),
		EdgeReports: fleet.Handler(fleet.NewRegistry(nil), secret), Chat: assistant.NewChat(mustChat(t, st), secret, nil),
		Dashboard: dashboard.New(dashboard.Deps{Store: st, Snapshots: pub, Regions: []string{"eu"}})})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	// One concrete request per route.
	probe := map[string]struct {
		method, path, body string
		right              string
	}{
		"/v1/snapshots/":       {"GET", "/v1/snapshots/eu/" + v, "", "Bearer " + secret},
		"GET /v1/health":       {"GET", "/v1/health", "", ""},
		"GET /metrics":         {"GET", "/metrics", "", ""},
		"POST /v1/summarize":   {"POST", "/v1/summarize", `{"shop":"a","item":"x"}`, "Bearer " + secret},
		"POST /v1/chat":        {"POST", "/v1/chat", `{"shop":"a","message":"hello"}`, "Bearer " + secret},
		"POST /v1/edge/report": {"POST", "/v1/edge/report", `{"region":"eu","instance":"0a1b","from":1,"to":2,"requests":3,"recommends":2,"timed":true,"latency":[1,1,0,0,0,0,0,0,0,0,0,0]}`, "Bearer " + secret},
		"/v1/admin/":           {"POST", "/v1/admin/a/catalog", `{"id":"x","title":"Kite","price":1,"currency":"GBP"}` + "\n", "Bearer token-of-shop-a-0123456789"},
		"/dashboard":           {"GET", "/dashboard?shop=a", "", "Bearer token-of-shop-a-0123456789"},
		"/dashboard/":          {"GET", "/dashboard/?shop=a", "", "Bearer token-of-shop-a-0123456789"},
	}
	do := func(method, path, body, auth string) int {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	routes := h.Routes()
	if len(routes) != len(probe) {
		t.Fatalf("%d routes registered, %d probed: every route needs a probe", len(routes), len(probe))
	}
	for _, rt := range routes {
		p, ok := probe[rt.Pattern]
		if !ok {
			t.Fatalf("route %s has no probe", rt.Pattern)
		}
		t.Run(rt.Pattern, func(t *testing.T) {
			if rt.Credential == CredNone {
				if code := do(p.method, p.path, p.body, ""); code >= 400 && code != 503 {
					t.Fatalf("public route answered %d", code)
				}
				return
			}
			for _, bad := range []string{"", "Bearer wrong", "Basic " + strings.TrimPrefix(p.right, "Bearer "), p.right + "x"} {
				if code := do(p.method, p.path, p.body, bad); code != 401 && code != 403 {
					t.Errorf("credential %q: %d, want 401 or 403", bad, code)
				}
			}
			if code := do(p.method, p.path, p.body, p.right); code != 200 {
				t.Errorf("right credential: %d", code)
			}
		})
	}
	// Shop b's token on shop a's route is refused, and writes nothing.
	if code := do("POST", "/v1/admin/a/catalog", `{"id":"y","title":"Ball","price":1,"currency":"GBP"}`+"\n", "Bearer token-of-shop-b-0123456789"); code != 403 {
		t.Fatalf("another shop's token: %d, want 403", code)
	}
	if code := do("GET", "/dashboard?shop=a", "", "Bearer token-of-shop-b-0123456789"); code != 403 {
		t.Fatalf("dashboard with another shop's token: %d, want 403", code)
	}
	c, _ := st.Counts(ctx, "a")
	if c.Products != 1 {
		t.Fatalf("shop a has %d products, want only the one written with its own token", c.Products)
	}
}

func mustChat(t *testing.T, st *store.Store) *chat.Assistant {
	t.Helper()
	a, err := chat.New(chat.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	return a
}
