//go:build js && wasm

package edge

// These tests run under Node (GOOS=js GOARCH=wasm go test -exec ...), with
// globalThis.context = {env, ctx, binding} and the "workers.ready" import
// provided as entry.mjs provides them; cmd/worker's TestEdgeJS runs them (every test named TestJS...).
// workerd runs the rest of the Workers code in cmd/worker's tests.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"syscall/js"
	"testing"
	"time"

	"github.com/aisle-rec/aisle/shared/snapshot"
)

var (
	jsObject     = js.Global().Get("Object")
	jsPromise    = js.Global().Get("Promise")
	jsUint8Array = js.Global().Get("Uint8Array")
)

// fakeNamespace is a KV namespace binding backed by a Go map: get(key,
// {type: "arrayBuffer"}) resolves with an ArrayBuffer or null. A value of
// "!reject" makes its promise reject.
func fakeNamespace(t *testing.T, vals map[string][]byte) js.Value {
	ns := jsObject.New()
	get := js.FuncOf(func(_ js.Value, args []js.Value) any {
		key := args[0].String()
		typ := args[1].Get("type").String()
		if typ != "arrayBuffer" && typ != "stream" {
			t.Errorf("get(%q) with type %q; want arrayBuffer or stream", key, typ)
		}
		b, ok := vals[key]
		switch {
		case !ok:
			return jsPromise.Call("resolve", js.Null())
		case string(b) == "!reject":
			return jsPromise.Call("reject", js.Global().Get("Error").New("kv unavailable"))
		}
		arr := jsUint8Array.New(len(b))
		js.CopyBytesToJS(arr, b)
		if typ == "stream" {
			// A stream of 100-byte chunks.
			mk := js.Global().Get("Function").New("arr", `return new ReadableStream({
  start(c) { for (let i = 0; i < arr.length; i += 100) c.enqueue(arr.slice(i, i + 100)); c.close(); },
});`)
			return jsPromise.Call("resolve", mk.Invoke(arr))
		}
		return jsPromise.Call("resolve", arr.Get("buffer"))
	})
	t.Cleanup(get.Release)
	ns.Set("get", get)
	return ns
}

func TestJSKVSource(t *testing.T) {
	version := strings.Repeat("ab", 32)
	other := strings.Repeat("cd", 32)
	binary := make([]byte, 1000)
	for i := range binary {
		binary[i] = byte(i * 7) // every byte value, invalid UTF-8 included
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		pointer string // "" means no pointer key
		want    string
		err     error  // errors.Is target
		errText string // substring of the error
	}{
		{name: "plain", pointer: version + "\n", want: version},
		{name: "json", pointer: `{"version":"` + version + `"}`, want: version},
		{name: "missing", err: ErrKVMissing, errText: "snapshot:eu-west:pointer"},
		{name: "not hex", pointer: "latest", err: ErrBadVersion},
		{name: "bad json", pointer: `{"version":`, err: ErrBadVersion},
		{name: "rejects", pointer: "!reject", errText: "kv unavailable"},
	} {
		t.Run("pointer "+tc.name, func(t *testing.T) {
			vals := map[string][]byte{}
			if tc.pointer != "" {
				vals["snapshot:eu-west:pointer"] = []byte(tc.pointer)
			}
			s, err := NewKVSource(fakeNamespace(t, vals), "eu-west")
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Pointer(ctx)
			if tc.err == nil && tc.errText == "" {
				if err != nil || got != tc.want {
					t.Fatalf("Pointer() = %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			if err == nil || (tc.err != nil && !errors.Is(err, tc.err)) || !strings.Contains(err.Error(), tc.errText) {
				t.Fatalf("Pointer() error %v; want %v containing %q", err, tc.err, tc.errText)
			}
		})
	}

	s, err := NewKVSource(fakeNamespace(t, map[string][]byte{
		"snapshot:eu-west:" + version: binary,
	}), "eu-west")
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Fetch(ctx, version)
	if err != nil || !bytes.Equal(b, binary) {
		t.Fatalf("Fetch() = %d bytes, %v; want the %d stored bytes unchanged", len(b), err, len(binary))
	}
	if _, err := s.Fetch(ctx, other); !errors.Is(err, ErrKVMissing) {
		t.Fatalf("Fetch(absent) error %v; want ErrKVMissing", err)
	}
	if _, err := s.Fetch(ctx, "../pointer"); !errors.Is(err, ErrBadVersion) {
		t.Fatalf("Fetch(bad version) error %v; want ErrBadVersion", err)
	}
	s.MaxBytes = 999
	if _, err := s.Fetch(ctx, version); !errors.Is(err, ErrBodyTooLarge) {
		t.Fatalf("Fetch(over MaxBytes) error %v; want ErrBodyTooLarge", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Fetch(cancelled, version); !errors.Is(err, context.Canceled) {
		t.Fatalf("Fetch(cancelled) error %v; want context.Canceled", err)
	}

	// With the length in the pointer the value streams; a length that is
	// wrong fails the read, and the next fetch of that version reads the
	// value whole.
	vals := map[string][]byte{"snapshot:eu-west:" + version: binary}
	s, err = NewKVSource(fakeNamespace(t, vals), "eu-west")
	if err != nil {
		t.Fatal(err)
	}
	readStream := func(n int) ([]byte, int, error) {
		t.Helper()
		vals["snapshot:eu-west:pointer"] = snapshot.KVPointerValue(version, n)
		if v, err := s.Pointer(ctx); err != nil || v != version {
			t.Fatalf("Pointer() = %q, %v", v, err)
		}
		r, size, err := s.FetchStream(ctx, version)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		b, err := io.ReadAll(r)
		return b, size, err
	}
	if b, n, err := readStream(len(binary)); err != nil || n != len(binary) || !bytes.Equal(b, binary) {
		t.Fatalf("streamed: %d bytes of %d, %v; want the stored bytes", len(b), n, err)
	}
	if _, held := mustStream(t, s, ctx, version).(heldBody); held {
		t.Fatal("a pointer with the length: the value was read whole, not streamed")
	}
	if _, _, err := readStream(len(binary) - 1); !errors.Is(err, ErrBodyTooLarge) {
		t.Fatalf("streamed with a length one short: %v; want ErrBodyTooLarge", err)
	}
	if b, n, err := readStream(len(binary) - 1); err != nil || n != len(binary) || !bytes.Equal(b, binary) {
		t.Fatalf("after a wrong length: %d bytes of %d, %v; want the value read whole", len(b), n, err)
	}
	vals["snapshot:eu-west:pointer"] = []byte(version) // no length: whole
	if _, err := s.Pointer(ctx); err != nil {
		t.Fatal(err)
	}
	if _, held := mustStream(t, s, ctx, version).(heldBody); !held {
		t.Fatal("a plain pointer: the value was not read whole")
	}

	throwing := jsObject.New()
	throwing.Set("get", js.Global().Get("Function").New("throw new Error('kv exploded')"))
	if s, err := NewKVSource(throwing, "eu-west"); err != nil {
		t.Fatal(err)
	} else if _, err := s.Pointer(ctx); err == nil || !strings.Contains(err.Error(), "kv exploded") {
		t.Fatalf("Pointer() with a throwing get: %v; want the thrown message", err)
	}

	if _, err := NewKVSource(js.ValueOf("not a namespace"), "eu-west"); err == nil {
		t.Fatal("NewKVSource(string) succeeded")
	}
	if _, err := NewKVSource(fakeNamespace(t, nil), "eu west"); err == nil {
		t.Fatal("NewKVSource(bad region) succeeded")
	}
}

// mustStream is s.FetchStream(ctx, version)'s reader.
func mustStream(t *testing.T, s *KVSource, ctx context.Context, version string) io.ReadCloser {
	t.Helper()
	r, _, err := s.FetchStream(ctx, version)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// never is a promise that never settles.
func never() js.Value {
	f := js.FuncOf(func(js.Value, []js.Value) any { return nil })
	defer f.Release()
	return jsPromise.New(f)
}

func TestJSAwait(t *testing.T) {
	ctx := context.Background()
	v, err := await(ctx, jsPromise.Call("resolve", 42))
	if err != nil || v.Int() != 42 {
		t.Fatalf("await(resolved 42) = %v, %v", v, err)
	}
	_, err = await(ctx, jsPromise.Call("reject", js.Global().Get("Error").New("boom")))
	if !errors.Is(err, errPromise) || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("await(rejected) error %v; want errPromise with the message", err)
	}

	// A wait that never settles is abandoned by a request arriving after
	// AwaitLimit, and only then.
	done := make(chan error, 1)
	go func() {
		_, err := await(ctx, never())
		done <- err
	}()
	for inFlightLen() == 0 {
		time.Sleep(time.Millisecond)
	}
	abandonOverdue(time.Now().Add(AwaitLimit / 2))
	select {
	case err := <-done:
		t.Fatalf("await ended before AwaitLimit: %v", err)
	default:
	}
	abandonOverdue(time.Now().Add(AwaitLimit + time.Second))
	if err := <-done; !errors.Is(err, ErrAbandoned) {
		t.Fatalf("overdue await error %v; want ErrAbandoned", err)
	}
	if n := inFlightLen(); n != 0 {
		t.Fatalf("%d waits still registered", n)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := await(cancelled, never()); !errors.Is(err, context.Canceled) {
		t.Fatalf("await(cancelled ctx) error %v; want context.Canceled", err)
	}
}

func inFlightLen() int {
	inFlight.Lock()
	defer inFlight.Unlock()
	return len(inFlight.m)
}

// TestServeWorkers drives binding.serve as entry.mjs does.
func TestJSServeWorkers(t *testing.T) {
	binding := js.Global().Get("context").Get("binding")
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/panic":
			panic("test panic")
		case "/empty":
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Add("X-Multi", "a")
		w.Header().Add("X-Multi", "b")
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{
			"method": r.Method, "path": r.URL.Path, "query": r.URL.RawQuery,
			"origin": r.Header.Get("Origin"), "len": r.ContentLength, "body": string(body),
		})
	})
	go ServeWorkers(h, nil)
	for binding.Get("serve").Type() != js.TypeFunction {
		time.Sleep(time.Millisecond)
	}

	type answer struct {
		status  int
		headers map[string][]string
		body    []byte
	}
	bridge := js.Global().Get("aisleBridge")
	call := func(method, url string, headers []any, body []byte) answer {
		t.Helper()
		ch := make(chan answer, 1)
		onAnswer := js.FuncOf(func(_ js.Value, args []js.Value) any {
			if !args[0].IsNull() {
				t.Errorf("bridge: %s", jsErrorString(args[0]))
				ch <- answer{}
				return nil
			}
			out := args[2]
			a := answer{status: args[1].Int(), headers: map[string][]string{}}
			hs := out.Get("headers")
			for i := 0; i+1 < hs.Length(); i += 2 {
				k := hs.Index(i).String()
				a.headers[k] = append(a.headers[k], hs.Index(i+1).String())
			}
			a.body = make([]byte, out.Get("body").Get("byteLength").Int())
			js.CopyBytesToGo(a.body, out.Get("body"))
			ch <- a
			return nil
		})
		defer onAnswer.Release()
		jsBody := js.Null()
		if body != nil {
			jsBody = jsUint8Array.New(len(body))
			js.CopyBytesToJS(jsBody, body)
		}
		bridge.Call("request", binding, method, url, js.ValueOf(headers), jsBody, onAnswer)
		return <-ch
	}

	a := call("POST", "https://edge.example/v1/echo?x=1", []any{"origin", "https://shop.example", "content-type", "application/json"}, []byte(`{"k":1}`))
	var got map[string]any
	if err := json.Unmarshal(a.body, &got); err != nil {
		t.Fatalf("%d %q: %v", a.status, a.body, err)
	}
	if a.status != 201 || got["method"] != "POST" || got["path"] != "/v1/echo" || got["query"] != "x=1" ||
		got["origin"] != "https://shop.example" || got["len"] != float64(7) || got["body"] != `{"k":1}` {
		t.Fatalf("echo: %d %s", a.status, a.body)
	}
	if m := a.headers["X-Multi"]; len(m) != 2 {
		t.Fatalf("X-Multi headers %q; want both values", m)
	}

	if a := call("GET", "https://edge.example/empty", nil, nil); a.status != 204 || len(a.body) != 0 {
		t.Fatalf("empty: %d %q", a.status, a.body)
	}
	if a := call("GET", "https://edge.example/panic", nil, nil); a.status != 500 || !strings.Contains(string(a.body), "internal error") {
		t.Fatalf("panic: %d %q; want 500", a.status, a.body)
	}
	if a := call("GET", "%zz", nil, nil); a.status != 400 {
		t.Fatalf("bad url: %d %q; want 400", a.status, a.body)
	}
	if usage := binding.Call("serve", "GET"); usage.Type() != js.TypeString {
		t.Fatalf("serve with too few arguments returned %v; want a usage message", usage)
	}
	// A length past the buffer is refused, not read.
	if usage := binding.Call("serve", 1, binding.Get("io").Length()+1); usage.Type() != js.TypeString {
		t.Fatalf("serve with a length past binding.io returned %v; want a usage message", usage)
	}

	// A body larger than binding.io grows it, both ways, byte for byte.
	big := bytes.Repeat([]byte("0123456789abcdef"), 20000) // 320,000 bytes
	if a := call("PUT", "https://edge.example/v1/echo", []any{"x-h", "ünïcode ✓"}, big); a.status != 201 {
		t.Fatalf("big body: %d", a.status)
	} else {
		var got map[string]any
		if err := json.Unmarshal(a.body, &got); err != nil || got["body"] != string(big) || got["len"] != float64(len(big)) {
			t.Fatalf("big body: echoed %d bytes (%v); want the %d sent", len(a.body), err, len(big))
		}
	}
	if n := binding.Get("io").Length(); n < len(big) {
		t.Fatalf("binding.io is %d bytes after a %d-byte request", n, len(big))
	}
}
