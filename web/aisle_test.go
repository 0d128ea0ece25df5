package web_test

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"regexp"
	"testing"

	"github.com/aisle-rec/aisle/web"
)

// maxScriptGzip is the size budget of aisle.js, gzip-compressed.
const maxScriptGzip = 15 << 10

func TestScriptSize(t *testing.T) {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := zw.Write(web.Script()); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("aisle.js: %d bytes, %d gzip", len(web.Script()), buf.Len())
	if buf.Len() > maxScriptGzip {
		t.Errorf("aisle.js is %d bytes gzip, over the budget of %d", buf.Len(), maxScriptGzip)
	}
}

// TestScriptSource guards what the script must never do, whatever the
// browser tests happen to exercise: parse server text as HTML, run strings
// as code, or keep anything beyond the tab's sessionStorage.
func TestScriptSource(t *testing.T) {
	src := web.Script()
	if len(src) == 0 {
		t.Fatal("aisle.js is empty")
	}
	// Comments may name what the code must not do. (The script has no
	// string or regexp literal containing "//" or "/*".)
	src = regexp.MustCompile(`(?s)/\*.*?\*/|//[^\n]*`).ReplaceAll(src, nil)
	for _, bad := range []string{
		`innerHTML`, `outerHTML`, `insertAdjacentHTML`, `document\.write`, `DOMParser`,
		`createContextualFragment`, `\beval\(`, `new Function`, `setTimeout\(\s*["']`,
		`localStorage`, `document\.cookie`, `indexedDB`,
	} {
		if m := regexp.MustCompile(bad).Find(src); m != nil {
			t.Errorf("aisle.js uses %s", m)
		}
	}
}

// TestEdgeServesScript fetches /aisle.js from a real edge over HTTP.
func TestEdgeServesScript(t *testing.T) {
	env := newEnv(t)
	sum := sha256.Sum256(web.Script())
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`

	res, err := http.Get(env.edge.URL + "/aisle.js")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !bytes.Equal(body, web.Script()) {
		t.Fatalf("GET /aisle.js: %s, %d bytes", res.Status, len(body))
	}
	for k, want := range map[string]string{
		"Content-Type":  "application/javascript; charset=utf-8",
		"Cache-Control": "public, max-age=300",
		"ETag":          etag,
	} {
		if got := res.Header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}

	req, _ := http.NewRequest("GET", env.edge.URL+"/aisle.js", nil)
	req.Header.Set("If-None-Match", etag)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusNotModified || len(body) != 0 || res.Header.Get("ETag") != etag {
		t.Errorf("If-None-Match: %s with %d bytes, ETag %q; want 304 and no body", res.Status, len(body), res.Header.Get("ETag"))
	}
}
