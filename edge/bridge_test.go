package edge

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"testing"
)

// TestBridgeRequest: requests that do not follow bridge.mjs's layout are
// refused with an error, whatever their bytes.
func TestBridgeRequest(t *testing.T) {
	good := func(body []byte, hasBody bool) []byte {
		var b []byte
		for _, s := range []string{"POST", "https://edge.example/v1/recommend?x=1"} {
			b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
			b = append(b, s...)
		}
		b = binary.LittleEndian.AppendUint32(b, 1)
		for _, s := range []string{"origin", "https://shop.example"} {
			b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
			b = append(b, s...)
		}
		if !hasBody {
			return binary.LittleEndian.AppendUint32(b, noBridgeBody)
		}
		b = binary.LittleEndian.AppendUint32(b, uint32(len(body)))
		return append(b, body...)
	}
	r, err := readBridgeRequest(good([]byte(`{"a":1}`), true))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r.Body)
	if r.Method != "POST" || r.URL.Path != "/v1/recommend" || r.URL.RawQuery != "x=1" || r.Header.Get("Origin") != "https://shop.example" ||
		string(body) != `{"a":1}` || r.ContentLength != 7 || r.Host != "edge.example" {
		t.Fatalf("parsed %s %s %v %q %d", r.Method, r.URL, r.Header, body, r.ContentLength)
	}
	if r, err := readBridgeRequest(good(nil, false)); err != nil || r.Body != http.NoBody {
		t.Fatalf("no body: %v, %v", r, err)
	}
	full := good([]byte(`{"a":1}`), true)
	for n := range len(full) {
		if _, err := readBridgeRequest(full[:n]); !errors.Is(err, errBridge) {
			t.Fatalf("cut to %d of %d bytes: %v; want errBridge", n, len(full), err)
		}
	}
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"byte after a bodiless request", append(good(nil, false), 0)},
		{"header count past the end", func() []byte { b := good(nil, false); binary.LittleEndian.PutUint32(b[4+4+4+37:], 1<<30); return b }()},
		{"string length past the end", func() []byte { b := good(nil, false); binary.LittleEndian.PutUint32(b, 1<<31); return b }()},
	} {
		if _, err := readBridgeRequest(tc.b); !errors.Is(err, errBridge) {
			t.Errorf("%s: %v; want errBridge", tc.name, err)
		}
	}
}

// FuzzBridgeRequest: any bytes parse or are refused with errBridge, never
// a panic; a request that parses re-encodes to one that parses the same.
func FuzzBridgeRequest(f *testing.F) {
	f.Add(encodeBridgeRequest("POST", "https://edge.example/v1/recommend", []string{"origin", "https://shop.example"}, []byte(`{"k":1}`), true))
	f.Add(encodeBridgeRequest("GET", "/v1/health", nil, nil, false))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := readBridgeRequest(b)
		if err != nil {
			if !errors.Is(err, errBridge) {
				t.Fatalf("error %v does not wrap errBridge", err)
			}
			return
		}
		var hs []string
		for k, vs := range r.Header {
			for _, v := range vs {
				hs = append(hs, k, v)
			}
		}
		body, _ := io.ReadAll(r.Body)
		again, err := readBridgeRequest(encodeBridgeRequest(r.Method, r.URL.String(), hs, body, len(body) > 0))
		if err != nil {
			t.Fatalf("re-encoded request does not parse: %v", err)
		}
		body2, _ := io.ReadAll(again.Body)
		if again.Method != r.Method || again.URL.String() != r.URL.String() || !bytes.Equal(body, body2) || len(again.Header) != len(r.Header) {
			t.Fatalf("round trip: %s %s %d headers %q; then %s %s %d headers %q", r.Method, r.URL, len(r.Header), body, again.Method, again.URL, len(again.Header), body2)
		}
	})
}

// encodeBridgeRequest writes a request as bridge.mjs does.
func encodeBridgeRequest(method, url string, headers []string, body []byte, hasBody bool) []byte {
	var b []byte
	str := func(s string) {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	str(method)
	str(url)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(headers)/2))
	for _, h := range headers {
		str(h)
	}
	if !hasBody {
		return binary.LittleEndian.AppendUint32(b, noBridgeBody)
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(body)))
	return append(b, body...)
}

// TestBridgeAnswer: an answer's bytes hold every header value and the body.
func TestBridgeAnswer(t *testing.T) {
	h := http.Header{"Content-Type": {"application/json"}, "X-Multi": {"a", "b"}}
	b := appendBridgeAnswer(nil, h, []byte("body"))
	if n := binary.LittleEndian.Uint32(b); n != 3 {
		t.Fatalf("header count %d; want 3", n)
	}
	if !bytes.HasSuffix(b, []byte("body")) || len(b) != 4+3*8+len("Content-Type")+len("application/json")+2*len("X-Multi")+2+4 {
		t.Fatalf("answer bytes %q", b)
	}
}
