package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aisle-rec/aisle/edge"
)

func runEdge(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	rest, err := subcommand(args, "serve", "edge serve -region R -hub URL [-listen ADDR] [flags]", stderr)
	if err != nil || rest == nil {
		return err
	}
	fs := newFlagSet("edge serve", "edge serve -region R -hub URL [-listen ADDR] [flags]", stderr)
	region := fs.String("region", "", "the `region` this edge serves (required)")
	hub := fs.String("hub", "", "hub base `URL` (required), e.g. https://hub.example.com")
	listen := fs.String("listen", "127.0.0.1:8787", "`HOST:PORT` to serve the edge API on")
	origins := fs.String("origins", "", "comma-separated storefront `origins` allowed to call from browsers, e.g. https://shop.example")
	engine := fs.String("engine", "wasm", "`wasm` (the ranking module under wazero) or native")
	cache := fs.String("cache", defaultCacheDir(), "`DIR` for compiled Wasm (speeds up later starts)")
	refresh := fs.Duration("refresh", 30*time.Second, "how often to check the hub for a new snapshot")
	if err := fs.parse(rest); err != nil {
		return err
	}
	if *region == "" || *hub == "" {
		return fs.usageErr("-region and -hub are required")
	}
	secret := os.Getenv("AISLE_EDGE_SECRET")
	if secret == "" {
		return fs.usageErr("set AISLE_EDGE_SECRET to the hub's edge secret")
	}
	var loader edge.Loader = edge.NativeLoader{}
	switch *engine {
	case "native":
	case "wasm":
		l, err := newWasmLoader(*cache)
		if err != nil {
			return err
		}
		loader = l
	default:
		return fs.usageErr("-engine %q: want wasm or native", *engine)
	}
	cfg := edge.DefaultConfig()
	cfg.Region = *region
	cfg.RefreshEvery = *refresh
	if *origins != "" {
		for _, o := range strings.Split(*origins, ",") {
			cfg.AllowedOrigins = append(cfg.AllowedOrigins, strings.TrimSpace(o))
		}
	}
	src, err := edge.NewHTTPSource(*hub, *region, secret, &http.Client{Timeout: 60 * time.Second})
	if err != nil {
		return err
	}
	hubc, err := edge.NewHTTPHub(*hub, secret, &http.Client{})
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	e, err := edge.New(cfg, edge.Deps{Source: src, Loader: loader, Hub: hubc, Logger: logger, Background: inBackground})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	if err := e.Refresh(ctx); err != nil {
		// Keep serving: requests retry the load and answer 503 until a
		// snapshot arrives.
		logger.Warn("no snapshot yet", "err", err)
	}
	fmt.Fprintf(stdout, "edge %s (engine %s) serving on http://%s\n", *region, *engine, ln.Addr())
	return serve(ctx, ln, e)
}

func defaultCacheDir() string {
	if d, err := os.UserCacheDir(); err == nil {
		return d + string(os.PathSeparator) + "aisle" + string(os.PathSeparator) + "wazero"
	}
	return ""
}

// inBackground runs an edge's traffic report beside the request that found
// it due, so no visitor waits for the hub.
func inBackground(f func()) { go f() }
