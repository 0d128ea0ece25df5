package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aisle-rec/aisle/hub/publish"
	"github.com/aisle-rec/aisle/shared/snapshot"
)

// hubMode is how the fault hub answers.
type hubMode int

const (
	// hubNormal serves the store's snapshots and echoes chat.
	hubNormal hubMode = iota
	// hubSlow answers everything as hubNormal does, 5 s late.
	hubSlow
	// hubGarbage answers every route 200 with HTML, random bytes or JSON
	// of the wrong shape, in turn.
	hubGarbage
	// hubPointAt names the version set by pointAt and serves its bytes;
	// chat is answered normally.
	hubPointAt
)

// slowDelay is how late hubSlow answers.
const slowDelay = 5 * time.Second

// faultHub is a hub on a fixed loopback address whose behaviour can be
// switched while edges talk to it: the snapshot routes of publish.Handler
// over a store, chat and summarize routes that echo, and a report route
// that takes edges' traffic reports. It can be stopped
// (connections refused) and started again on the same address.
type faultHub struct {
	store  *publish.Store
	secret string
	url    string
	addr   string

	mode    atomic.Int32
	garbage atomic.Int64 // which kind of garbage comes next
	chats   atomic.Int64 // chat and summarize calls that reached the hub

	mu        sync.Mutex
	srv       *http.Server
	badName   string // hubPointAt: the version the pointer names
	badBytes  []byte // and its bytes
	snapshots http.Handler
}

// startFaultHub opens a store in dir and serves it on a free loopback port.
func startFaultHub(dir string) (*faultHub, error) {
	store, err := publish.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("hub store: %w", err)
	}
	var key [16]byte
	if _, err := rand.Read(key[:]); err != nil {
		return nil, err
	}
	h := &faultHub{store: store, secret: hex.EncodeToString(key[:])}
	h.snapshots = publish.Handler(store, h.secret)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	h.addr = ln.Addr().String()
	h.url = "http://" + h.addr
	h.serve(ln)
	return h, nil
}

func (h *faultHub) serve(ln net.Listener) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	h.mu.Lock()
	h.srv = srv
	h.mu.Unlock()
	go srv.Serve(ln)
}

// set switches the hub's behaviour.
func (h *faultHub) set(m hubMode) { h.mode.Store(int32(m)) }

// garble makes every route answer garbage; the pointer, when it is
// well-formed, names version.
func (h *faultHub) garble(version string) {
	h.mu.Lock()
	h.badName, h.badBytes = version, nil
	h.mu.Unlock()
	h.set(hubGarbage)
}

// pointAt makes the pointer name version and the hub serve b under it
// (hubPointAt).
func (h *faultHub) pointAt(version string, b []byte) {
	h.mu.Lock()
	h.badName, h.badBytes = version, b
	h.mu.Unlock()
	h.set(hubPointAt)
}

// stop closes the hub's listener and every connection: edges get
// "connection refused" until start.
func (h *faultHub) stop() {
	h.mu.Lock()
	srv := h.srv
	h.srv = nil
	h.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// start serves again on the same address, retrying for a few seconds if
// the port is not free yet.
func (h *faultHub) start() error {
	h.mu.Lock()
	running := h.srv != nil
	h.mu.Unlock()
	if running {
		return nil
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		ln, err := net.Listen("tcp", h.addr)
		if err == nil {
			h.serve(ln)
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("hub: listen again on %s: %w", h.addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ServeHTTP answers as the current mode says.
func (h *faultHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	mode := hubMode(h.mode.Load())
	if mode == hubSlow {
		t := time.NewTimer(slowDelay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	escalation := r.URL.Path == "/v1/chat" || r.URL.Path == "/v1/summarize"
	if escalation {
		h.chats.Add(1)
	}
	if mode == hubGarbage {
		h.writeGarbage(w, r, escalation)
		return
	}
	if escalation {
		h.echo(w, r)
		return
	}
	if r.URL.Path == "/v1/edge/report" { // edges' traffic reports: taken, not kept
		if r.Header.Get("Authorization") != "Bearer "+h.secret {
			http.Error(w, `{"error":"unauthorised"}`, http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if mode == hubPointAt && strings.HasPrefix(r.URL.Path, "/v1/snapshots/") && r.Header.Get("Authorization") == "Bearer "+h.secret {
		h.mu.Lock()
		name, b := h.badName, h.badBytes
		h.mu.Unlock()
		switch path.Base(r.URL.Path) {
		case "current":
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"version": name, "hash": name})
			return
		case name:
			w.Header().Set("Content-Type", "application/octet-stream")
			_, _ = w.Write(b)
			return
		}
	}
	h.snapshots.ServeHTTP(w, r)
}

// echo answers chat and summarize as a hub would, with a JSON object.
func (h *faultHub) echo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.Header.Get("Authorization") != "Bearer "+h.secret {
		http.Error(w, `{"error":"unauthorised"}`, http.StatusUnauthorized)
		return
	}
	var in struct {
		Message, Item, Region string
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		http.Error(w, `{"error":"bad json"}`, http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"answer": "echo: " + in.Message + in.Item, "region": in.Region})
}

// garbageHTML is what a proxy or a misrouted hub answers with 200.
const garbageHTML = "<!DOCTYPE html>\n<html><head><title>Welcome</title></head><body><h1>It works!</h1><p>This page is served instead of the hub.</p></body></html>\n"

// writeGarbage answers 200 with garbage, a different kind each time: HTML,
// random bytes, then for chat a JSON object cut short, for the pointer a
// JSON object of the wrong shape or (every other time) a well-formed
// pointer to the newer version, whose bytes then come back as garbage.
func (h *faultHub) writeGarbage(w http.ResponseWriter, r *http.Request, escalation bool) {
	n := h.garbage.Add(1)
	pointer := path.Base(r.URL.Path) == "current"
	switch {
	case pointer && n%2 == 0:
		h.mu.Lock()
		name := h.badName
		h.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"version": name, "hash": name})
	case n%3 == 0:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(garbageHTML))
	case n%3 == 1:
		b := make([]byte, 4096)
		_, _ = rand.Read(b)
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(b)
	case escalation:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"answer":"Here are three gift ide`))
	default:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"version":"<html>","hash":42,"items":"many"}` + "\n"))
	}
}

// fakeKV stands in for the Workers KV namespace that workerd's KV binding
// reads: GET /{url-encoded key}?urlencoded=true answers the value, or 404.
type fakeKV struct {
	mu   sync.Mutex
	vals map[string][]byte
	srv  *http.Server
	url  string
}

func startFakeKV() (*fakeKV, error) {
	kv := &fakeKV{vals: map[string][]byte{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fake KV: %w", err)
	}
	kv.url = "http://" + ln.Addr().String()
	kv.srv = &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			http.Error(w, "read-only", http.StatusMethodNotAllowed)
			return
		}
		key, err := url.PathUnescape(strings.TrimPrefix(r.URL.EscapedPath(), "/"))
		if err != nil {
			http.Error(w, "bad key", http.StatusBadRequest)
			return
		}
		kv.mu.Lock()
		v, ok := kv.vals[key]
		kv.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(v)
	})}
	go kv.srv.Serve(ln)
	return kv, nil
}

// publish stores b under its content key and points the region at it, as
// `aisle publish -kv` does (content first, pointer last).
func (kv *fakeKV) publish(region, version string, b []byte) {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	kv.vals[snapshot.KVContentKey(region, version)] = bytes.Clone(b)
	kv.vals[snapshot.KVPointerKey(region)] = snapshot.KVPointerValue(version, len(b))
}

// point sets only the region's pointer.
func (kv *fakeKV) point(region, version string) {
	kv.mu.Lock()
	kv.vals[snapshot.KVPointerKey(region)] = []byte(version)
	kv.mu.Unlock()
}

func (kv *fakeKV) close() { _ = kv.srv.Close() }

// waitCtx sleeps for d or until ctx is done.
func waitCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
