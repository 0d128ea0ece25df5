package edge

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/aisle-rec/aisle/shared/wire"
)

// Hub answers what the edge cannot: the shopping assistant and review
// summaries. Bodies are JSON objects; requests are the sanitised objects
// described in the package documentation. Implementations must return
// promptly once ctx is done: the edge starts no goroutine to guard them.
type Hub interface {
	Chat(ctx context.Context, body []byte) ([]byte, error)
	Summarize(ctx context.Context, body []byte) ([]byte, error)
}

// Limits of the escalation routes.
const (
	// MaxEscalationBytes caps a /v1/chat or /v1/summarize body.
	MaxEscalationBytes = 16 << 10
	// MaxMessageBytes caps the message and each history turn's text.
	MaxMessageBytes = 4 << 10
	// MaxHistoryTurns is how many of the latest history turns are kept.
	MaxHistoryTurns = 8
	// MaxEscalationItems is how many of the latest item ids are kept.
	MaxEscalationItems = 20
)

// Degraded answers, given with 200 when the hub cannot answer.
const (
	degradedChat      = "The assistant is unavailable right now; please try again in a moment. Recommendations on this page still work."
	degradedSummarize = "Review summaries are unavailable right now; please try again in a moment."
)

// escalation is the object forwarded to the hub: the allow-list. Nothing
// outside these fields ever leaves the edge.
type escalation struct {
	Message string   `json:"message,omitempty"`
	History []turn   `json:"history,omitempty"`
	Items   []string `json:"items,omitempty"`
	Item    string   `json:"item,omitempty"`
	Shop    string   `json:"shop,omitempty"`
	// Region is set by the edge, never taken from the page.
	Region string `json:"region"`
}

// turn is one earlier exchange of a chat.
type turn struct {
	Role string `json:"role"`
	Text string `json:"text"`
}

// degraded is the answer given when the hub fails.
type degraded struct {
	Degraded bool   `json:"degraded"`
	Answer   string `json:"answer"`
}

func fieldErr(field, problem string) error { return &wire.FieldError{Field: field, Problem: problem} }

// parseEscalation keeps the allow-listed fields of a JSON object, checking
// their types and sizes; every other field is dropped.
func parseEscalation(b []byte) (*escalation, error) {
	b = bytes.TrimSpace(b)
	var m map[string]json.RawMessage
	if len(b) == 0 || b[0] != '{' || json.Unmarshal(b, &m) != nil {
		return nil, fieldErr("", "the body must be one JSON object")
	}
	e := new(escalation)
	var err error
	if e.Message, err = stringField(m, "message", MaxMessageBytes); err != nil {
		return nil, err
	}
	if e.Item, err = stringField(m, "item", wire.MaxString); err != nil {
		return nil, err
	}
	if e.Shop, err = stringField(m, "shop", wire.MaxString); err != nil {
		return nil, err
	}
	if raw, ok := present(m, "history"); ok {
		var list []json.RawMessage
		if json.Unmarshal(raw, &list) != nil {
			return nil, fieldErr("history", "want an array of {\"role\", \"text\"} objects")
		}
		skip := max(0, len(list)-MaxHistoryTurns)
		e.History = make([]turn, 0, len(list)-skip)
		for i, raw := range list[skip:] {
			var t map[string]json.RawMessage
			path := "history[" + strconv.Itoa(skip+i) + "]"
			if raw = bytes.TrimSpace(raw); len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &t) != nil {
				return nil, fieldErr(path, "want an object {\"role\", \"text\"}")
			}
			var x turn
			if x.Role, err = stringField(t, "role", 16); err != nil {
				return nil, prefixed(path, err)
			}
			if x.Role != "user" && x.Role != "assistant" {
				return nil, fieldErr(path+".role", "want \"user\" or \"assistant\"")
			}
			if x.Text, err = stringField(t, "text", MaxMessageBytes); err != nil {
				return nil, prefixed(path, err)
			}
			e.History = append(e.History, x)
		}
	}
	if raw, ok := present(m, "items"); ok {
		var list []json.RawMessage
		if json.Unmarshal(raw, &list) != nil {
			return nil, fieldErr("items", "want an array of item ids")
		}
		skip := max(0, len(list)-MaxEscalationItems)
		e.Items = make([]string, 0, len(list)-skip)
		for i, raw := range list[skip:] {
			var id string
			path := "items[" + strconv.Itoa(skip+i) + "]"
			if json.Unmarshal(raw, &id) != nil || id == "" {
				return nil, fieldErr(path, "want a non-empty item id string")
			}
			if len(id) > wire.MaxString {
				return nil, fieldErr(path, strconv.Itoa(len(id))+" bytes, limit "+strconv.Itoa(wire.MaxString))
			}
			e.Items = append(e.Items, id)
		}
	}
	return e, nil
}

// present returns m[name] unless it is missing or JSON null.
func present(m map[string]json.RawMessage, name string) (json.RawMessage, bool) {
	raw, ok := m[name]
	if !ok || string(bytes.TrimSpace(raw)) == "null" {
		return nil, false
	}
	return raw, true
}

// stringField decodes an optional string field of at most max bytes.
func stringField(m map[string]json.RawMessage, name string, max int) (string, error) {
	raw, ok := present(m, name)
	if !ok {
		return "", nil
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", fieldErr(name, "want a string")
	}
	if len(s) > max {
		return "", fieldErr(name, strconv.Itoa(len(s))+" bytes, limit "+strconv.Itoa(max))
	}
	return s, nil
}

func prefixed(path string, err error) error {
	fe := err.(*wire.FieldError)
	return fieldErr(path+"."+fe.Field, fe.Problem)
}

// escalate serves /v1/chat (chat true) and /v1/summarize.
func (e *Edge) escalate(w http.ResponseWriter, r *http.Request, chat bool) {
	route, fallback := "summarize", degradedSummarize
	if chat {
		route, fallback = "chat", degradedChat
	}
	body, ok := e.readBody(w, r, MaxEscalationBytes)
	if !ok {
		return
	}
	esc, err := parseEscalation(body)
	if err != nil {
		e.badRequest(w, err)
		return
	}
	switch {
	case chat && strings.TrimSpace(esc.Message) == "":
		e.badRequest(w, fieldErr("message", "missing, required for chat"))
		return
	case !chat && esc.Item == "":
		e.badRequest(w, fieldErr("item", "missing, required for summarize"))
		return
	}
	esc.Region = e.cfg.Region

	var answer []byte
	if e.hub == nil {
		err = errNoHub
	} else {
		out, _ := json.Marshal(esc) // plain strings and slices: cannot fail
		ctx := r.Context()
		if e.cfg.HubTimeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, e.cfg.HubTimeout)
			defer cancel()
		}
		if chat {
			answer, err = e.hub.Chat(ctx, out)
		} else {
			answer, err = e.hub.Summarize(ctx, out)
		}
		if err == nil && !isObject(answer) {
			err = errHubAnswer
		}
	}
	if err != nil {
		e.degraded.Add(1)
		e.log.Warn("edge: hub unavailable, degraded answer", "route", route, "err", err)
		e.writeJSON(w, http.StatusOK, degraded{Degraded: true, Answer: fallback})
		return
	}
	e.writeRaw(w, http.StatusOK, answer)
}

// isObject reports whether b is exactly one JSON object.
func isObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{' && json.Valid(b)
}
