package assistant

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aisle-rec/aisle/hub/assistant/chat"
	"github.com/aisle-rec/aisle/hub/catalog"
)

func TestChatEndpoint(t *testing.T) {
	ctx := context.Background()
	st := toyStore(t)
	if _, err := st.UpsertProducts(ctx, "toys", []catalog.Product{
		{ID: "kite", Title: "Red Delta Kite", Price: 12.5, Currency: "GBP", Attributes: map[string]string{"Recommended age": "5 years and up"}},
		{ID: "train", Title: "Wooden Train Set", Price: 34, Currency: "GBP"},
	}); err != nil {
		t.Fatal(err)
	}
	a, err := chat.New(chat.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	const secret = "edge-secret-0123456789"
	srv := httptest.NewServer(NewChat(a, secret, nil))
	defer srv.Close()
	post := func(method, auth, body string) (int, map[string]any) {
		req, _ := http.NewRequest(method, srv.URL+"/v1/chat", strings.NewReader(body))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	right := "Bearer " + secret
	cases := []struct {
		name, method, auth, body string
		code                     int
		errHas                   string
	}{
		{"no credential", "POST", "", `{"shop":"toys","message":"hi"}`, 401, "credential"},
		{"wrong credential", "POST", "Bearer nope-nope-nope-nope", `{"shop":"toys","message":"hi"}`, 401, "credential"},
		{"GET", "GET", right, "", 405, "method"},
		{"too big", "POST", right, `{"shop":"toys","message":"` + strings.Repeat("a", 17<<10) + `"}`, 413, "bytes"},
		{"not JSON", "POST", right, `shop=toys`, 400, "not a chat request"},
		{"unknown field", "POST", right, `{"shop":"toys","message":"hi","visitor_ip":"1.2.3.4"}`, 400, "visitor_ip"},
		{"no message", "POST", right, `{"shop":"toys","message":"  "}`, 400, "message"},
		{"no shop", "POST", right, `{"message":"hi"}`, 400, "shop"},
		{"long message", "POST", right, `{"shop":"toys","message":"` + strings.Repeat("a", 5000) + `"}`, 400, "message"},
		{"bad role", "POST", right, `{"shop":"toys","message":"hi","history":[{"role":"system","text":"x"}]}`, 400, "history[0]"},
		{"too many items", "POST", right, `{"shop":"toys","message":"hi","items":[` + strings.Repeat(`"x",`, 20) + `"x"]}`, 400, "items"},
		{"unknown shop", "POST", right, `{"shop":"nobody","message":"hi"}`, 404, "unknown shop"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, m := post(c.method, c.auth, c.body)
			if code != c.code || !strings.Contains(m["error"].(string), c.errHas) {
				t.Fatalf("%d %v, want %d with %q", code, m, c.code, c.errHas)
			}
		})
	}
	code, m := post("POST", right, `{"shop":"toys","region":"eu","message":"What age is the red delta kite for?","items":["train"]}`)
	if code != 200 || m["intent"] != chat.IntentProductQuestion || !strings.Contains(m["answer"].(string), "5 years and up") {
		t.Fatalf("%d %v", code, m)
	}
	src := m["sources"].([]any)
	if len(src) == 0 || src[0].(map[string]any)["id"] != "kite" || src[0].(map[string]any)["kind"] != "item" {
		t.Fatalf("sources %v", src)
	}
}

// FuzzParseChat: any body is refused with an error or accepted within the
// limits; nothing panics.
func FuzzParseChat(f *testing.F) {
	for _, s := range []string{`{"shop":"toys","message":"hi"}`, `{"shop":"toys","message":"hi","history":[{"role":"user","text":"x"}],"items":["a"],"item":"b","region":"eu"}`,
		`{"shop":"","message":"x"}`, `[]`, `{"shop":"a","message":"\ud800"}`, "\xdd\xff\xff\xff\xff", `{"shop":"a","message":"x","history":[null]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := parseChat(b)
		if err != nil {
			return
		}
		if req.Shop == "" || len(req.Message) > maxMessageBytes || len(req.History) > maxHistoryTurns || len(req.Items) > maxItems || len(req.Item) > maxIDBytes {
			t.Fatalf("accepted out of limits: %+v", req)
		}
	})
}
