package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aisle-rec/aisle/edge"
	"github.com/aisle-rec/aisle/hub/assistant"
	"github.com/aisle-rec/aisle/hub/assistant/chat"
	"github.com/aisle-rec/aisle/hub/build"
	"github.com/aisle-rec/aisle/hub/catalog"
	"github.com/aisle-rec/aisle/hub/dashboard"
	"github.com/aisle-rec/aisle/hub/fleet"
	"github.com/aisle-rec/aisle/hub/ingest"
	"github.com/aisle-rec/aisle/hub/publish"
	"github.com/aisle-rec/aisle/hub/server"
	"github.com/aisle-rec/aisle/hub/store"
	"github.com/aisle-rec/aisle/shared/snapshot"
	"github.com/aisle-rec/aisle/web"
	"github.com/aisle-rec/aisle/web/demostore"
)

// demoRegions are the local edge regions the demo starts.
var demoRegions = []string{"eu", "us"}

// demoShop is the bundled shop's id in the demo's store.
const demoShop = "toys"

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", "demo [-data DIR] [-addr HOST:PORT] [flags]", stderr)
	dataDir := fs.String("data", filepath.Join(".aisle", "demo"), "`DIR` for the demo's data (built once, reused by later runs)")
	addr := fs.String("addr", "127.0.0.1:8080", "store address `HOST:PORT`; the hub and the edges take the following ports unless set")
	hubAddr := fs.String("hub-addr", "", "hub address `HOST:PORT` (default: the store port + 1)")
	edgeAddr := fs.String("edge-addr", "", "first edge address `HOST:PORT`, one port per region (default: the store port + 2)")
	engine := fs.String("engine", "wasm", "how local edges rank: `wasm` (the ranking core as a WebAssembly module under wazero, as self-hosted edges run) or native")
	rebuild := fs.Bool("rebuild", false, "rebuild the index even if the data directory has a current one")
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fs.usageErr("unexpected argument %q", fs.Arg(0))
	}
	host, port, err := splitAddr(*addr)
	if err != nil {
		return fs.usageErr("-addr: %v", err)
	}
	if *hubAddr == "" {
		*hubAddr = net.JoinHostPort(host, strconv.Itoa(port+1))
	}
	if *edgeAddr == "" {
		*edgeAddr = net.JoinHostPort(host, strconv.Itoa(port+2))
	}
	ehost, eport, err := splitAddr(*edgeAddr)
	if err != nil {
		return fs.usageErr("-edge-addr: %v", err)
	}
	loader, closeLoader, err := newLoader(ctx, *engine, *dataDir)
	if err != nil {
		return fs.usageErr("-engine: %v", err)
	}
	defer closeLoader()

	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	shops, store, err := buildDemo(ctx, *dataDir, *rebuild, stdout, stderr)
	if err != nil {
		return err
	}
	defer shops.Close()
	secret, err := demoSecret(*dataDir)
	if err != nil {
		return err
	}

	// Listen on every address first, so a busy port fails before anything runs.
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	listen := func(a string) (net.Listener, error) {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			return nil, fmt.Errorf("listen on %s: %w (choose other ports with -addr, -hub-addr, -edge-addr)", a, err)
		}
		lns = append(lns, ln)
		return ln, nil
	}
	storeLn, err := listen(*addr)
	if err != nil {
		return err
	}
	hubLn, err := listen(*hubAddr)
	if err != nil {
		return err
	}
	storeURL := "http://" + storeLn.Addr().String()
	hubURL := "http://" + hubLn.Addr().String()

	var servers []*http.Server
	serve := func(ln net.Listener, h http.Handler) {
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		servers = append(servers, srv)
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				logger.Error("server stopped", "addr", ln.Addr().String(), "err", err)
			}
		}()
	}
	adminToken, err := demoToken(ctx, shops)
	if err != nil {
		return err
	}
	reports, problems, err := fleet.Open(filepath.Join(*dataDir, "fleet"), nil)
	if err != nil {
		return err
	}
	for _, p := range problems {
		logger.Warn("demo: edge reports not loaded", "err", p)
	}
	helper, err := chat.New(chat.Config{Store: shops, Snapshots: store, Regions: demoRegions, Logger: logger})
	if err != nil {
		return err
	}
	go func() {
		// Train the assistant's intent model before the first visitor asks.
		if err := helper.Warm(ctx, demoShop); err != nil && ctx.Err() == nil {
			logger.Warn("demo: assistant not warmed", "err", err)
		}
	}()
	sums := assistant.NewSummaries(shops, secret, logger)
	hub, err := server.New(server.Deps{Snapshots: store, EdgeSecret: secret, Regions: demoRegions, Admin: ingest.AdminHandler(shops, logger), Summaries: sums, Logger: logger, Limits: server.DefaultLimits(),
		EdgeReports: fleet.Handler(reports, secret), Chat: assistant.NewChat(helper, secret, logger),
		Dashboard: dashboard.New(dashboard.Deps{Store: shops, Snapshots: store, Regions: demoRegions, Logger: logger, Edges: reports, Intents: helper.IntentCounts, Sentiment: sums.Scorer})})
	if err != nil {
		return err
	}
	serve(hubLn, hub)

	edges := map[string]string{}
	for i, region := range demoRegions {
		ln, err := listen(net.JoinHostPort(ehost, strconv.Itoa(eport+i)))
		if err != nil {
			return err
		}
		src, err := edge.NewHTTPSource(hubURL, region, secret, &http.Client{Timeout: 30 * time.Second})
		if err != nil {
			return err
		}
		cfg := edge.DefaultConfig()
		cfg.Region = region
		cfg.AllowedOrigins = []string{storeURL}
		cfg.RefreshEvery = 5 * time.Second
		cfg.ReportEvery = 10 * time.Second // the dashboard shows traffic soon after a visit
		hubc, err := edge.NewHTTPHub(hubURL, secret, &http.Client{})
		if err != nil {
			return err
		}
		e, err := edge.New(cfg, edge.Deps{Source: src, Loader: loader, Hub: hubc, Logger: logger.With("edge", region), Background: inBackground})
		if err != nil {
			return err
		}
		if err := e.Refresh(ctx); err != nil {
			return fmt.Errorf("edge %s: first load: %w", region, err)
		}
		serve(ln, e)
		edges[region] = "http://" + ln.Addr().String()
	}

	var products []catalog.Product
	if err := catalog.ReadProducts(web.DemoCatalog(), "catalog.jsonl", func(p catalog.Product) error {
		products = append(products, p)
		return nil
	}); err != nil {
		return err
	}
	var reviews []catalog.Review
	if err := catalog.ReadReviews(web.DemoReviews(), "reviews.jsonl", func(r catalog.Review) error {
		reviews = append(reviews, r)
		return nil
	}); err != nil {
		return err
	}
	shop, err := demostore.New(products, reviews, edges, demoRegions)
	if err != nil {
		return err
	}
	serve(storeLn, shop)

	fmt.Fprintf(stdout, "\nAisle demo is running (engine: %s). Press Ctrl-C to stop.\n\n", *engine)
	fmt.Fprintf(stdout, "  store  %s\n", storeURL)
	fmt.Fprintf(stdout, "  hub    %s  (snapshots; edge secret in %s)\n", hubURL, filepath.Join(*dataDir, "edge-secret"))
	for _, region := range demoRegions {
		fmt.Fprintf(stdout, "  edge   %s  region %s   (store through this edge: %s/?region=%s)\n", edges[region], region, storeURL, region)
	}
	// The token is new on every run; in a browser it travels in the URL
	// (see hub/dashboard for the trade-off), scripts send it as a header.
	fmt.Fprintf(stdout, "  dashboard  %s/dashboard?shop=%s&token=%s\n", hubURL, demoShop, adminToken)
	fmt.Fprintf(stdout, "             or: curl -H 'Authorization: Bearer %s' '%s/dashboard?shop=%s'\n", adminToken, hubURL, demoShop)
	fmt.Fprintf(stdout, "\nTry: curl -s %s/v1/recommend -d '{\"placement\":\"trending\",\"k\":3}'\n", edges[demoRegions[0]])

	<-ctx.Done()
	fmt.Fprintln(stdout, "\nshutting down")
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, srv := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = srv.Shutdown(shut)
		}()
	}
	wg.Wait()
	return nil
}

func splitAddr(a string) (string, int, error) {
	host, p, err := net.SplitHostPort(a)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 1 || port > 65535-len(demoRegions)-2 {
		return "", 0, fmt.Errorf("port %q out of range", p)
	}
	return host, port, nil
}

// demoManifest records what the demo's published snapshots were built
// from, so a later run can reuse them.
type demoManifest struct {
	Catalog  string            `json:"catalog_sha256"`
	Format   int               `json:"snapshot_format"`
	Versions map[string]string `json:"versions"`
}

// demoToken gives the demo shop a fresh admin token (the bundled shop is
// created without one) for the dashboard and the admin API.
func demoToken(ctx context.Context, st *store.Store) (string, error) {
	token, err := store.NewToken()
	if err != nil {
		return "", err
	}
	if err := st.SetToken(ctx, demoShop, token); err != nil {
		return "", err
	}
	return token, nil
}

// buildDemo runs the hub's own pipeline on the bundled shop: ingest its
// catalog and reviews into the store (idempotent: a second run changes
// nothing), build one snapshot per region and publish them. A later run
// whose bundled catalog and published snapshots are unchanged skips the
// build.
func buildDemo(ctx context.Context, dir string, rebuild bool, stdout, stderr io.Writer) (*store.Store, *publish.Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	st, err := store.Open(ctx, filepath.Join(dir, "hub.db"))
	if err != nil {
		return nil, nil, err
	}
	pub, err := publish.Open(filepath.Join(dir, "snapshots"))
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	fail := func(err error) (*store.Store, *publish.Store, error) {
		st.Close()
		return nil, nil, err
	}
	raw, err := io.ReadAll(web.DemoCatalog())
	if err != nil {
		return fail(fmt.Errorf("read the bundled catalog: %w", err))
	}
	reviews, err := io.ReadAll(web.DemoReviews())
	if err != nil {
		return fail(fmt.Errorf("read the bundled reviews: %w", err))
	}
	if ok, err := st.HasShop(ctx, demoShop); err != nil {
		return fail(err)
	} else if !ok {
		if err := st.CreateShop(ctx, demoShop, ""); err != nil {
			return fail(err)
		}
	}
	faq, err := demoFAQ()
	if err != nil {
		return fail(err)
	}
	for _, in := range []struct {
		kind ingest.Kind
		src  []ingest.Source
		f    ingest.Format
	}{
		{ingest.Catalog, []ingest.Source{ingest.BytesSource("catalog.jsonl", raw)}, ingest.JSONL},
		{ingest.Reviews, []ingest.Source{ingest.BytesSource("reviews.jsonl", reviews)}, ingest.JSONL},
		{ingest.FAQ, faq, ingest.Markdown},
	} {
		batch, err := ingest.Parse(in.kind, in.src, ingest.Options{Format: in.f})
		if err != nil {
			return fail(err)
		}
		if _, err := ingest.Write(ctx, st, demoShop, batch, stderr); err != nil {
			return fail(err)
		}
	}
	sum := sha256.Sum256(raw)
	want := demoManifest{Catalog: hex.EncodeToString(sum[:]), Format: snapshot.FormatVersion, Versions: map[string]string{}}
	mpath := filepath.Join(dir, "manifest.json")
	if !rebuild {
		var have demoManifest
		if b, err := os.ReadFile(mpath); err == nil && json.Unmarshal(b, &have) == nil &&
			have.Catalog == want.Catalog && have.Format == want.Format && current(pub, have.Versions) {
			fmt.Fprintf(stdout, "reusing the index built earlier in %s (-rebuild to build it again)\n", dir)
			return st, pub, nil
		}
	}
	data, err := build.Load(ctx, st, demoShop)
	if err != nil {
		return fail(err)
	}
	cfg := build.DefaultConfig()
	cfg.Regions, cfg.ModelRoot, cfg.Now = demoRegions, dir, time.Now().UnixMilli()
	res, err := build.Run(ctx, data, demoShop, cfg, pub, stderr)
	if err != nil {
		return fail(err)
	}
	if res.Eval != nil {
		if err := build.SaveEvaluation(ctx, st, demoShop, *res.Eval); err != nil {
			return fail(err)
		}
	}
	for _, r := range res.Regions {
		want.Versions[r.Region] = r.Version
	}
	b, _ := json.MarshalIndent(want, "", "  ")
	if err := publish.WriteFileAtomic(mpath, b); err != nil {
		return fail(err)
	}
	fmt.Fprintf(stdout, "built the demo index: %d products, %d regions, in %s\n", res.Products, len(res.Regions), dir)
	return st, pub, nil
}

// current reports whether every demo region's pointer names the version
// the manifest recorded.
func current(store *publish.Store, versions map[string]string) bool {
	for _, region := range demoRegions {
		v, err := store.Pointer(region)
		if err != nil || v != versions[region] {
			return false
		}
		if _, err := store.Get(region, v); err != nil {
			return false
		}
	}
	return true
}

// demoSecret returns the demo's edge secret, creating it on first use.
func demoSecret(dir string) (string, error) {
	path := filepath.Join(dir, "edge-secret")
	if b, err := os.ReadFile(path); err == nil && len(bytes.TrimSpace(b)) >= 32 {
		return string(bytes.TrimSpace(b)), nil
	}
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	s := hex.EncodeToString(buf)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	if err := os.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
		return "", err
	}
	return s, nil
}

// newLoader returns the edges' snapshot loader for engine.
func newLoader(ctx context.Context, engine, dataDir string) (edge.Loader, func(), error) {
	switch engine {
	case "native":
		return edge.NativeLoader{}, func() {}, nil
	case "wasm":
		l, err := newWasmLoader(wazeroCache(dataDir))
		if err != nil {
			return nil, nil, err
		}
		return l, func() {}, nil
	}
	return nil, nil, fmt.Errorf("unknown engine %q: want wasm or native", engine)
}

// demoFAQ returns the bundled shop's FAQ documents as markdown sources,
// each with its file name (without ".md") as its id.
func demoFAQ() ([]ingest.Source, error) {
	fsys := web.DemoFAQ()
	names, err := fs.Glob(fsys, "*.md")
	if err != nil || len(names) == 0 {
		return nil, fmt.Errorf("read the bundled FAQ: %v", cmp.Or(err, errors.New("no documents")))
	}
	var out []ingest.Source
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, fmt.Errorf("read the bundled FAQ: %w", err)
		}
		src := ingest.BytesSource(n, b)
		src.DocID = strings.TrimSuffix(n, ".md")
		out = append(out, src)
	}
	return out, nil
}
