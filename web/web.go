// Package web holds the browser-facing assets Aisle embeds in its binary:
// the storefront script aisle.js (served by every edge at /aisle.js), the
// demo store page, and the bundled demo shop — a catalog of 863 toys and
// their reviews, converted from the Amazon UK toys data set (PromptCloud,
// CC BY-SA 4.0; see demo/shop/ATTRIBUTION.md) into the JSON-lines format of
// package hub/catalog, so `aisle demo` can start a working shop without any
// input.
//
// The shop files are generated, not edited: run `go generate` in this
// directory (see demo/shop/README.md).
package web

import (
	"embed"
	"io"
	"io/fs"
)

//go:generate go run ../hub/catalog/internal/gentoys -out demo/shop

//go:embed demo/shop/*.jsonl demo/shop/ATTRIBUTION.md demo/shop/faq/*.md
var demoShop embed.FS

// demoDir is the demo shop's folder inside demoShop.
const demoDir = "demo/shop"

// DemoCatalog returns the demo shop's products as JSON lines, one
// catalog.Product per line; read it with catalog.ReadProducts.
func DemoCatalog() io.Reader { return open("catalog.jsonl") }

// DemoReviews returns the demo shop's reviews as JSON lines, one
// catalog.Review per line; read it with catalog.ReadReviews.
func DemoReviews() io.Reader { return open("reviews.jsonl") }

// DemoShop returns the demo shop's files: catalog.jsonl, reviews.jsonl and
// ATTRIBUTION.md (the licence notice, to serve or show beside the data).
func DemoShop() fs.FS {
	sub, err := fs.Sub(demoShop, demoDir)
	if err != nil { // only for an invalid path, which demoDir is not
		return demoShop
	}
	return sub
}

// DemoFAQ returns the demo shop's FAQ and policy documents: one markdown
// file per document (delivery.md, returns.md, …), the kind `aisle ingest
// faq` reads.
func DemoFAQ() fs.FS {
	sub, err := fs.Sub(demoShop, demoDir+"/faq")
	if err != nil { // only for an invalid path, which this is not
		return demoShop
	}
	return sub
}

func open(name string) io.Reader {
	f, err := demoShop.Open(demoDir + "/" + name)
	if err != nil {
		return errReader{err}
	}
	// Reading an embedded file needs no Close; it holds no resources.
	return f
}

// errReader is a reader that fails with err.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
