package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestRequestJSONRoundTrip(t *testing.T) {
	for _, want := range []*RecommendRequest{validRequest(), {Placement: Trending}} {
		b, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeRecommendRequestJSON(b)
		if err != nil {
			t.Fatalf("decode %s: %v", b, err)
		}
		if !sameRequest(got, want) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
		}
	}
}

func TestResponseJSONRoundTrip(t *testing.T) {
	for _, want := range []*RecommendResponse{validResponse(), {}} {
		b, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeRecommendResponseJSON(b)
		if err != nil {
			t.Fatalf("decode %s: %v", b, err)
		}
		if !sameResponse(got, want) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
		}
	}
}

// jsonList renders n copies of item as a JSON array.
func jsonList(n int, item string) string {
	return "[" + strings.TrimSuffix(strings.Repeat(item+",", n), ",") + "]"
}

func TestDecodeRequestJSON(t *testing.T) {
	ev := `{"type":"view","item":"a","time":1}`
	tests := []struct {
		name    string
		body    string
		field   string // FieldError path; "" with no kind means valid
		kind    error  // ErrTooLarge or ErrMalformed
		problem string // checked when set
	}{
		{"minimal", `{"placement":"for_you"}`, "", nil, ""},
		{"whitespace around", " \n\t{\"placement\":\"for_you\"}\r\n ", "", nil, ""},
		{"nulls are absent", `{"placement":"for_you","shop":null,"events":null,"filters":null,"k":null,"now":null}`, "", nil, ""},
		{"null event fields", `{"placement":"for_you","events":[{"type":"view","item":"a","query":null,"time":null}]}`, "", nil, ""},
		{"escaped key", `{"pl\u0061cement":"for_you"}`, "", nil, ""},
		{"surrogate pair", `{"placement":"search","query":"\ud83d\ude00"}`, "", nil, ""},
		{"escaped backslash before u", `{"placement":"search","query":"\\udc00"}`, "", nil, ""},
		{"exponent float", `{"placement":"for_you","filters":{"price_min":1e2,"price_max":2.5E3}}`, "", nil, ""},
		{"events at limit", `{"placement":"for_you","events":` + jsonList(MaxEvents, ev) + `}`, "", nil, ""},
		{"exclude at limit", `{"placement":"for_you","filters":{"exclude":` + jsonList(MaxList, `"x"`) + `}}`, "", nil, ""},

		{"too large", `{"placement":"for_you","query":"` + strings.Repeat("x", MaxBodyBytes) + `"}`, "", ErrTooLarge, ""},
		{"empty", ``, "", ErrMalformed, ""},
		{"not an object", `["placement"]`, "", ErrMalformed, ""},
		{"null body", `null`, "", ErrMalformed, ""},
		{"syntax error", `{"placement":for_you}`, "", ErrMalformed, ""},
		{"truncated", `{"placement":"for_you"`, "", ErrMalformed, ""},
		{"trailing garbage", `{"placement":"for_you"} x`, "", ErrMalformed, ""},
		{"two objects", `{"placement":"for_you"}{"placement":"cart"}`, "", ErrMalformed, ""},

		{"unknown field", `{"placement":"for_you","colour":"red"}`, "colour", nil, "unknown field"},
		{"unknown filter field", `{"placement":"for_you","filters":{"colour":"red"}}`, "filters.colour", nil, "unknown field"},
		{"unknown event field", `{"placement":"for_you","events":[` + ev + `,` + ev + `,` + ev + `,{"type":"view","item":"a","price":3}]}`, "events[3].price", nil, "unknown field"},
		{"key case differs", `{"Placement":"for_you"}`, "Placement", nil, "unknown field"},
		{"empty key", `{"placement":"for_you","filters":{"":1}}`, `filters.""`, nil, "unknown field"},
		{"odd key is quoted", `{"placement":"for_you","a b":1}`, `"a b"`, nil, "unknown field"},
		{"duplicate field", `{"placement":"for_you","placement":"cart"}`, "placement", nil, "duplicate field"},
		{"placement missing", `{}`, "placement", nil, "missing"},
		{"placement wrong type", `{"placement":1}`, "placement", nil, "want string, got number"},
		{"k wrong type", `{"placement":"for_you","k":"10"}`, "k", nil, "want integer, got string"},
		{"k fractional", `{"placement":"for_you","k":1.5}`, "k", nil, "1.5, want an integer"},
		{"k exponent", `{"placement":"for_you","k":1e1}`, "k", nil, "1e1, want an integer"},
		{"k huge", `{"placement":"for_you","k":99999999999999999999}`, "k", nil, "99999999999999999999 is out of range"},
		{"k over limit", `{"placement":"for_you","k":101}`, "k", nil, "101, want 0..100"},
		{"k negative", `{"placement":"for_you","k":-1}`, "k", nil, "-1, want 0..100"},
		{"in_stock wrong type", `{"placement":"for_you","filters":{"in_stock":"yes"}}`, "filters.in_stock", nil, "want boolean, got string"},
		{"events not array", `{"placement":"for_you","events":{}}`, "events", nil, "want array, got object"},
		{"event not object", `{"placement":"for_you","events":[` + ev + `,"view"]}`, "events[1]", nil, "want object, got string"},
		{"event time fractional", `{"placement":"for_you","events":[{"type":"view","item":"a","time":1.5}]}`, "events[0].time", nil, ""},
		{"event null is invalid", `{"placement":"for_you","events":[null]}`, "events[0].type", nil, "missing"},
		{"events over limit", `{"placement":"for_you","events":` + jsonList(MaxEvents+1, ev) + `}`, "events", nil, "201 entries, limit 200"},
		{"events far over limit", `{"placement":"for_you","events":` + jsonList(5000, `{}`) + `}`, "events", nil, "5000 entries, limit 200"},
		{"categories over limit", `{"placement":"for_you","filters":{"categories":` + jsonList(MaxList+1, `"c"`) + `}}`, "filters.categories", nil, "101 entries, limit 100"},
		{"exclude over limit", `{"placement":"for_you","filters":{"exclude":` + jsonList(MaxList+1, `"x"`) + `}}`, "filters.exclude", nil, "101 entries, limit 100"},
		{"exclude entry long", `{"placement":"for_you","filters":{"exclude":["a","b","c","d","e","f","g","` + strings.Repeat("x", 600) + `"]}}`, "filters.exclude[7]", nil, "600 bytes, limit 512"},
		{"exclude entry number", `{"placement":"for_you","filters":{"exclude":["a",7]}}`, "filters.exclude[1]", nil, "want string, got number"},
		{"event item long", `{"placement":"for_you","events":[` + ev + `,` + ev + `,` + ev + `,{"type":"view","item":"` + strings.Repeat("x", 600) + `"}]}`, "events[3].item", nil, "600 bytes, limit 512"},
		{"escapes count decoded bytes", `{"placement":"search","query":"` + strings.Repeat(`\u00e9`, MaxString/2) + `"}`, "", nil, ""},
		{"escapes over limit", `{"placement":"search","query":"` + strings.Repeat(`\u00e9`, MaxString/2+1) + `"}`, "query", nil, "514 bytes, limit 512"},
		{"invalid UTF-8", "{\"placement\":\"search\",\"query\":\"caf\xe9\"}", "query", nil, "invalid UTF-8"},
		{"invalid UTF-8 in list", "{\"placement\":\"for_you\",\"filters\":{\"categories\":[\"ok\",\"\xff\"]}}", "filters.categories[1]", nil, "invalid UTF-8"},
		{"lone low surrogate", `{"placement":"search","query":"\udc00"}`, "query", nil, "invalid UTF-8"},
		{"lone high surrogate", `{"placement":"search","query":"a\ud800b"}`, "query", nil, "invalid UTF-8"},
		{"high surrogate at end", `{"placement":"search","query":"\ud800"}`, "query", nil, "invalid UTF-8"},
		{"reversed surrogates", `{"placement":"search","query":"\ude00\ud83d"}`, "query", nil, "invalid UTF-8"},
		{"negative price", `{"placement":"for_you","filters":{"price_min":-1}}`, "filters.price_min", nil, "negative (-1)"},
		{"price out of range", `{"placement":"for_you","filters":{"price_max":1e400}}`, "filters.price_max", nil, "1e400 is out of range"},
		{"price NaN string", `{"placement":"for_you","filters":{"price_max":"NaN"}}`, "filters.price_max", nil, "want number, got string"},
		{"similar needs item", `{"placement":"similar"}`, "item", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := DecodeRecommendRequestJSON([]byte(tt.body))
			switch {
			case tt.kind != nil:
				if !errors.Is(err, tt.kind) {
					t.Fatalf("err = %v, want %v", err, tt.kind)
				}
				var fe *FieldError
				if errors.As(err, &fe) {
					t.Errorf("err %v is also a FieldError", err)
				}
			case tt.field != "":
				fe := wantFieldError(t, err, tt.field)
				if tt.problem != "" && fe.Problem != tt.problem {
					t.Errorf("problem = %q, want %q", fe.Problem, tt.problem)
				}
			default:
				if err != nil {
					t.Fatalf("err = %v, want nil", err)
				}
				if r == nil || r.Validate() != nil {
					t.Fatalf("decoded %+v does not validate", r)
				}
			}
		})
	}
}

func TestDecodeRequestJSONErrorMessages(t *testing.T) {
	for _, tt := range []struct{ body, want string }{
		{`{"placement":"for_you"} x`, "wire: decode JSON request: byte 25: invalid character 'x' after top-level value: malformed message"},
		{`{"placement":"for_you","filters":{"colour":1}}`, "wire: filters.colour: unknown field"},
		{`{"placement":"for_you","events":` + jsonList(MaxEvents+1, `{}`) + `}`, "wire: events: 201 entries, limit 200"},
		{strings.Repeat(" ", MaxBodyBytes+1), fmt.Sprintf("wire: decode JSON request: %d bytes, limit %d: message too large", MaxBodyBytes+1, MaxBodyBytes)},
	} {
		_, err := DecodeRecommendRequestJSON([]byte(tt.body))
		if err == nil || err.Error() != tt.want {
			t.Errorf("error = %v, want %s", err, tt.want)
		}
	}
}

func TestDecodeResponseJSON(t *testing.T) {
	rec := `{"id":"a","score":1,"reason":"trending","in_stock":false}`
	tests := []struct {
		name  string
		body  string
		field string
		kind  error
	}{
		{"valid", `{"items":[` + rec + `],"index":"v1","fallback":false}`, "", nil},
		{"empty object", `{}`, "", nil},
		{"items over limit", `{"items":` + jsonList(MaxResults+1, rec) + `}`, "items", nil},
		{"unknown item field", `{"items":[` + rec + `,{"id":"b","rank":2}]}`, "items[1].rank", nil},
		{"score wrong type", `{"items":[{"id":"b","score":"high"}]}`, "items[0].score", nil},
		{"reason unknown", `{"items":[{"id":"b","reason":"luck"}]}`, "items[0].reason", nil},
		{"id invalid UTF-8", "{\"items\":[{\"id\":\"\xff\",\"reason\":\"trending\"}]}", "items[0].id", nil},
		{"trailing data", `{}{}`, "", ErrMalformed},
		{"too large", `{"index":"` + strings.Repeat("x", MaxBodyBytes) + `"}`, "", ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeRecommendResponseJSON([]byte(tt.body))
			switch {
			case tt.kind != nil:
				if !errors.Is(err, tt.kind) {
					t.Fatalf("err = %v, want %v", err, tt.kind)
				}
			case tt.field != "":
				wantFieldError(t, err, tt.field)
			case err != nil:
				t.Fatalf("err = %v, want nil", err)
			}
		})
	}
}

// TestJSONShapeCoversTypes guards the reflection-built schema: every JSON
// field name of the message types must be known to it.
func TestJSONShapeCoversTypes(t *testing.T) {
	names := func(s *jshape) map[string]bool {
		m := map[string]bool{}
		for _, f := range s.fields {
			m[f.name] = true
		}
		return m
	}
	req := names(requestShape)
	for _, n := range []string{"shop", "region", "placement", "item", "query", "events", "filters", "k", "now"} {
		if !req[n] {
			t.Errorf("request shape lacks %q", n)
		}
	}
	if got := requestShape.fields[5].shape.max; got != MaxEvents {
		t.Errorf("events limit %d, want %d", got, MaxEvents)
	}
	resp := names(responseShape)
	for _, n := range []string{"items", "index", "fallback"} {
		if !resp[n] {
			t.Errorf("response shape lacks %q", n)
		}
	}
}

func TestDecodeRequestJSONAllocations(t *testing.T) {
	for _, tt := range []struct {
		name string
		body []byte
	}{
		{"valid", mustJSON(t, validRequest())},
		{"max events", []byte(`{"placement":"for_you","events":` + jsonList(MaxEvents, `{"type":"view","item":"a","time":1}`) + `}`)},
		{"many tiny events", []byte(`{"placement":"for_you","events":` + jsonList(80000, `{}`) + `}`)},
		{"too large", []byte(strings.Repeat(" ", MaxBodyBytes+1))},
	} {
		n := allocated(10, func() { _, _ = DecodeRecommendRequestJSON(tt.body) })
		t.Logf("%s: %d input bytes, %d bytes allocated", tt.name, len(tt.body), n)
		if n > allocBound(len(tt.body)) {
			t.Errorf("%s: allocated %d bytes for %d input bytes, bound %d", tt.name, n, len(tt.body), allocBound(len(tt.body)))
		}
	}
}

func mustJSON(t testing.TB, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
