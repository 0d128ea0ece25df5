package publish

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aisle-rec/aisle/shared/snapshot"
)

// fakeKV speaks the subset of the Cloudflare API that publishing uses:
// PUT /client/v4/accounts/{account}/storage/kv/namespaces/{ns}/values/{key}
// with a bearer token, answering in the API's JSON envelope.
type fakeKV struct {
	mu      sync.Mutex
	account string
	ns      string
	token   string
	failKey string // writes to this key fail with an API error
	order   []string
	values  map[string][]byte
}

func (f *fakeKV) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	fail := func(code, apiCode int, msg string) {
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(map[string]any{"success": false, "errors": []map[string]any{{"code": apiCode, "message": msg}}, "messages": []any{}, "result": nil})
	}
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		fail(http.StatusForbidden, 10000, "Authentication error")
		return
	}
	prefix := "/client/v4/accounts/" + f.account + "/storage/kv/namespaces/" + f.ns + "/values/"
	key, ok := strings.CutPrefix(r.URL.EscapedPath(), prefix)
	if r.Method != http.MethodPut || !ok {
		fail(http.StatusNotFound, 7003, "Could not route to "+r.URL.Path)
		return
	}
	key = strings.ReplaceAll(key, "%3A", ":")
	if key == f.failKey {
		fail(http.StatusBadRequest, 10011, "could not write value")
		return
	}
	b, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.order = append(f.order, key)
	f.values[key] = b
	f.mu.Unlock()
	json.NewEncoder(w).Encode(map[string]any{"success": true, "errors": []any{}, "messages": []any{}, "result": nil})
}

func TestKVPublishOrder(t *testing.T) {
	f := &fakeKV{account: "acc1", ns: "ns1", token: "tok", values: map[string][]byte{}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	cfg := KVConfig{AccountID: "acc1", NamespaceID: "ns1", Token: "tok", BaseURL: srv.URL + "/client/v4"}
	kv, err := NewKV(cfg, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	b := snap(t, "eu", 1)
	v, err := kv.Publish(context.Background(), "eu", b)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{snapshot.KVContentKey("eu", v), snapshot.KVPointerKey("eu")}
	if strings.Join(f.order, ",") != strings.Join(want, ",") {
		t.Fatalf("writes %v, want content first then pointer %v", f.order, want)
	}
	if string(f.values[want[0]]) != string(b) || string(f.values[want[1]]) != string(snapshot.KVPointerValue(v, len(b))) {
		t.Fatalf("stored values differ from the snapshot and its pointer: pointer %s", f.values[want[1]])
	}

	// A failed content write leaves the pointer where it was.
	b2 := snap(t, "eu", 2)
	info, _ := snapshot.ReadInfo(b2, snapshot.DefaultLimits())
	f.failKey = snapshot.KVContentKey("eu", info.Version)
	if _, err := kv.Publish(context.Background(), "eu", b2); err == nil || !strings.Contains(err.Error(), "could not write value") {
		t.Fatalf("failed content write: %v", err)
	}
	if string(f.values[snapshot.KVPointerKey("eu")]) != string(snapshot.KVPointerValue(v, len(b))) {
		t.Fatal("pointer moved although the content write failed")
	}

	// Refusals before any write.
	for name, tc := range map[string]struct {
		region string
		b      []byte
	}{
		"other region": {"us", snap(t, "eu", 3)},
		"corrupt":      {"eu", b[:len(b)-1]},
	} {
		n := len(f.order)
		if _, err := kv.Publish(context.Background(), tc.region, tc.b); err == nil || len(f.order) != n {
			t.Errorf("%s: err %v, %d writes", name, err, len(f.order)-n)
		}
	}

	bad, _ := NewKV(KVConfig{AccountID: "acc1", NamespaceID: "ns1", Token: "wrong", BaseURL: srv.URL + "/client/v4"}, srv.Client())
	if _, err := bad.Publish(context.Background(), "eu", b); err == nil {
		t.Fatal("wrong token accepted")
	}
	if _, err := NewKV(KVConfig{AccountID: "a", NamespaceID: "n"}, nil); err == nil || !strings.Contains(err.Error(), "CLOUDFLARE_API_TOKEN") {
		t.Fatalf("missing token: %v", err)
	}
}
