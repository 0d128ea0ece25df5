// Package workerd builds the Aisle Worker (cmd/worker) and runs it in
// workerd, the open-source Cloudflare Workers runtime, on loopback. The
// Worker's integration tests and `aisle bench edge` both use it, so that
// what is tested is what is measured.
//
// The workerd binary comes from the npm package
// @cloudflare/workerd-linux-64 that wrangler installs (`npm ci` at the
// repository root); Binary finds it, or a workerd on $PATH.
//
// A typical run:
//
//	root, _ := workerd.Root(".")
//	bin, _ := workerd.Binary(root)        // errors.Is(err, workerd.ErrNotInstalled) when absent
//	_ = workerd.Build(ctx, root, dir)     // cmd/worker/build.sh: app.wasm, wasm_exec.js, entry.mjs, bridge.mjs
//	cfg := workerd.DefaultConfig()
//	cfg.Binary, cfg.Build = bin, dir
//	cfg.Vars = map[string]string{"HUB_URL": hubURL, "EDGE_SECRET": secret, "REGION": "eu-west"}
//	p, _ := workerd.Start(ctx, cfg)       // returns once the socket accepts connections
//	defer p.Stop()
//	// talk to p.URL; p.CPU, p.ThreadCPU and p.Memory read /proc for the process.
//
// Start does not send a request: the Worker's Go program starts with the
// first request it receives, which lets callers measure (or count) that
// request themselves.
package workerd

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aisle-rec/aisle/edge"
)

// The files of a Worker build, as cmd/worker/build.sh writes them and the
// generated workerd configuration embeds them.
const (
	// EntryModule is the Worker's main module, which keeps one Go instance
	// per isolate.
	EntryModule = "entry.mjs"
	// GoSupport is the Go toolchain's wasm_exec.js.
	GoSupport = "wasm_exec.js"
	// Bridge is the byte bridge between EntryModule and the Go program.
	Bridge = "bridge.mjs"
	// Module is the edge compiled with GOOS=js GOARCH=wasm.
	Module = "app.wasm"
)

// modulePath is the module whose repository holds cmd/worker.
const modulePath = "github.com/aisle-rec/aisle"

// ErrNotInstalled is returned by Binary when no workerd can be found.
var ErrNotInstalled = errors.New("workerd is not installed: run `npm ci` at the repository root (it installs wrangler 4.86.0 and its workerd)")

// Root returns the repository root: the nearest directory at or above dir
// whose go.mod declares module github.com/aisle-rec/aisle.
func Root(dir string) (string, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("workerd: find repository root: %w", err)
	}
	for {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && declares(b, modulePath) {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("workerd: no go.mod of module %s at or above %s: run from the Aisle repository", modulePath, dir)
		}
		d = parent
	}
}

// declares reports whether go.mod text b declares module path.
func declares(b []byte, path string) bool {
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "module" && strings.Trim(f[1], `"`) == path {
			return true
		}
	}
	return false
}

// Binary returns the workerd executable: the one npm installs under root
// (node_modules/@cloudflare/workerd-linux-64/bin/workerd), else workerd on
// $PATH. It returns an error wrapping ErrNotInstalled when neither exists.
func Binary(root string) (string, error) {
	p := filepath.Join(root, "node_modules", "@cloudflare", "workerd-linux-64", "bin", "workerd")
	if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
		return p, nil
	}
	if lp, err := exec.LookPath("workerd"); err == nil {
		return lp, nil
	}
	return "", fmt.Errorf("%w (looked for %s and on $PATH)", ErrNotInstalled, p)
}

// Build builds the Worker into dir with cmd/worker/build.sh, the script
// wrangler.toml's [build] command runs: dir then holds Module, GoSupport,
// Bridge and EntryModule.
func Build(ctx context.Context, root, dir string) error {
	cmd := exec.CommandContext(ctx, "sh", filepath.Join(root, "cmd", "worker", "build.sh"), dir)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("workerd: build the Worker (cmd/worker/build.sh %s): %w\n%s", dir, err, out)
	}
	return nil
}

// ModuleSize returns the size of the Worker's module in a build directory,
// raw and gzip-compressed (default level, as the Workers size limit counts
// it).
func ModuleSize(dir string) (raw, gz int, err error) {
	b, err := os.ReadFile(filepath.Join(dir, Module))
	if err != nil {
		return 0, 0, fmt.Errorf("workerd: module size: %w", err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		return 0, 0, fmt.Errorf("workerd: gzip %s: %w", Module, err)
	}
	if err := zw.Close(); err != nil {
		return 0, 0, fmt.Errorf("workerd: gzip %s: %w", Module, err)
	}
	return len(b), buf.Len(), nil
}

// Config says how to run one workerd. Start from DefaultConfig and set
// Binary and Build.
type Config struct {
	// Binary is the workerd executable (see Binary). Required.
	Binary string
	// Build is a directory holding EntryModule, GoSupport and Module (see
	// Build). Required.
	Build string
	// Vars are the Worker's text bindings: its vars and secrets (HUB_URL,
	// EDGE_SECRET, REGION, ...).
	Vars map[string]string
	// KV is the base URL of an HTTP service standing in for the SNAPSHOTS
	// Workers KV namespace (workerd asks it GET /{url-encoded
	// key}?urlencoded=true); "" binds no SNAPSHOTS.
	KV string
	// CompatibilityDate is the Worker's compatibility date.
	CompatibilityDate string
	// StartTimeout bounds the wait for workerd's socket to accept
	// connections (config load and module compile). Must be positive.
	StartTimeout time.Duration
	// Log, when set, receives workerd's stdout and stderr as they come,
	// besides Process.Output.
	Log io.Writer
	// Inspector opens workerd's V8 inspector on a loopback port, for
	// Process.HeapUsage. A session connects only while HeapUsage runs.
	Inspector bool
}

// DefaultConfig returns a Config with every field but Binary, Build, Vars
// and KV set: the compatibility date wrangler.toml uses and a 60 s start
// timeout.
func DefaultConfig() Config {
	return Config{CompatibilityDate: "2026-04-01", StartTimeout: 60 * time.Second}
}

// Validate returns the first problem in c.
func (c Config) Validate() error {
	switch {
	case c.Binary == "":
		return errors.New("workerd: config: Binary is empty (see workerd.Binary)")
	case c.Build == "":
		return errors.New("workerd: config: Build is empty (see workerd.Build)")
	case c.CompatibilityDate == "":
		return errors.New("workerd: config: CompatibilityDate is empty")
	case c.StartTimeout <= 0:
		return fmt.Errorf("workerd: config: StartTimeout %v: want a positive duration", c.StartTimeout)
	}
	if c.KV != "" {
		if u, err := url.Parse(c.KV); err != nil || u.Host == "" {
			return fmt.Errorf("workerd: config: KV %q: want a base URL such as http://127.0.0.1:8080", c.KV)
		}
	}
	return nil
}

// Capnp returns the workerd configuration (Cap'n Proto text) that serves
// the Worker over HTTP on addr (host:port), with its bindings, an
// "internet" service for outbound fetches (the hub on loopback is
// private), and the SNAPSHOTS KV namespace when c.KV is set. The modules
// are embedded from the configuration file's directory.
func (c Config) Capnp(addr string) (string, error) {
	var services, bindings strings.Builder
	services.WriteString(`    (name = "aisle", worker = .aisle),
    (name = "internet", network = (allow = ["public", "private", "local"])),
`)
	for _, k := range slices.Sorted(maps.Keys(c.Vars)) {
		fmt.Fprintf(&bindings, "    (name = %s, text = %s),\n", strconv.Quote(k), strconv.Quote(c.Vars[k]))
	}
	if c.KV != "" {
		u, err := url.Parse(c.KV)
		if err != nil || u.Host == "" {
			return "", fmt.Errorf("workerd: config: KV %q: want a base URL", c.KV)
		}
		fmt.Fprintf(&services, "    (name = \"kv\", external = (address = %s, http = ())),\n", strconv.Quote(u.Host))
		bindings.WriteString("    (name = \"SNAPSHOTS\", kvNamespace = \"kv\"),\n")
	}
	return fmt.Sprintf(`using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
%s  ],
  sockets = [(name = "http", address = %s, http = (), service = "aisle")],
);

const aisle :Workerd.Worker = (
  modules = [
    (name = %q, esModule = embed %q),
    (name = %q, esModule = embed %q),
    (name = %q, esModule = embed %q),
    (name = %q, wasm = embed %q),
  ],
  compatibilityDate = %s,
  globalOutbound = "internet",
  bindings = [
%s  ],
);
`, services.String(), strconv.Quote(addr), EntryModule, EntryModule, GoSupport, GoSupport, Bridge, Bridge, Module, Module,
		strconv.Quote(c.CompatibilityDate), bindings.String()), nil
}

// Process is a running workerd serving the Worker. Stop it with Stop; it
// is also killed when the context given to Start is done.
type Process struct {
	// URL is the Worker's base URL, http://127.0.0.1:PORT.
	URL string
	// Dir is the directory holding the configuration and the modules; Stop
	// removes it.
	Dir string
	// Started is when the process was started.
	Started time.Time
	// Listening is when its socket first accepted a connection.
	Listening time.Time

	cmd       *exec.Cmd
	inspector string // host:port of the V8 inspector, "" without
	out       *syncBuffer
	exited    chan struct{}
	stopOnce  sync.Once
	stopErr   error
}

// Start writes a workerd configuration for cfg into a fresh temporary
// directory and starts workerd on a free loopback port. It returns once
// the port accepts connections; the Worker's Go program starts with the
// first request. A port taken between probing and binding is retried.
// ctx bounds the start and the process: when it is done, workerd is
// killed. Call Stop in every case.
func Start(ctx context.Context, cfg Config) (*Process, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var lastErr error
	for range 3 {
		p, retry, err := start(ctx, cfg)
		if err == nil {
			return p, nil
		}
		lastErr = err
		if !retry || ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

// start makes one attempt; retry says whether another might succeed.
func start(ctx context.Context, cfg Config) (p *Process, retry bool, err error) {
	dir, err := os.MkdirTemp("", "aisle-workerd-")
	if err != nil {
		return nil, false, fmt.Errorf("workerd: %w", err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	for _, f := range []string{EntryModule, GoSupport, Bridge, Module} {
		b, err := os.ReadFile(filepath.Join(cfg.Build, f))
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, f), b, 0o644)
		}
		if err != nil {
			return nil, false, fmt.Errorf("workerd: copy the Worker build: %w", err)
		}
	}
	port, err := freePort()
	if err != nil {
		return nil, false, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	text, err := cfg.Capnp(addr)
	if err != nil {
		return nil, false, err
	}
	conf := filepath.Join(dir, "config.capnp")
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		return nil, false, fmt.Errorf("workerd: write config: %w", err)
	}

	p = &Process{URL: "http://" + addr, Dir: dir, out: &syncBuffer{}, exited: make(chan struct{})}
	var out io.Writer = p.out
	if cfg.Log != nil {
		out = io.MultiWriter(p.out, cfg.Log)
	}
	args := []string{"serve", conf}
	if cfg.Inspector {
		ip, err := freePort()
		if err != nil {
			return nil, false, err
		}
		p.inspector = net.JoinHostPort("127.0.0.1", strconv.Itoa(ip))
		args = append(args, "--inspector-addr="+p.inspector)
	}
	p.cmd = exec.Command(cfg.Binary, args...)
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = out, out
	p.cmd.SysProcAttr = sysProcAttr()
	p.Started = time.Now()
	if err := p.cmd.Start(); err != nil {
		return nil, false, fmt.Errorf("workerd: start %s: %w", cfg.Binary, err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.exited)
	}()
	go func() {
		select {
		case <-ctx.Done():
			_ = p.cmd.Process.Kill()
		case <-p.exited:
		}
	}()

	deadline := time.Now().Add(cfg.StartTimeout)
	for {
		select {
		case <-p.exited:
			p.Stop()
			// Most likely the port was taken after freePort released it.
			return nil, true, fmt.Errorf("workerd: exited before listening on %s: %s", addr, p.Output())
		case <-ctx.Done():
			p.Stop()
			return nil, false, fmt.Errorf("workerd: start: %w", ctx.Err())
		default:
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			p.Listening = time.Now()
			return p, false, nil
		}
		if time.Now().After(deadline) {
			p.Stop()
			return nil, false, fmt.Errorf("workerd: not listening on %s within %v: %s", addr, cfg.StartTimeout, p.Output())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("workerd: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// PID returns workerd's process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Output returns what workerd has written to stdout and stderr so far.
func (p *Process) Output() string { return p.out.String() }

// Exited is closed when the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Stop kills workerd, waits for it to exit and removes its directory. It
// is safe to call more than once and from several goroutines; it returns
// the error of removing the directory, if any.
func (p *Process) Stop() error {
	p.stopOnce.Do(func() {
		_ = p.cmd.Process.Kill() // fails only if it has exited already
		<-p.exited
		if err := os.RemoveAll(p.Dir); err != nil {
			p.stopErr = fmt.Errorf("workerd: remove %s: %w", p.Dir, err)
		}
	})
	return p.stopErr
}

// Health asks the Worker for GET /v1/health with client (nil means
// http.DefaultClient) and decodes the answer. A status other than 200 is
// an error carrying the body.
func (p *Process) Health(ctx context.Context, client *http.Client) (edge.Health, error) {
	var h edge.Health
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/v1/health", nil)
	if err != nil {
		return h, fmt.Errorf("workerd: health: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return h, fmt.Errorf("workerd: health: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return h, fmt.Errorf("workerd: health: read: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return h, fmt.Errorf("workerd: health: %d %s", resp.StatusCode, bytes.TrimSpace(b))
	}
	if err := json.Unmarshal(b, &h); err != nil {
		return h, fmt.Errorf("workerd: health: %w: %s", err, b)
	}
	return h, nil
}

// syncBuffer is a bytes.Buffer safe for concurrent writes and reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
