package workerd

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     time.Duration
		err      bool
	}{
		{"plain", "4242 (workerd) S 1 4242 1 0 -1 4194560 1 0 0 0 150 37 0 0 20 0 9 0 1 2 3", 1870 * time.Millisecond, false},
		{"name with spaces and parens", "7 (a) b (c)) R 1 7 1 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 1 2 3", 70 * time.Millisecond, false},
		{"no name", "4242 workerd S 1", 0, true},
		{"short", "4242 (workerd) S 1 2 3", 0, true},
		{"not a number", "4242 (workerd) S 1 4242 1 0 -1 4194560 1 0 0 0 x 37 0 0", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStat([]byte(tc.in))
			if (err != nil) != tc.err || got != tc.want {
				t.Fatalf("parseStat(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.err)
			}
		})
	}
}

func TestParseSchedstat(t *testing.T) {
	got, err := parseSchedstat([]byte("123456789 1000 42\n"))
	if err != nil || got != 123456789 {
		t.Fatalf("got %v, %v; want 123456789ns", got, err)
	}
	for _, in := range []string{"", "x 1 2", "-5 1 2"} {
		if _, err := parseSchedstat([]byte(in)); err == nil {
			t.Errorf("parseSchedstat(%q): no error", in)
		}
	}
}

func TestParseStatus(t *testing.T) {
	in := "Name:\tworkerd\nVmPeak:\t 999 kB\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nThreads:\t9\n"
	got, err := parseStatus([]byte(in))
	if err != nil || got != (Memory{RSS: 100 << 20, Peak: 200 << 20}) {
		t.Fatalf("got %+v, %v; want RSS 100 MiB, peak 200 MiB", got, err)
	}
	for _, in := range []string{"Name:\tx\n", "VmRSS:\t12 MB\nVmHWM:\t1 kB\n", "VmRSS:\tx kB\nVmHWM:\t1 kB\n"} {
		if _, err := parseStatus([]byte(in)); err == nil {
			t.Errorf("parseStatus(%q): no error", in)
		}
	}
}

func TestCapnp(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Binary, cfg.Build = "workerd", "build"
	cfg.Vars = map[string]string{"REGION": "eu-west", "HUB_URL": `http://127.0.0.1:9/"quoted"`}
	cfg.KV = "http://127.0.0.1:4567"
	text, err := cfg.Capnp("127.0.0.1:8787")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`address = "127.0.0.1:8787", http = (), service = "aisle"`,
		`(name = "entry.mjs", esModule = embed "entry.mjs")`,
		`(name = "app.wasm", wasm = embed "app.wasm")`,
		`compatibilityDate = "2026-04-01"`,
		`(name = "HUB_URL", text = "http://127.0.0.1:9/\"quoted\""),` + "\n    " + `(name = "REGION", text = "eu-west")`, // sorted, escaped
		`(name = "kv", external = (address = "127.0.0.1:4567", http = ()))`,
		`(name = "SNAPSHOTS", kvNamespace = "kv")`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("config lacks %s:\n%s", want, text)
		}
	}
	cfg.KV = ""
	if text, _ := cfg.Capnp("127.0.0.1:1"); strings.Contains(text, "SNAPSHOTS") {
		t.Errorf("config without KV binds SNAPSHOTS:\n%s", text)
	}
}

func TestValidate(t *testing.T) {
	ok := DefaultConfig()
	ok.Binary, ok.Build = "workerd", "build"
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"ok", func(*Config) {}, ""},
		{"no binary", func(c *Config) { c.Binary = "" }, "Binary"},
		{"no build", func(c *Config) { c.Build = "" }, "Build"},
		{"no date", func(c *Config) { c.CompatibilityDate = "" }, "CompatibilityDate"},
		{"no timeout", func(c *Config) { c.StartTimeout = 0 }, "StartTimeout"},
		{"bad kv", func(c *Config) { c.KV = "not a url" }, "KV"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.edit(&c)
			err := c.Validate()
			if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("Validate() = %v; want an error naming %q", err, tc.want)
			}
		})
	}
}

func TestRoot(t *testing.T) {
	r, err := Root(".")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(r, "cmd", "worker", "build.sh")); err != nil {
		t.Fatalf("Root = %s, which has no cmd/worker/build.sh: %v", r, err)
	}
	if _, err := Root(t.TempDir()); err == nil {
		t.Fatal("Root of a directory outside the repository: no error")
	}
}

// TestStart runs workerd on a stand-in build (a few lines of JavaScript,
// no Go) and checks the bindings reach it, /proc reads, and Stop.
func TestStart(t *testing.T) {
	root, err := Root(".")
	if err != nil {
		t.Fatal(err)
	}
	bin, err := Binary(root)
	if errors.Is(err, ErrNotInstalled) {
		if os.Getenv("AISLE_REQUIRE_WORKERD") == "1" {
			t.Fatal(err.Error() + " (AISLE_REQUIRE_WORKERD=1)")
		}
		t.Skip(err)
	}
	build := t.TempDir()
	files := map[string]string{
		EntryModule: `let held = null;
export default {
  async fetch(req, env) {
    switch (new URL(req.url).pathname) {
    case "/v1/health":
      return Response.json({ region: env.REGION, loaded: false, requests: 1 });
    case "/hold": // 8 MiB of ArrayBuffer, kept
      held = new Uint8Array(8 << 20).fill(1);
      return new Response("held");
    case "/drop":
      held = null;
      return new Response("dropped");
    }
    return new Response("not found", { status: 404 });
  },
};
`,
		GoSupport: "export {};\n",
		Bridge:    "export {};\n",
		Module:    "\x00asm\x01\x00\x00\x00", // an empty module
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(build, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if raw, gz, err := ModuleSize(build); err != nil || raw != 8 || gz <= 0 {
		t.Fatalf("ModuleSize = %d, %d, %v; want 8 raw and a positive gzip size", raw, gz, err)
	}

	cfg := DefaultConfig()
	cfg.Binary, cfg.Build = bin, build
	cfg.Vars = map[string]string{"REGION": "test-region"}
	cfg.Inspector = true
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	p, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	if !p.Listening.After(p.Started) || !strings.HasPrefix(p.URL, "http://127.0.0.1:") {
		t.Fatalf("started %v, listening %v, URL %s", p.Started, p.Listening, p.URL)
	}
	h, err := p.Health(ctx, nil)
	if err != nil || h.Region != "test-region" {
		t.Fatalf("Health = %+v, %v; want region test-region from the binding", h, err)
	}
	if _, err := p.CPU(); err != nil {
		t.Errorf("CPU: %v", err)
	}
	if d, err := p.ThreadCPU(); err != nil || d.Main <= 0 || d.All < d.Main {
		t.Errorf("ThreadCPU = %+v, %v; want positive times, all threads at least the main one", d, err)
	}
	if m, err := p.Memory(); err != nil || m.RSS <= 0 || m.Peak < m.RSS {
		t.Errorf("Memory = %+v, %v", m, err)
	}

	// The inspector sees an 8 MiB buffer the Worker holds, and no longer
	// once it is dropped and V8 has collected it.
	get := func(path string) {
		t.Helper()
		resp, err := http.Get(p.URL + path)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %v %v", path, resp, err)
		}
		resp.Body.Close()
	}
	get("/hold")
	held, err := p.HeapUsage(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if held.BackingStores < 8<<20 || held.Used <= 0 || held.Total < held.Used {
		t.Fatalf("HeapUsage while holding 8 MiB = %+v; want at least 8 MiB of backing stores", held)
	}
	get("/drop")
	dropped, err := p.HeapUsage(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if dropped.BackingStores > held.BackingStores-(8<<20) {
		t.Fatalf("HeapUsage after dropping 8 MiB and collecting = %+v; held %+v", dropped, held)
	}

	// Cancelling the context kills workerd; Stop then cleans up.
	cancel()
	select {
	case <-p.Exited():
	case <-time.After(10 * time.Second):
		t.Fatal("workerd still running 10 s after its context was cancelled")
	}
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Stop left %s: %v", p.Dir, err)
	}
}
