package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aisle-rec/aisle/hub/catalog"
	"github.com/aisle-rec/aisle/hub/ingest"
	"github.com/aisle-rec/aisle/hub/store"
	"github.com/aisle-rec/aisle/shared/wire"
)

func runIngest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("ingest", "ingest -db PATH [-shop ID] (catalog|reviews|faq|events) FILE... [flags]\n"+
		"       aisle ingest -db PATH [-shop ID] token\n\n"+
		"Reads and checks every FILE whole, then stores them in one transaction; with any bad\n"+
		"row it lists them all and writes nothing. Re-ingesting a file changes nothing.\n"+
		"Flags may follow the files. \"token\" makes (or replaces) the shop's admin token for\n"+
		"the HTTP admin API and prints it once.", stderr)
	db := fs.String("db", "", "SQLite database `PATH` (created if missing)")
	shop := fs.String("shop", "default", "shop `ID`; created if missing")
	format := fs.String("format", "", "input `format`: jsonl or csv (catalog), markdown or jsonl (faq), jsonl, tsv, diginetica or\nsequences (events); default from each file's extension")
	mapping := fs.String("map", "", "catalog CSV column `mapping` field=column,…, e.g. id=product_id,title=name,category=cat1+cat2;\ncolumns named like a field, stock or stock_<region> need none")
	catSep := fs.String("category-sep", ">", "`separator` of category levels in one CSV column")
	tagSep := fs.String("tag-sep", "|", "`separator` of tags in the CSV tags column")
	currency := fs.String("currency", "", "currency `code` for CSV prices that name none, e.g. GBP")
	eventType := fs.String("type", "", "event `type` for tsv, diginetica and sequences files (default view; purchase for sequences)")

	// Accept flags after the positional arguments too.
	var pos []string
	for {
		if err := fs.parse(args); err != nil {
			return err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if consumed := args[:len(args)-len(rest)]; len(consumed) > 0 && consumed[len(consumed)-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	if *db == "" {
		return fs.usageErr("-db is required")
	}
	if len(pos) == 0 {
		return fs.usageErr("say what to ingest: catalog, reviews, qa, faq, events (or token)")
	}
	if err := store.ValidShopID(*shop); err != nil {
		return fs.usageErr("-shop: %v", err)
	}
	if pos[0] == "token" {
		if len(pos) > 1 {
			return fs.usageErr("token takes no files")
		}
		return ingestToken(ctx, *db, *shop, stdout, stderr)
	}
	kind, err := ingest.ParseKind(pos[0])
	if err != nil {
		return fs.usageErr("%v", err)
	}
	files := pos[1:]
	if len(files) == 0 {
		return fs.usageErr("give the %s file(s) to ingest", kind)
	}
	opts := ingest.Options{
		Format:    ingest.Format(*format),
		EventType: wire.EventType(*eventType),
		Progress:  stderr,
		CSV:       ingest.CSVOptions{CategorySep: *catSep, TagSep: *tagSep, Currency: *currency},
	}
	if *mapping != "" {
		if opts.CSV.Map, err = ingest.ParseCSVMap(*mapping); err != nil {
			return fs.usageErr("-map: %v", err)
		}
	}
	if err := opts.Validate(kind); err != nil {
		return fs.usageErr("%v", err)
	}

	start := time.Now()
	srcs, err := ingest.FileSources(kind, files)
	if err != nil {
		return err
	}
	batch, err := ingest.Parse(kind, srcs, opts)
	var re *catalog.RowErrors
	if errors.As(err, &re) {
		for _, row := range re.Rows {
			if row.Field == "" {
				fmt.Fprintf(stderr, "%s:%d: %s\n", row.Name, row.Line, row.Problem)
			} else {
				fmt.Fprintf(stderr, "%s:%d: %s: %s\n", row.Name, row.Line, row.Field, row.Problem)
			}
		}
		if more := re.Total - len(re.Rows); more > 0 {
			fmt.Fprintf(stderr, "… and %d more problem(s) not listed\n", more)
		}
		return fmt.Errorf("%d problem(s) in the input; nothing was written", re.Total)
	}
	if err != nil {
		return err
	}
	parsed := time.Since(start)

	st, err := store.Open(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := ensureShop(ctx, st, *shop, stderr); err != nil {
		return err
	}
	wstart := time.Now()
	res, err := ingest.Write(ctx, st, *shop, batch, stderr)
	if err != nil {
		return err
	}
	took := time.Since(start)
	fmt.Fprintf(stdout, "%s → shop %q: read %d, changed %d, unchanged %d (parse %s, write %s, %.0f rows/s)\n",
		kind, *shop, res.Read, res.Changed, res.Unchanged,
		parsed.Round(time.Millisecond), time.Since(wstart).Round(time.Millisecond), float64(res.Read)/took.Seconds())
	return nil
}

// ensureShop creates shop, without an admin token, when it does not exist.
func ensureShop(ctx context.Context, st *store.Store, shop string, stderr io.Writer) error {
	ok, err := st.HasShop(ctx, shop)
	if err != nil || ok {
		return err
	}
	if err := st.CreateShop(ctx, shop, ""); err != nil && !errors.Is(err, store.ErrShopExists) {
		return err
	}
	fmt.Fprintf(stderr, "created shop %q (no admin token yet: `aisle ingest -db %s -shop %s token` makes one)\n", shop, st.Path(), shop)
	return nil
}

// ingestToken makes a new admin token for shop and prints it.
func ingestToken(ctx context.Context, db, shop string, stdout, stderr io.Writer) error {
	st, err := store.Open(ctx, db)
	if err != nil {
		return err
	}
	defer st.Close()
	token, err := store.NewToken()
	if err != nil {
		return err
	}
	ok, err := st.HasShop(ctx, shop)
	if err != nil {
		return err
	}
	if ok {
		err = st.SetToken(ctx, shop, token)
	} else {
		err = st.CreateShop(ctx, shop, token)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "new admin token of shop %q (shown once; only its hash is stored; any earlier token no longer works):\n", shop)
	fmt.Fprintln(stdout, token)
	return nil
}
