package assistant

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/aisle-rec/aisle/hub/assistant/chat"
	"github.com/aisle-rec/aisle/hub/store"
)

// Limits of a chat request, the same as the edge's (package edge): the hub
// checks them again rather than trusting the caller.
const (
	maxMessageBytes = 4 << 10
	maxHistoryTurns = 8
	maxItems        = 20
	maxIDBytes      = 512
	maxShopBytes    = 256
)

// Chat answers POST /v1/chat for edges holding the edge secret.
type Chat struct {
	a      *chat.Assistant
	secret []byte
	log    *slog.Logger
}

// NewChat returns the chat handler over a. It does no I/O.
func NewChat(a *chat.Assistant, edgeSecret string, log *slog.Logger) *Chat {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Chat{a: a, secret: []byte("Bearer " + edgeSecret), log: log}
}

func (h *Chat) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, ok := readEdgeRequest(w, r, h.secret)
	if !ok {
		return
	}
	req, err := parseChat(body)
	if err != nil {
		httpError(w, http.StatusBadRequest, err.Error())
		return
	}
	resp, err := h.a.Answer(r.Context(), req)
	if errors.Is(err, store.ErrNoShop) {
		httpError(w, http.StatusNotFound, "unknown shop")
		return
	}
	if err != nil {
		h.log.Error("chat", "err", err)
		httpError(w, http.StatusInternalServerError, "the assistant cannot answer right now")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true) // answers quote shop data: keep markup inert even if misused
	_ = enc.Encode(resp)
}

// parseChat decodes and checks a chat request; unknown fields are refused.
func parseChat(body []byte) (chat.Request, error) {
	var req chat.Request
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, fmt.Errorf("body is not a chat request object: %v", err)
	}
	bad := func(field, problem string) (chat.Request, error) {
		return req, fmt.Errorf("%s: %s", field, problem)
	}
	text := func(s string) bool { return utf8.ValidString(s) }
	switch {
	case req.Shop == "" || len(req.Shop) > maxShopBytes || !text(req.Shop):
		return bad("shop", fmt.Sprintf("required, at most %d bytes", maxShopBytes))
	case strings.TrimSpace(req.Message) == "":
		return bad("message", "required")
	case len(req.Message) > maxMessageBytes || !text(req.Message):
		return bad("message", fmt.Sprintf("at most %d bytes of UTF-8", maxMessageBytes))
	case len(req.History) > maxHistoryTurns:
		return bad("history", fmt.Sprintf("at most %d turns", maxHistoryTurns))
	case len(req.Items) > maxItems:
		return bad("items", fmt.Sprintf("at most %d ids", maxItems))
	case len(req.Item) > maxIDBytes || len(req.Region) > maxShopBytes:
		return bad("item", fmt.Sprintf("at most %d bytes", maxIDBytes))
	}
	for i, t := range req.History {
		if t.Role != "user" && t.Role != "assistant" || len(t.Text) > maxMessageBytes || !text(t.Text) {
			return bad(fmt.Sprintf("history[%d]", i), "want role user or assistant and at most 4 KiB of text")
		}
	}
	for i, id := range req.Items {
		if id == "" || len(id) > maxIDBytes {
			return bad(fmt.Sprintf("items[%d]", i), fmt.Sprintf("want a non-empty id of at most %d bytes", maxIDBytes))
		}
	}
	return req, nil
}
