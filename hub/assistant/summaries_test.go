package assistant

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aisle-rec/aisle/hub/catalog"
	"github.com/aisle-rec/aisle/hub/store"
)

func TestSummarizeEndpoint(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.CreateShop(ctx, "toys", "")
	st.CreateShop(ctx, "other", "")
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
