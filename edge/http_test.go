package edge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aisle-rec/aisle/shared/snapshot"
)

const testSecret = "s3cret-edge-token"

// fakeHubServer is the hub's HTTP side: snapshots under a path prefix, chat
// and summarize; it refuses requests without the secret.
type fakeHubServer struct {
	mu       sync.Mutex
	pointer  string // body of the pointer answer
	blobs    map[string][]byte
	status   int // non-zero: answer every request with this status
	slow     bool
	release  chan struct{}
	paths    []string
	bodies   [][]byte
	ctypes   []string
	noLength bool // stream answers without Content-Length
}

func (s *fakeHubServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.paths = append(s.paths, r.Method+" "+r.URL.Path)
	s.bodies = append(s.bodies, body)
	s.ctypes = append(s.ctypes, r.Header.Get("Content-Type"))
	status, slow, pointer, noLength := s.status, s.slow, s.pointer, s.noLength
	s.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+testSecret {
		http.Error(w, "unauthorised", http.StatusUnauthorized)
		return
	}
	if slow {
		select {
		case <-r.Context().Done():
		case <-s.release:
		}
		return
	}
	if status != 0 {
		http.Error(w, "hub trouble", status)
		return
	}
	write := func(b []byte) {
		if noLength {
			w.Write(b[:1])
			w.(http.Flusher).Flush()
			b = b[1:]
		}
		w.Write(b)
	}
	p := strings.TrimPrefix(r.URL.Path, "/aisle")
	switch {
	case p == "/v1/snapshots/eu-west/current":
		write([]byte(pointer))
	case strings.HasPrefix(p, "/v1/snapshots/eu-west/"):
		b, ok := s.blobs[strings.TrimPrefix(p, "/v1/snapshots/eu-west/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		write(b)
	case p == "/v1/chat" || p == "/v1/summarize":
		write([]byte(`{"answer":"from the hub"}`))
	default:
		http.NotFound(w, r)
	}
}

func startHub(t *testing.T, bls ...blob) (*fakeHubServer, string) {
	t.Helper()
	s := &fakeHubServer{blobs: map[string][]byte{}, release: make(chan struct{})}
	for _, b := range bls {
		s.blobs[b.version] = b.b
		s.pointer = b.version + "\n"
	}
	srv := httptest.NewServer(s)
	t.Cleanup(func() {
		close(s.release)
		srv.Close()
	})
	return s, srv.URL + "/aisle/"
}

// TestHTTPSource covers the pointer formats, verification inputs, limits
// and failures of the hub client.
func TestHTTPSource(t *testing.T) {
	bl := synth(t, 1, 0, nil)
	tests := []struct {
		name     string
		pointer  string
		status   int
		noLength bool
		max      int64
		secret   string
		is       error
		mention  string
	}{
		{name: "plain pointer", pointer: bl.version + "\n"},
		{name: "json pointer", pointer: `{"version":"` + bl.version + `","built":1}`},
		{name: "streamed", pointer: bl.version, noLength: true},
		{name: "garbage pointer", pointer: "latest", is: ErrBadVersion},
		{name: "bad json pointer", pointer: `{"version":5}`, is: ErrBadVersion},
		{name: "huge pointer", pointer: strings.Repeat("a", MaxPointerBytes+1), is: ErrBodyTooLarge},
		{name: "huge streamed pointer", pointer: strings.Repeat("a", MaxPointerBytes+1), noLength: true, is: ErrBodyTooLarge},
		{name: "snapshot over MaxBytes", pointer: bl.version, max: int64(len(bl.b) - 1), is: ErrBodyTooLarge},
		{name: "streamed snapshot over MaxBytes", pointer: bl.version, noLength: true, max: int64(len(bl.b) - 1), is: ErrBodyTooLarge},
		{name: "hub error", status: 500, mention: "500"},
		{name: "wrong secret", pointer: bl.version, secret: "nope", mention: "401"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs, base := startHub(t, bl)
			hs.pointer, hs.status, hs.noLength = tt.pointer, tt.status, tt.noLength
			secret := testSecret
			if tt.secret != "" {
				secret = tt.secret
			}
			src, err := NewHTTPSource(base, testRegion, secret, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.max > 0 {
				src.MaxBytes = tt.max
			}
			var b []byte
			v, err := src.Pointer(context.Background())
			if err == nil {
				b, err = src.Fetch(context.Background(), v)
			}
			if tt.is == nil && tt.mention == "" {
				if err != nil {
					t.Fatal(err)
				}
				if v != bl.version || VerifySnapshot(v, b) != nil {
					t.Errorf("got version %q and %d bytes that do not verify", v, len(b))
				}
				hs.mu.Lock()
				defer hs.mu.Unlock()
				want := []string{"GET /aisle/v1/snapshots/eu-west/current", "GET /aisle/v1/snapshots/eu-west/" + bl.version}
				if fmt.Sprint(hs.paths) != fmt.Sprint(want) {
					t.Errorf("requests %v, want %v", hs.paths, want)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v, want %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not mention %q", err, tt.mention)
			}
			if strings.Contains(err.Error(), testSecret) {
				t.Errorf("error %q shows the secret", err)
			}
		})
	}
	// Fetch checks the version before building a URL from it.
	src, _ := NewHTTPSource("http://127.0.0.1:1", testRegion, "", nil)
	if _, err := src.Fetch(context.Background(), "../../admin"); !errors.Is(err, ErrBadVersion) {
		t.Errorf("fetch of a bad version: %v", err)
	}
}

// TestHTTPClientConfig checks the constructors' validation.
func TestHTTPClientConfig(t *testing.T) {
	for _, tt := range []struct{ base, region string }{
		{"", testRegion}, {"ftp://hub.example", testRegion}, {"hub.example", testRegion},
		{"https://user:pw@hub.example", testRegion}, {"https://hub.example/?x=1", testRegion},
		{"https://hub.example", ""}, {"https://hub.example", "eu/west"},
	} {
		if _, err := NewHTTPSource(tt.base, tt.region, testSecret, nil); err == nil {
			t.Errorf("NewHTTPSource(%q, %q) accepted", tt.base, tt.region)
		} else if strings.Contains(err.Error(), "pw") {
			t.Errorf("error shows credentials: %v", err)
		}
	}
	if _, err := NewHTTPHub("https://user:pw@hub.example", testSecret, nil); err == nil {
		t.Error("NewHTTPHub accepted credentials in the URL")
	}
	if _, err := NewHTTPSource("https://hub.example:8443/prefix/", testRegion, "", http.DefaultClient); err != nil {
		t.Errorf("valid base refused: %v", err)
	}
}

// TestHTTPHub covers the escalation client: what it sends, failures, and a
// slow hub bounded by the context.
func TestHTTPHub(t *testing.T) {
	hs, base := startHub(t)
	hub, err := NewHTTPHub(base, testSecret, nil)
	if err != nil {
		t.Fatal(err)
	}
	ans, err := hub.Chat(context.Background(), []byte(`{"message":"hi","region":"eu-west"}`))
	if err != nil || string(ans) != `{"answer":"from the hub"}` {
		t.Fatalf("chat: %q, %v", ans, err)
	}
	if _, err := hub.Summarize(context.Background(), []byte(`{"item":"SKU-1","region":"eu-west"}`)); err != nil {
		t.Fatal(err)
	}
	hs.mu.Lock()
	if fmt.Sprint(hs.paths) != "[POST /aisle/v1/chat POST /aisle/v1/summarize]" || hs.ctypes[0] != "application/json" ||
		string(hs.bodies[0]) != `{"message":"hi","region":"eu-west"}` {
		t.Errorf("hub saw %v %v %q", hs.paths, hs.ctypes, hs.bodies)
	}
	hs.status = 502
	hs.mu.Unlock()
	if _, err := hub.Chat(context.Background(), []byte(`{}`)); err == nil || !strings.Contains(err.Error(), "502") {
		t.Errorf("502: %v", err)
	}

	hs.mu.Lock()
	hs.status, hs.slow = 0, true
	hs.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := hub.Chat(ctx, []byte(`{}`)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("slow hub: %v, want context.DeadlineExceeded", err)
	}
}

// TestEdgeOverHTTP runs the edge against an HTTP hub end to end, and checks
// that neither visitor data nor the secret reach the logs.
func TestEdgeOverHTTP(t *testing.T) {
	b1, b2 := synth(t, 1, 0, nil), synth(t, 2, time.Hour, nil)
	hs, base := startHub(t, b1)
	src, err := NewHTTPSource(base, testRegion, testSecret, nil)
	if err != nil {
		t.Fatal(err)
	}
	hub, err := NewHTTPHub(base, testSecret, nil)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(&lockedWriter{w: &logs, mu: &logMu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	clk := newClock()
	cfg := testConfig()
	cfg.HubTimeout = 30 * time.Millisecond
	e, err := New(cfg, Deps{Source: src, Loader: NativeLoader{}, Hub: hub, Clock: clk.Now, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	defer srv.Close()

	const marker = "visitor-marker-7731"
	post := func(path, body string) (int, string) {
		t.Helper()
		resp, err := http.Post(srv.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	item := b1.snap.Items.IDs[0]
	code, body := post("/v1/recommend", fmt.Sprintf(`{"placement":"search","query":%q,"events":[{"type":"view","item":%q,"time":1}]}`, marker, item))
	if code != 200 || !strings.Contains(body, b1.version) {
		t.Fatalf("recommend: %d %s", code, body)
	}
	if code, body := post("/v1/chat", `{"message":"`+marker+`","email":"`+marker+`@example.com"}`); code != 200 || body != `{"answer":"from the hub"}` {
		t.Fatalf("chat: %d %s", code, body)
	}
	if code, _ := post("/v1/recommend", `{"placement":"for_you","events":[{"type":"`+marker+`"}]}`); code != 400 {
		t.Errorf("bad request: %d", code)
	}

	// Hub trouble: refresh fails (logged), chat degrades (logged).
	hs.mu.Lock()
	hs.blobs[b2.version] = b2.b
	hs.pointer = b2.version
	hs.status = 503
	hs.mu.Unlock()
	clk.Advance(time.Minute)
	if code, body := post("/v1/recommend", `{"placement":"trending"}`); code != 200 || !strings.Contains(body, b1.version) {
		t.Errorf("recommend during outage: %d %.100s", code, body)
	}
	if code, body := post("/v1/chat", `{"message":"`+marker+`"}`); code != 200 || !strings.Contains(body, `"degraded":true`) {
		t.Errorf("chat during outage: %d %s", code, body)
	}
	hs.mu.Lock()
	hs.status = 0
	hs.mu.Unlock()
	clk.Advance(time.Minute)
	if code, body := post("/v1/recommend", `{"placement":"trending"}`); code != 200 || !strings.Contains(body, b2.version) {
		t.Errorf("recommend after recovery: %d %.100s", code, body)
	}

	logMu.Lock()
	out := logs.String()
	logMu.Unlock()
	for _, want := range []string{"index loaded", "refresh failed", "degraded"} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %q:\n%s", want, out)
		}
	}
	for _, leak := range []string{marker, testSecret, "Bearer"} {
		if strings.Contains(out, leak) {
			t.Errorf("logs contain %q:\n%s", leak, out)
		}
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestEdgeStreamsOverHTTP(t *testing.T) {
	ctx := context.Background()
	b1, b2 := synth(t, 1, 0, nil), synth(t, 2, time.Hour, nil)
	hs, base := startHub(t, b1)
	src, err := NewHTTPSource(base, testRegion, testSecret, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, n, err := src.FetchStream(ctx, b1.version)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(body)
	body.Close()
	if err != nil || n != len(b1.b) || !bytes.Equal(got, b1.b) {
		t.Fatalf("FetchStream: %d bytes (%d declared), %v; want the %d bytes served", len(got), n, err, len(b1.b))
	}
	e, err := New(testConfig(), Deps{Source: src, Loader: NativeLoader{}, Clock: newClock().Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	serve := func(version string, b []byte) {
		hs.mu.Lock()
		defer hs.mu.Unlock()
		hs.blobs[version], hs.pointer = b, version
	}
	current := func() string { return e.cur.Load().r.Version() }

	// Bytes that do not hash to their version: a mismatch, fetched again
	// at the next check.
	bad := bytes.Clone(b2.b)
	bad[len(bad)/2] ^= 1
	serve(b2.version, bad)
	for range 2 {
		if err := e.Refresh(ctx); !errors.Is(err, ErrMismatch) {
			t.Fatalf("bytes that do not match their version: %v, want ErrMismatch", err)
		}
	}
	// A corrupt snapshot under its own hash: refused, the index kept.
	c := raw(bad)
	serve(c.version, c.b)
	if err := e.Refresh(ctx); !errors.Is(err, snapshot.ErrChecksum) || current() != b1.version {
		t.Fatalf("corrupt snapshot: %v, serving %.12s; want ErrChecksum and %.12s kept", err, current(), b1.version)
	}
	serve(b2.version, b2.b)
	if err := e.Refresh(ctx); err != nil || current() != b2.version {
		t.Fatalf("good snapshot after bad ones: %v, serving %.12s", err, current())
	}
}
