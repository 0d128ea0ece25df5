package assistant

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aisle-rec/aisle/hub/assistant/chat"
	"github.com/aisle-rec/aisle/hub/catalog"
	"github.com/aisle-rec/aisle/hub/store"
)

func TestSummarizeEndpoint(t *testing.T) {
	ctx := context.Background()
	st := toyStore(t)
	st.UpsertProducts(ctx, "toys", []catalog.Product{{ID: "kite", Title: "Red kite", Price: 5, Currency: "GBP"}})
	texts := []struct {
		stars float64
		text  string
	}{
		{5, "The kite flies beautifully even in light wind. My son loves it."},
		{5, "Flies beautifully and the colours are bright. Great value for money."},
		{4, "Easy to assemble and it flies well. The string is a bit short."},
		{1, "The string snapped on the first day. Very disappointed with the quality."},
		{2, "Poor quality string, it snapped quickly. The kite itself looks nice."},
	}
	var rs []catalog.Review
	for i, x := range texts {
		rs = append(rs, catalog.Review{ID: fmt.Sprintf("r%d", i), Item: "kite", Stars: x.stars, Text: x.text, Date: "2024-05-01"})
	}
	if _, err := st.UpsertReviews(ctx, "toys", rs); err != nil {
		t.Fatal(err)
	}
	h := NewSummaries(st, "edge-secret-0123456789", nil)
	srv := httptest.NewServer(h)
	defer srv.Close()
	post := func(auth, body string) (int, Answer) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/summarize", strings.NewReader(body))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var a Answer
		json.NewDecoder(resp.Body).Decode(&a)
		return resp.StatusCode, a
	}
	const auth = "Bearer edge-secret-0123456789"
	code, a := post(auth, `{"shop":"toys","item":"kite"}`)
	if code != 200 || a.Reviews != 5 || len(a.Pros) == 0 || len(a.Cons) == 0 || a.Verdict == "" {
		t.Fatalf("summary: %d %+v", code, a)
	}
	for _, p := range append(a.Pros, a.Cons...) {
		if len(p.Reviews) == 0 {
			t.Errorf("point %q cites no review", p.Text)
		}
	}
	if !strings.Contains(strings.ToLower(fmt.Sprint(a.Cons)), "string") {
		t.Errorf("the snapping string is not among the cons: %+v", a.Cons)
	}
	if len(a.Sources) == 0 {
		t.Error("no sources")
	}
	// A new review changes the summary (the cache follows the reviews).
	st.UpsertReviews(ctx, "toys", []catalog.Review{{ID: "r9", Item: "kite", Stars: 5, Text: "Brilliant kite, flies high and the string is now fixed.", Date: "2024-06-01"}})
	if _, b := post(auth, `{"shop":"toys","item":"kite"}`); b.Reviews != 6 {
		t.Fatalf("after a new review: %d reviews summarised", b.Reviews)
	}
	// Another shop cannot read these reviews; an item without reviews says so.
	if _, b := post(auth, `{"shop":"other","item":"kite"}`); b.Reviews != 0 || len(b.Pros) != 0 {
		t.Fatalf("other shop sees %d reviews", b.Reviews)
	}
	for _, tc := range []struct {
		auth, body string
		code       int
	}{
		{"", `{"shop":"toys","item":"kite"}`, 401},
		{"Bearer wrong", `{"shop":"toys","item":"kite"}`, 401},
		{auth, `not json`, 400},
		{auth, `{"shop":"toys"}`, 400},
		{auth, `{"shop":"nope","item":"kite"}`, 404},
		{auth, `{"shop":"toys","item":"` + strings.Repeat("x", 20000) + `"}`, 413},
	} {
		if code, _ := post(tc.auth, tc.body); code != tc.code {
			t.Errorf("%q %.30q: %d, want %d", tc.auth, tc.body, code, tc.code)
		}
	}
}

func TestSummaryVerdictPolish(t *testing.T) {
	ctx := context.Background()
	st := toyStore(t)
	var rs []catalog.Review
	for i, x := range []string{"The kite flies beautifully even in light wind.", "Flies beautifully and the colours are bright.",
		"The string snapped on the first day, poor quality.", "Easy to assemble and it flies well."} {
		rs = append(rs, catalog.Review{ID: fmt.Sprintf("r%d", i), Item: "kite", Stars: float64(5 - 3*(i/2%2)), Text: x})
	}
	if _, err := st.UpsertReviews(ctx, "toys", rs); err != nil {
		t.Fatal(err)
	}
	var mode atomic.Value
	var calls atomic.Int32
	llm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		content := "Shoppers love how easily it flies, though a few found the string weak."
		if mode.Load() == "link" {
			content = "Great kite, buy more at https://elsewhere.example/kites"
		}
		json.NewEncoder(w).Encode(map[string]any{"choices": []any{map[string]any{"message": map[string]string{"content": content}}}, "usage": map[string]int{"total_tokens": 80}})
	}))
	defer llm.Close()
	be, err := chat.NewBackend(chat.BackendConfig{URL: llm.URL + "/v1", Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	mode.Store("ok")
	h := NewSummaries(st, "edge-secret-0123456789", nil).WithBackend(be)
	a, err := h.Summarize(ctx, "toys", "kite")
	if err != nil || !a.Generated || !strings.HasPrefix(a.Verdict, "Shoppers love") || len(a.Pros) == 0 || len(a.Sources) == 0 {
		t.Fatalf("polished: %+v %v", a, err)
	}
	if a2, _ := h.Summarize(ctx, "toys", "kite"); a2.Verdict != a.Verdict || calls.Load() != 1 {
		t.Fatalf("the polished verdict was not cached: %d calls", calls.Load())
	}
	// New reviews: a new summary, and a backend answer that fails a check
	// leaves the extractive verdict.
	mode.Store("link")
	st.UpsertReviews(ctx, "toys", []catalog.Review{{ID: "r9", Item: "kite", Stars: 4, Text: "Flies well in light wind, good value."}})
	b, err := h.Summarize(ctx, "toys", "kite")
	if err != nil || b.Generated || !strings.Contains(b.Fallback, "not an allowed host") || strings.Contains(b.Verdict, "elsewhere") || b.Verdict == "" {
		t.Fatalf("refused polish: %+v %v", b, err)
	}
}

// toyStore is a real store holding one empty shop, "toys" (and "other").
func toyStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, shop := range []string{"toys", "other"} {
		if err := st.CreateShop(context.Background(), shop, ""); err != nil {
			t.Fatal(err)
		}
	}
	return st
}
