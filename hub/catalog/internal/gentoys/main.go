// Command gentoys regenerates the bundled demo shop, web/demo/shop/catalog.jsonl
// and reviews.jsonl, from the Amazon UK toys CSV (PromptCloud, CC BY-SA 4.0)
// with catalog.ConvertAmazonUKToysStats and the catalog JSON-lines writers.
//
// It runs from the web package directory through go generate:
//
//	cd web && go generate
//
// which is
//
//	go run ../hub/catalog/internal/gentoys -out demo/shop
//
// The CSV is looked up under -data (default $AISLE_DATA, else
// ../../shared/data, the shared data folder beside the repository when run
// from web/). The output is deterministic; hub/catalog's
// TestDemoShopUpToDate fails when the bundled files differ from a fresh
// conversion.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/aisle-rec/aisle/hub/catalog"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("gentoys", flag.ContinueOnError)
	fset.SetOutput(stderr)
	defaultData := os.Getenv("AISLE_DATA")
	if defaultData == "" {
		defaultData = filepath.Join("..", "..", "shared", "data")
	}
	data := fset.String("data", defaultData, "shared data folder holding "+catalog.ToysDataPath)
	out := fset.String("out", filepath.Join("demo", "shop"), "folder to write catalog.jsonl and reviews.jsonl to")
	if err := fset.Parse(args); err != nil {
		return 2
	}
	if fset.NArg() > 0 {
		fmt.Fprintf(stderr, "gentoys: unexpected arguments %q\n", fset.Args())
		return 2
	}
	if err := generate(filepath.Join(*data, catalog.ToysDataPath), *out, stdout); err != nil {
		fmt.Fprintf(stderr, "gentoys: %v\n", err)
		return 1
	}
	return 0
}

func generate(csvPath, outDir string, stdout io.Writer) error {
	f, err := os.Open(csvPath)
	if err != nil {
		return fmt.Errorf("%w (set -data or $AISLE_DATA to the shared data folder)", err)
	}
	defer f.Close()
	products, reviews, st, err := catalog.ConvertAmazonUKToysStats(f)
	if err != nil {
		return err
	}
	if err := writeFile(filepath.Join(outDir, "catalog.jsonl"), func(w io.Writer) error {
		return catalog.WriteProducts(w, products)
	}); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(outDir, "reviews.jsonl"), func(w io.Writer) error {
		return catalog.WriteReviews(w, reviews)
	}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "gentoys: %d products (%d without price, %d with unknown stock), %d reviews (%d malformed chunks skipped) -> %s\n",
		st.Products, st.NoPrice, st.UnknownStock, st.Reviews, st.SkippedReviewChunks, outDir)
	return nil
}

// writeFile writes through a temporary file and renames it into place, so
// a failed run leaves the old file whole.
func writeFile(path string, write func(io.Writer) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".gentoys-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.Remove(tmp.Name())
		}
	}()
	if err := write(tmp); err != nil {
		return errors.Join(err, tmp.Close())
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
