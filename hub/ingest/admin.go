package ingest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aisle-rec/aisle/hub/catalog"
	"github.com/aisle-rec/aisle/hub/store"
)

// MaxBodyBytes bounds the body of an admin ingest request.
const MaxBodyBytes = 32 << 20

// AdminHandler serves the shop admin ingest API:
//
//	POST /v1/admin/{shop}/catalog   body: products as JSON lines
//	POST /v1/admin/{shop}/reviews   body: reviews as JSON lines
//	POST /v1/admin/{shop}/qa        body: questions and answers as JSON lines
//	                                {"id","item","question","answer","date"}
//	POST /v1/admin/{shop}/faq       body: a JSON object {"id","title","body"},
//	                                several (JSON lines), or an array
//	POST /v1/admin/{shop}/events    body: events as JSON lines
//	                                {"session","type","item","query","time","seq"}
//
// Each request needs "Authorization: Bearer TOKEN" with the shop's admin
// token. Answers: 200 with the Result as JSON; 400 with every bad row as
// JSON and nothing written; 401 without a token, or with one that is no
// shop's; 403 with another shop's token; 404 for an unknown shop (asked
// with a valid token) or kind; 413 for a body over MaxBodyBytes; 405 for a
// method other than POST. Tokens and row contents are never logged.
func AdminHandler(st *store.Store, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	a := &admin{st: st, log: logger, maxBody: MaxBodyBytes}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/admin/{shop}/{kind}", a.ingest)
	return mux
}

type admin struct {
	st      *store.Store
	log     *slog.Logger
	maxBody int64
}

// errorBody is the JSON of every answer but 200.
type errorBody struct {
	Error string `json:"error"`
	// Rows lists bad rows (400 only), Total counts them all.
	Rows  []rowJSON `json:"rows,omitempty"`
	Total int       `json:"total,omitempty"`
}

type rowJSON struct {
	Line    int    `json:"line"`
	Field   string `json:"field,omitempty"`
	Problem string `json:"problem"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// bearer returns the token of an "Authorization: Bearer TOKEN" header.
func bearer(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

func (a *admin) ingest(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	ctx := r.Context()
	shop := r.PathValue("shop")
	code, res, size := http.StatusOK, Result{}, 0
	fail := func(c int, format string, args ...any) {
		code = c
		writeJSON(w, c, errorBody{Error: fmt.Sprintf(format, args...)})
	}
	defer func() {
		// Only the shop id, the kind and counts: no token, no row content.
		a.log.LogAttrs(ctx, levelFor(code), "admin ingest",
			slog.String("shop", clip(shop)), slog.String("kind", clip(r.PathValue("kind"))),
			slog.Int("status", code), slog.Int("bytes", size),
			slog.Int("read", res.Read), slog.Int("changed", res.Changed),
			slog.Duration("took", time.Since(start)))
	}()

	kind, err := ParseKind(r.PathValue("kind"))
	if err != nil {
		fail(http.StatusNotFound, "unknown kind %q; want catalog, reviews, qa, faq or events", clip(r.PathValue("kind")))
		return
	}
	token := bearer(r)
	if token == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="aisle admin"`)
		fail(http.StatusUnauthorized, "missing admin token: send Authorization: Bearer TOKEN")
		return
	}
	if !a.st.CheckToken(ctx, shop, token) {
		// Tell "another shop's token" from "no valid token" without
		// revealing to a caller with no valid token which shops exist.
		_, valid, err := a.st.TokenShop(ctx, token)
		if err != nil {
			a.log.ErrorContext(ctx, "admin ingest: token lookup", slog.String("err", err.Error()))
			fail(http.StatusInternalServerError, "internal error")
			return
		}
		if !valid {
			w.Header().Set("WWW-Authenticate", `Bearer realm="aisle admin", error="invalid_token"`)
			fail(http.StatusUnauthorized, "invalid admin token")
			return
		}
		exists, err := a.st.HasShop(ctx, shop)
		switch {
		case err != nil:
			a.log.ErrorContext(ctx, "admin ingest: shop lookup", slog.String("err", err.Error()))
			fail(http.StatusInternalServerError, "internal error")
		case !exists:
			fail(http.StatusNotFound, "unknown shop %q", clip(shop))
		default:
			fail(http.StatusForbidden, "this token is not the admin token of shop %q", clip(shop))
		}
		return
	}

	if r.ContentLength > a.maxBody {
		fail(http.StatusRequestEntityTooLarge, "body of %d bytes is over the limit of %d bytes; split the upload", r.ContentLength, a.maxBody)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.maxBody))
	size = len(body)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		fail(http.StatusRequestEntityTooLarge, "body is over the limit of %d bytes; split the upload", a.maxBody)
		return
	case err != nil:
		fail(http.StatusBadRequest, "reading the body: %v", err)
		return
	}

	batch, err := Parse(kind, []Source{BytesSource("body", body)}, Options{Format: JSONL})
	var re *catalog.RowErrors
	switch {
	case errors.As(err, &re):
		out := errorBody{Error: fmt.Sprintf("%d problem(s) in the body; nothing was written", re.Total), Total: re.Total}
		for _, row := range re.Rows {
			out.Rows = append(out.Rows, rowJSON{Line: row.Line, Field: row.Field, Problem: row.Problem})
		}
		code = http.StatusBadRequest
		writeJSON(w, code, out)
		return
	case err != nil:
		fail(http.StatusBadRequest, "%v", err)
		return
	}
	res, err = Write(ctx, a.st, shop, batch, nil)
	switch {
	case errors.Is(err, store.ErrNoShop):
		fail(http.StatusNotFound, "unknown shop %q", clip(shop))
	case errors.Is(err, store.ErrInvalid):
		fail(http.StatusBadRequest, "%v", err)
	case err != nil:
		a.log.ErrorContext(ctx, "admin ingest: write", slog.String("shop", clip(shop)), slog.String("err", err.Error()))
		fail(http.StatusInternalServerError, "internal error; nothing was written")
	default:
		writeJSON(w, http.StatusOK, res)
	}
}

func levelFor(code int) slog.Level {
	switch {
	case code >= 500:
		return slog.LevelError
	case code >= 400:
		return slog.LevelWarn
	}
	return slog.LevelInfo
}
