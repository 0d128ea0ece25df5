package dashboard

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aisle-rec/aisle/hub/publish"
	"github.com/aisle-rec/aisle/hub/store"
	"github.com/aisle-rec/aisle/shared/rank"
	"github.com/aisle-rec/aisle/shared/snapshot"
)

const (
	tokenA = "token-of-shop-a-0123456789"
	tokenB = "token-of-shop-b-0123456789"
)

// fixture publishes a snapshot of shop a with n items to region eu (none
// to us) and returns the dashboard and the snapshot.
func fixture(t testing.TB, n int) (http.Handler, *snapshot.Snapshot) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for shop, tok := range map[string]string{"a": tokenA, "b": tokenB} {
		if err := st.CreateShop(ctx, shop, tok); err != nil {
			t.Fatal(err)
		}
	}
	s := snapshot.Synthetic(n, 8, 3, 4, 7)
	s.Shop, s.Region = "a", "eu"
	s.ClusterLabels[1] = `<script>alert(1)</script>`
	seg := &rank.Segments{Dims: s.Dims, Centroids: make([]float32, 2*s.Dims),
		Labels: []string{"Gift hunters", "<b>bold</b>"}, Items: [][]uint32{{0, 1, 2, 3}, {4}}}
	s.Sections = []snapshot.Section{{Name: rank.SegmentsSection, Data: seg.Marshal()}}
	b, err := snapshot.Encode(s, snapshot.EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := publish.Open(filepath.Join(dir, "snap"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Version, err = pub.Publish("eu", b); err != nil {
		t.Fatal(err)
	}
	return New(Deps{Store: st, Snapshots: pub, Regions: []string{"eu", "us"}}), s
}

func get(t testing.TB, h http.Handler, target, auth string) (int, http.Header, string) {
	t.Helper()
	req := httptest.NewRequest("GET", target, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, rec.Header(), string(body)
}

func TestAuth(t *testing.T) {
	h, _ := fixture(t, 40)
	for _, tc := range []struct {
		name, target, auth string
		want               int
	}{
		{"no token", "/dashboard?shop=a", "", 401},
		{"wrong token", "/dashboard?shop=a", "Bearer wrong-token-0123456789", 401},
		{"basic scheme", "/dashboard?shop=a", "Basic " + tokenA, 401},
		{"token with suffix", "/dashboard?shop=a", "Bearer " + tokenA + "x", 401},
		{"other shop's token", "/dashboard?shop=a", "Bearer " + tokenB, 403},
		{"token of a, unknown shop", "/dashboard?shop=zz", "Bearer " + tokenA, 403},
		{"right token", "/dashboard?shop=a", "Bearer " + tokenA, 200},
		{"right token, trailing slash", "/dashboard/?shop=a", "Bearer " + tokenA, 200},
		{"shop from the token", "/dashboard", "Bearer " + tokenB, 200},
		{"query token", "/dashboard?shop=a&token=" + tokenA, "", 200},
		{"query token of another shop", "/dashboard?shop=a&token=" + tokenB, "", 403},
		{"unknown subpath", "/dashboard/x?shop=a", "Bearer " + tokenA, 404},
		{"unknown subpath, no token", "/dashboard/x?shop=a", "", 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, hd, _ := get(t, h, tc.target, tc.auth)
			if code != tc.want {
				t.Fatalf("%d, want %d", code, tc.want)
			}
			for k, v := range map[string]string{"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"} {
				if hd.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, hd.Get(k), v)
				}
			}
			if !strings.HasPrefix(hd.Get("Content-Security-Policy"), "default-src 'none'") {
				t.Errorf("CSP %q", hd.Get("Content-Security-Policy"))
			}
		})
	}
	req := httptest.NewRequest("POST", "/dashboard?shop=a", nil)
	req.Header.Set("Authorization", "Bearer "+tokenA)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 405 {
		t.Fatalf("POST: %d, want 405", rec.Code)
	}
}

func TestPage(t *testing.T) {
	for _, n := range []int{60, MaxPoints + 250} {
		h, s := fixture(t, n)
		code, hd, body := get(t, h, "/dashboard?shop=a", "Bearer "+tokenA)
		if code != 200 {
			t.Fatalf("%d: %s", code, body)
		}
		// Counts (a fresh shop has none).
		for _, id := range []string{"products", "reviews", "faq", "events", "sessions"} {
			if !strings.Contains(body, `id="`+id+`"><b>0</b>`) {
				t.Errorf("no %s count", id)
			}
		}
		// Region rows: eu with its figures, us without a snapshot.
		if got := strings.Count(body, `<tr class="region">`); got != 2 {
			t.Errorf("%d region rows, want 2", got)
		}
		if !strings.Contains(body, "<code>"+s.Version[:12]+"</code>") {
			t.Errorf("no eu version")
		}
		if !strings.Contains(body, "<td>us</td><td colspan=\"7\" class=\"muted\">no snapshot published</td>") {
			t.Errorf("no us row")
		}
		// One circle per sampled point.
		if !strings.Contains(body, "<svg class=\"map\"") {
			t.Fatal("no map")
		}
		if got, want := strings.Count(body, "<circle "), min(n, MaxPoints); got != want {
			t.Errorf("%d circles, want %d", got, want)
		}
		// Labels are escaped, in the map, the legend and the segments.
		if strings.Contains(body, "<script>") || strings.Contains(body, "<b>bold") {
			t.Error("a label reached the page unescaped")
		}
		if got := strings.Count(body, "&lt;script&gt;alert(1)&lt;/script&gt;"); got != 2 {
			t.Errorf("escaped cluster label %d times, want 2 (map and legend)", got)
		}
		if !strings.Contains(body, `<tr class="segment"><td>Gift hunters</td><td class="n">4</td><td>`+escaped(s.Items.Titles[0])) {
			t.Errorf("segment row missing")
		}
		// The CSP's style hash is that of the page's stylesheet.
		m := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindStringSubmatch(body)
		sum := sha256.Sum256([]byte(m[1]))
		if !strings.Contains(hd.Get("Content-Security-Policy"), "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") {
			t.Error("the CSP does not allow the page's stylesheet")
		}
	}
}

// escaped escapes s as html/template does for text.
func escaped(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;")
	return r.Replace(s)
}

func TestAnotherShopsSnapshotIsNotShown(t *testing.T) {
	h, _ := fixture(t, 40)
	code, _, body := get(t, h, "/dashboard?shop=b", "Bearer "+tokenB)
	if code != 200 {
		t.Fatal(code)
	}
	if strings.Contains(body, "<svg class=\"map\"") || !strings.Contains(body, "of another shop") {
		t.Error("shop b sees shop a's snapshot")
	}
}

// TestFitSeparatesClusters: two well separated clusters in 16 dimensions
// land on opposite sides of the first axis, and fitting is deterministic.
func TestFitSeparatesClusters(t *testing.T) {
	const d, n = 16, 400
	r := rand.New(rand.NewPCG(1, 2))
	dir := make([]float64, d)
	for j := range dir {
		dir[j] = r.NormFloat64()
	}
	x := make([]float64, n*d)
	for i := range n {
		sign := 1.0
		if i%2 == 1 {
			sign = -1
		}
		for j := range d {
			x[i*d+j] = 5*sign*dir[j] + r.NormFloat64()
		}
	}
	p := Fit(x, d)
	if q := Fit(x, d); !equal(p.Axes[0], q.Axes[0]) || !equal(p.Axes[1], q.Axes[1]) {
		t.Fatal("two fits differ")
	}
	if c := math.Abs(dot(p.Axes[0], p.Axes[1])); c > 1e-9 {
		t.Fatalf("axes not orthogonal: %g", c)
	}
	var side [2]float64
	for i := range n {
		a, _ := p.Project(x[i*d : (i+1)*d])
		if i%2 == 0 && a*side[0] < 0 || i%2 == 1 && a*side[1] < 0 {
			t.Fatalf("item %d on the wrong side of the first axis", i)
		}
		if side[i%2] == 0 {
			side[i%2] = a
		}
	}
	if side[0]*side[1] >= 0 {
		t.Fatalf("clusters not separated: %g, %g", side[0], side[1])
	}
}

func equal(a, b []float64) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}

func BenchmarkPage(b *testing.B) {
	h, _ := fixture(b, 863)
	for b.Loop() {
		dh := h.(*handler)
		dh.cache = map[string]*snapView{}
		req := httptest.NewRequest("GET", "/dashboard?shop=a", nil)
		req.Header.Set("Authorization", "Bearer "+tokenA)
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
}

// TestPageIsDeterministic: the same snapshot draws the same page, also
// when computed afresh.
func TestPageIsDeterministic(t *testing.T) {
	h, _ := fixture(t, 500)
	_, _, first := get(t, h, "/dashboard?shop=a", "Bearer "+tokenA)
	h.(*handler).cache = map[string]*snapView{}
	_, _, second := get(t, h, "/dashboard?shop=a", "Bearer "+tokenA)
	if first != second {
		t.Fatal("two renders of the same snapshot differ")
	}
}
