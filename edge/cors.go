package edge

import (
	"net/http"
	"strconv"
)

// CORS answers for an allowed origin.
const (
	corsMethods = "GET, POST, OPTIONS"
	corsHeaders = "Content-Type"
	// corsMaxAge is how long (seconds) a browser may cache a preflight.
	corsMaxAge = 600
)

// cors marks the response as varying by Origin and, for an allowed Origin,
// echoes it. It reports whether the request came from an allowed origin.
func (e *Edge) cors(w http.ResponseWriter, r *http.Request) bool {
	h := w.Header()
	h.Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if origin == "" || !e.origins[origin] {
		return false
	}
	h.Set("Access-Control-Allow-Origin", origin)
	return true
}

// options answers OPTIONS on a known route: a CORS preflight (204 for an
// allowed origin, 403 for any other), or a plain OPTIONS (204 with Allow).
func (e *Edge) options(w http.ResponseWriter, r *http.Request, rt route, allowed bool) {
	h := w.Header()
	if r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != "" {
		if !allowed {
			e.fail(w, http.StatusForbidden, "origin not allowed", "")
			return
		}
		h.Set("Access-Control-Allow-Methods", corsMethods)
		h.Set("Access-Control-Allow-Headers", corsHeaders)
		h.Set("Access-Control-Max-Age", strconv.Itoa(corsMaxAge))
	}
	h.Set("Allow", rt.allow)
	w.WriteHeader(http.StatusNoContent)
}
