package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aisle-rec/aisle/hub/assistant"
	"github.com/aisle-rec/aisle/hub/assistant/chat"
	"github.com/aisle-rec/aisle/hub/dashboard"
	"github.com/aisle-rec/aisle/hub/fleet"
	"github.com/aisle-rec/aisle/hub/ingest"
	"github.com/aisle-rec/aisle/hub/publish"
	"github.com/aisle-rec/aisle/hub/server"
	"github.com/aisle-rec/aisle/hub/store"
)

func runHub(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	rest, err := subcommand(args, "serve", "hub serve -data DIR [-listen ADDR] [flags]", stderr)
	if err != nil || rest == nil {
		return err
	}
	fs := newFlagSet("hub serve", "hub serve -data DIR [-listen ADDR] [flags]", stderr)
	dataDir := fs.String("data", ".aisle/hub", "hub data `DIR` (snapshots/ holds the published snapshots)")
	listen := fs.String("listen", "127.0.0.1:8081", "`HOST:PORT` to serve on")
	regions := fs.String("regions", "eu,us", "comma-separated `regions` the hub publishes")
	db := fs.String("db", "", "hub store `PATH`: serves the admin API POST /v1/admin/{shop}/{catalog,reviews,qa,faq,events} (tokens: aisle ingest token), chat and summaries")
	llmURL := fs.String("llm-url", "", "optional OpenAI-compatible API base `URL` (e.g. http://127.0.0.1:8000/v1) that rephrases grounded chat answers and summary verdicts; key from $AISLE_LLM_KEY")
	llmModel := fs.String("llm-model", "", "model `name` for -llm-url")
	llmTokens := fs.Int("llm-daily-tokens", 200_000, "each shop's daily token `budget` for -llm-url")
	llmTimeout := fs.Duration("llm-timeout", 2*time.Second, "longest wait for -llm-url before the grounded answer is used")
	llmHosts := fs.String("llm-allow-hosts", "", "comma-separated `hosts` a generated answer may link to (default none)")
	cacheMiB := fs.Int("snapshot-cache", publish.DefaultCacheBytes>>20, "MiB of checked snapshot bytes kept in memory for edges' fetches (`N`; 0 reads and hashes the file every time)")
	if err := fs.parse(rest); err != nil {
		return err
	}
	if *cacheMiB < 0 || *cacheMiB > 1<<20 {
		return fs.usageErr("-snapshot-cache %d: want 0 to %d MiB", *cacheMiB, 1<<20)
	}
	secret := os.Getenv("AISLE_EDGE_SECRET")
	if secret == "" {
		return fs.usageErr("set AISLE_EDGE_SECRET to the secret edges present (at least 16 characters)")
	}
	st, err := publish.Open(filepath.Join(*dataDir, "snapshots"))
	if err != nil {
		return err
	}
	st.CacheBytes = *cacheMiB << 20
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	// The edges' traffic reports, kept across restarts for the dashboard.
	reports, problems, err := fleet.Open(filepath.Join(*dataDir, "fleet"), nil)
	if err != nil {
		return err
	}
	for _, p := range problems {
		logger.Warn("hub: edge reports not loaded", "err", p)
	}
	deps := server.Deps{Snapshots: st, EdgeSecret: secret, Regions: splitList(*regions), Logger: logger, Limits: server.DefaultLimits(),
		EdgeReports: fleet.Handler(reports, secret)}
	if *db != "" {
		shops, err := store.Open(ctx, *db)
		if err != nil {
			return err
		}
		defer shops.Close()
		deps.Admin = ingest.AdminHandler(shops, logger)
		cfg := chat.Config{Store: shops, Snapshots: st, Regions: deps.Regions, Logger: logger}
		if *llmURL != "" {
			if cfg.Backend, err = chat.NewBackend(chat.BackendConfig{URL: *llmURL, Model: *llmModel, Key: os.Getenv("AISLE_LLM_KEY"),
				Timeout: *llmTimeout, DailyTokens: *llmTokens, AllowedHosts: splitList(*llmHosts)}); err != nil {
				return fs.usageErr("%v", err)
			}
		}
		sums := assistant.NewSummaries(shops, secret, logger)
		if cfg.Backend != nil {
			sums.WithBackend(cfg.Backend)
		}
		deps.Summaries = sums
		helper, err := chat.New(cfg)
		if err != nil {
			return err
		}
		go warmChat(ctx, shops, helper, logger)
		deps.Chat = assistant.NewChat(helper, secret, logger)
		deps.Dashboard = dashboard.New(dashboard.Deps{Store: shops, Snapshots: st, Regions: deps.Regions, Logger: logger, Edges: reports, Intents: helper.IntentCounts, Sentiment: sums.Scorer})
	}
	h, err := server.New(deps)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "hub serving on http://%s\n", ln.Addr())
	return serve(ctx, ln, h)
}

// warmChat loads every shop's data into the assistant, so no visitor waits
// for its intent model to be trained.
func warmChat(ctx context.Context, shops *store.Store, a *chat.Assistant, logger *slog.Logger) {
	ids, err := shops.Shops(ctx)
	if err != nil {
		logger.Warn("chat: cannot list shops to warm", "err", err)
		return
	}
	for _, id := range ids {
		if err := a.Warm(ctx, id); err != nil && ctx.Err() == nil {
			logger.Warn("chat: shop not warmed", "shop", id, "err", err)
		}
	}
}

func runPublish(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("publish", "publish -data DIR [-file SNAPSHOT]... [-kv] [flags]", stderr)
	dataDir := fs.String("data", ".aisle/hub", "hub data `DIR`")
	var files listFlag
	fs.Var(&files, "file", "publish this snapshot `FILE` (repeatable; its region comes from its header)")
	kv := fs.Bool("kv", false, "also write the current snapshot of each region to Workers KV (content key first, pointer last)")
	regions := fs.String("regions", "eu,us", "with -kv: comma-separated `regions` to publish")
	account := fs.String("kv-account", os.Getenv("CLOUDFLARE_ACCOUNT_ID"), "Cloudflare account `id` (default $CLOUDFLARE_ACCOUNT_ID)")
	namespace := fs.String("kv-namespace", os.Getenv("AISLE_KV_NAMESPACE"), "Workers KV namespace `id` (default $AISLE_KV_NAMESPACE)")
	apiURL := fs.String("kv-api", "", "Cloudflare API base `URL` (default the real API)")
	if err := fs.parse(args); err != nil {
		return err
	}
	if len(files) == 0 && !*kv {
		return fs.usageErr("nothing to do: give -file, -kv or both")
	}
	st, err := publish.Open(filepath.Join(*dataDir, "snapshots"))
	if err != nil {
		return err
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		info, err := readInfo(b)
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		v, err := st.Publish(info.Region, b)
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		fmt.Fprintf(stdout, "published %s to %s: %s (%d bytes)\n", f, info.Region, v, len(b))
	}
	if !*kv {
		return nil
	}
	pub, err := publish.NewKV(publish.KVConfig{AccountID: *account, NamespaceID: *namespace, Token: os.Getenv("CLOUDFLARE_API_TOKEN"), BaseURL: *apiURL}, &http.Client{Timeout: 2 * time.Minute})
	if err != nil {
		return err
	}
	for _, region := range splitList(*regions) {
		v, err := st.Pointer(region)
		if err != nil {
			return fmt.Errorf("region %s: nothing published yet (aisle publish -file …): %w", region, err)
		}
		b, err := st.Get(region, v)
		if err != nil {
			return err
		}
		if _, err := pub.Publish(ctx, region, b); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s to Workers KV: %s (%d bytes)\n", region, v, len(b))
	}
	return nil
}

// listFlag collects a repeated flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}
