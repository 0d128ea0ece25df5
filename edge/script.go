package edge

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"

	"github.com/aisle-rec/aisle/web"
)

// The storefront script, served at GET /aisle.js. Shops load it with a plain
// script tag, which needs no CORS; it is public and cached for five minutes,
// then revalidated by its ETag (the first 16 hex digits of its SHA-256), so
// a new edge build reaches every page within five minutes.
var (
	scriptBody = web.Script()
	scriptETag = func() string {
		sum := sha256.Sum256(scriptBody)
		return `"` + hex.EncodeToString(sum[:8]) + `"`
	}()
)

// script serves GET and HEAD /aisle.js, answering 304 Not Modified to a
// matching If-None-Match.
func (e *Edge) script(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("ETag", scriptETag)
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("X-Content-Type-Options", "nosniff")
	if etagMatch(r.Header.Get("If-None-Match"), scriptETag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/javascript; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(scriptBody)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(scriptBody)
	}
}

// etagMatch reports whether an If-None-Match header names etag: "*", or a
// list of entity tags compared weakly (RFC 9110 §13.1.2).
func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}
