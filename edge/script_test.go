package edge

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"testing"

	"github.com/aisle-rec/aisle/web"
)

// TestScript checks GET /aisle.js: the embedded script, cacheable, with an
// ETag that answers 304, and no index load needed to serve it.
func TestScript(t *testing.T) {
	src := newSource(synth(t, 1, 0, nil))
	e := newEdge(t, src, nil, newClock(), nil)
	sum := sha256.Sum256(web.Script())
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	tests := []struct {
		name, method, ifNoneMatch string
		status                    int
		body                      bool
	}{
		{"get", "GET", "", 200, true},
		{"head", "HEAD", "", 200, false},
		{"match", "GET", etag, 304, false},
		{"weak match", "GET", "W/" + etag, 304, false},
		{"match in a list", "GET", `"0000", ` + etag, 304, false},
		{"star", "GET", "*", 304, false},
		{"head match", "HEAD", etag, 304, false},
		{"stale", "GET", `"0123456789abcdef"`, 200, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hdr []string
			if tt.ifNoneMatch != "" {
				hdr = []string{"If-None-Match", tt.ifNoneMatch}
			}
			w := do(e, tt.method, "/aisle.js", "", hdr...)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d", w.Code, tt.status)
			}
			h := w.Header()
			if got := h.Get("ETag"); got != etag {
				t.Errorf("ETag %q, want %q", got, etag)
			}
			if got := h.Get("Cache-Control"); got != "public, max-age=300" {
				t.Errorf("Cache-Control %q", got)
			}
			if tt.status == 200 {
				if got := h.Get("Content-Type"); got != "application/javascript; charset=utf-8" {
					t.Errorf("Content-Type %q", got)
				}
				if got, want := h.Get("Content-Length"), len(web.Script()); got != strconv.Itoa(want) {
					t.Errorf("Content-Length %s, want %d", got, want)
				}
			}
			if got := w.Body.Bytes(); tt.body != (len(got) > 0) || (tt.body && !bytes.Equal(got, web.Script())) {
				t.Errorf("body of %d bytes, want the script: %v", len(got), tt.body)
			}
		})
	}
	for _, m := range []string{"POST", "PUT", "DELETE"} {
		if w := do(e, m, "/aisle.js", ""); w.Code != 405 || w.Header().Get("Allow") != "GET, HEAD, OPTIONS" {
			t.Errorf("%s /aisle.js: %d, Allow %q", m, w.Code, w.Header().Get("Allow"))
		}
	}
	if p, f := src.calls(); p != 0 || f != 0 {
		t.Errorf("serving the script touched the snapshot source (%d pointer, %d fetch calls)", p, f)
	}
}
