package fleet_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aisle-rec/aisle/hub/fleet"
)

// TestOpenKeepsReports: reports added to an opened registry are there, with
// the same sums and receipt time, after the hub restarts; a region file that
// does not read back is skipped, said, and left as it is.
func TestOpenKeepsReports(t *testing.T) {
	dir := t.TempDir()
	at := time.UnixMilli(1_767_268_800_000)
	g, problems, err := fleet.Open(dir, func() time.Time { return at })
	if err != nil || len(problems) != 0 {
		t.Fatal(err, problems)
	}
	r := valid()
	for i := range fleet.KeepPerRegion + 3 {
		r.Requests = int64(10 + i%2)
		if err := g.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	us := valid()
	us.Region, us.Index = "us", strings.Repeat("ab", 32)
	if err := g.Add(us); err != nil {
		t.Fatal(err)
	}
	want, _ := g.Region("eu")

	again, problems, err := fleet.Open(dir, nil)
	if err != nil || len(problems) != 0 {
		t.Fatal(err, problems)
	}
	got, ok := again.Region("eu")
	if !ok || got.Reports != fleet.KeepPerRegion || got.Requests != want.Requests || got.Timed != want.Timed ||
		!got.Last.Equal(at) || got.Quantile(0.5) != want.Quantile(0.5) {
		t.Fatalf("after reopening: %+v; want %+v", got, want)
	}
	if s, ok := again.Region("us"); !ok || s.Index != us.Index {
		t.Fatalf("us after reopening: %+v", s)
	}

	// A truncated file, and one whose report the checks refuse.
	b, err := os.ReadFile(filepath.Join(dir, "us.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "us.json"), b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(b), `"requests":10`, `"requests":-1`, 1)
	if err := os.WriteFile(filepath.Join(dir, "ap.json"), []byte(strings.ReplaceAll(bad, `"region":"us"`, `"region":"ap"`)), 0o644); err != nil {
		t.Fatal(err)
	}
	third, problems, err := fleet.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 2 || !strings.Contains(problems[0].Error()+problems[1].Error(), "us.json") ||
		!strings.Contains(problems[0].Error()+problems[1].Error(), "requests") {
		t.Fatalf("problems %v; want us.json (truncated) and ap.json (negative requests)", problems)
	}
	if _, ok := third.Region("us"); ok {
		t.Fatal("a truncated region file was loaded")
	}
	if s, ok := third.Region("eu"); !ok || s.Reports != fleet.KeepPerRegion {
		t.Fatalf("eu beside broken files: %+v", s)
	}
	if b2, _ := os.ReadFile(filepath.Join(dir, "us.json")); len(b2) != len(b)/2 {
		t.Fatal("a file that did not read back was changed")
	}

	// A directory gone (replaced by a file): the report is kept, and counted.
	gone := filepath.Join(t.TempDir(), "fleet")
	g, _, err = fleet.Open(gone, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(gone); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(gone, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := g.Add(valid()); !errors.Is(err, fleet.ErrNotSaved) || g.NotSaved() != 1 {
		t.Fatalf("Add with its directory gone: %v, %d not saved", err, g.NotSaved())
	}
	if s, ok := g.Region("eu"); !ok || s.Reports != 1 {
		t.Fatal("the unsaved report was not kept in memory")
	}
	// The edge is told it was taken, so it does not send it again.
	srv := httptest.NewServer(fleet.Handler(g, secret))
	defer srv.Close()
	body, _ := json.Marshal(valid())
	req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || g.NotSaved() != 2 {
		t.Fatalf("a report kept but not saved: %d, %d not saved; want 200 and 2", resp.StatusCode, g.NotSaved())
	}
}
