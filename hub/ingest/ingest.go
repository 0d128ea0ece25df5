// Package ingest brings a shop's data into the hub's store: the catalog (JSON
// lines, or CSV with a column mapping), reviews (JSON lines), FAQ and policy
// documents (markdown files or JSON), and past events (JSON lines, or the
// session TSV, Diginetica CSV and user-sequence formats that `aisle eval`
// reads).
//
// Ingest happens in two steps. Parse reads and validates every input whole
// and collects every bad row (file:line: field: problem, up to
// catalog.MaxRowErrors listed, all counted) as a *catalog.RowErrors; only
// when there is none does Write store the batch, in one transaction. So a
// file with bad rows leaves the store exactly as it was, and re-ingesting a
// file changes nothing (the store's upserts skip identical rows).
//
// AdminHandler serves the same ingest over HTTP for a shop's admin token.
package ingest

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aisle-rec/aisle/hub/catalog"
	"github.com/aisle-rec/aisle/hub/progress"
	"github.com/aisle-rec/aisle/hub/store"
	"github.com/aisle-rec/aisle/shared/wire"
)

// Kind is what a batch holds.
type Kind string

// The kinds of data a shop ingests.
const (
	Catalog Kind = "catalog"
	Reviews Kind = "reviews"
	QA      Kind = "qa"
	FAQ     Kind = "faq"
	Events  Kind = "events"
)

// Kinds lists every Kind.
var Kinds = []Kind{Catalog, Reviews, QA, FAQ, Events}

// ParseKind returns the Kind named s.
func ParseKind(s string) (Kind, error) {
	k := Kind(s)
	if slices.Contains(Kinds, k) {
		return k, nil
	}
	return "", fmt.Errorf("ingest: unknown kind %q; want catalog, reviews, qa, faq or events", s)
}

// Format is an input file format.
type Format string

// Input formats. Auto picks one from the file name (see Options.Format).
const (
	Auto       Format = ""
	JSONL      Format = "jsonl"      // one JSON object per line (every kind)
	CSV        Format = "csv"        // catalog: CSV with a header and a column mapping
	Markdown   Format = "markdown"   // faq: one markdown document per file
	TSV        Format = "tsv"        // events: SessionId<TAB>ItemId<TAB>Time with a header
	Diginetica Format = "diginetica" // events: session_id;user_id;item_id;timeframe;eventdate
	Sequences  Format = "sequences"  // events: "user item item …" lines, in order, no times
)

// formats lists, per kind, the formats it accepts, the default first.
var formats = map[Kind][]Format{
	Catalog: {JSONL, CSV},
	Reviews: {JSONL},
	QA:      {JSONL},
	FAQ:     {Markdown, JSONL},
	Events:  {JSONL, TSV, Diginetica, Sequences},
}

// Options tunes Parse and Write. The zero value is ready to use.
type Options struct {
	// Format of every input; Auto picks it per file from the extension:
	// .jsonl/.ndjson/.json → jsonl; .csv → csv (catalog) or diginetica
	// (events); .tsv → tsv; .txt → sequences (events); .md/.markdown →
	// markdown (faq).
	Format Format
	// CSV maps catalog CSV columns to product fields.
	CSV CSVOptions
	// EventType is the type given to events read from tsv, diginetica and
	// sequences files, which carry none; empty means view for tsv and
	// diginetica and purchase for sequences (as `aisle build` reads them).
	EventType wire.EventType
	// Progress, when not nil, receives progress bars for inputs of at least
	// ProgressMinBytes and batches of at least ProgressMinRows.
	Progress io.Writer
}

// Thresholds for drawing progress bars.
const (
	ProgressMinBytes = 1 << 20
	ProgressMinRows  = 5000
)

// Validate checks the options for kind.
func (o *Options) Validate(kind Kind) error {
	fs, ok := formats[kind]
	if !ok {
		return fmt.Errorf("ingest: unknown kind %q", kind)
	}
	if o.Format != Auto && !slices.Contains(fs, o.Format) {
		return fmt.Errorf("ingest: %s cannot be read as %q; want one of %s", kind, o.Format, joinFormats(fs))
	}
	if o.EventType != "" && !o.EventType.Valid() {
		return fmt.Errorf("ingest: event type %q: want view, click, add_to_cart, remove_from_cart or purchase", o.EventType)
	}
	if o.EventType == wire.Search {
		return fmt.Errorf("ingest: event type search needs a query, which tsv, diginetica and sequences files do not have")
	}
	return o.CSV.validate()
}

func joinFormats(fs []Format) string {
	s := make([]string, len(fs))
	for i, f := range fs {
		s[i] = string(f)
	}
	return strings.Join(s, ", ")
}

// formatFor returns the format of the named input.
func (o *Options) formatFor(kind Kind, name string) (Format, error) {
	if o.Format != Auto {
		return o.Format, nil
	}
	ext := strings.ToLower(path.Ext(filepath.ToSlash(name)))
	var f Format
	switch ext {
	case ".jsonl", ".ndjson", ".json":
		f = JSONL
	case ".csv":
		f = CSV
		if kind == Events {
			f = Diginetica
		}
	case ".tsv":
		f = TSV
	case ".txt":
		f = Sequences
	case ".md", ".markdown":
		f = Markdown
	}
	if f == Auto || !slices.Contains(formats[kind], f) {
		return "", fmt.Errorf("ingest: %s: cannot tell the format of %s from its name; give one of %s", name, kind, joinFormats(formats[kind]))
	}
	return f, nil
}

// Result is what a write did.
type Result struct {
	// Read is how many records the inputs held.
	Read int `json:"read"`
	// Changed is how many rows were inserted or replaced.
	Changed int `json:"changed"`
	// Unchanged is how many records equalled what the store held already.
	Unchanged int `json:"unchanged"`
}

// Source is one named input that can be opened (and, to locate a row
// repeated across inputs, opened again).
type Source struct {
	// Name is shown in row errors (a file path, "body").
	Name string
	// DocID is the FAQ document id for a markdown input; FileSources sets
	// it from the file name.
	DocID string
	// Size is the input's length in bytes, or -1 when unknown.
	Size int64
	// Open returns the input's bytes.
	Open func() (io.ReadCloser, error)
}

// BytesSource returns a Source over b.
func BytesSource(name string, b []byte) Source {
	return Source{Name: name, Size: int64(len(b)), Open: func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	}}
}

// ReaderSource returns a Source over r, which can be opened only once.
func ReaderSource(name string, r io.Reader) Source {
	used := false
	return Source{Name: name, Size: -1, Open: func() (io.ReadCloser, error) {
		if used {
			return nil, fmt.Errorf("ingest: %s can be read only once", name)
		}
		used = true
		return io.NopCloser(r), nil
	}}
}

// FileSources returns the sources for paths. For FAQ a path may be a
// directory: its markdown files (.md, .markdown, searched recursively) are
// the documents, each with the id of its path below the directory without
// the extension; a markdown file given itself has the id of its base name
// without the extension.
func FileSources(kind Kind, paths []string) ([]Source, error) {
	var srcs []Source
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("ingest: %w", err)
		}
		if !fi.IsDir() {
			srcs = append(srcs, fileSource(p, docID(filepath.Base(p)), fi.Size()))
			continue
		}
		if kind != FAQ {
			return nil, fmt.Errorf("ingest: %s is a directory; only faq reads directories", p)
		}
		n := len(srcs)
		err = filepath.WalkDir(p, func(f string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !isMarkdown(f) {
				return nil
			}
			rel, err := filepath.Rel(p, f)
			if err != nil {
				return err
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			srcs = append(srcs, fileSource(f, docID(filepath.ToSlash(rel)), info.Size()))
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("ingest: %w", err)
		}
		if len(srcs) == n {
			return nil, fmt.Errorf("ingest: %s holds no markdown files (.md, .markdown)", p)
		}
	}
	return srcs, nil
}

func isMarkdown(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".md" || ext == ".markdown"
}

// docID is a file's slash path without its extension.
func docID(rel string) string { return strings.TrimSuffix(rel, path.Ext(rel)) }

func fileSource(p, id string, size int64) Source {
	return Source{Name: p, DocID: id, Size: size, Open: func() (io.ReadCloser, error) {
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("ingest: %w", err)
		}
		return f, nil
	}}
}

// Batch is parsed, valid input of one kind, ready to write.
type Batch struct {
	Kind     Kind
	Products []catalog.Product
	Reviews  []catalog.Review
	QA       []catalog.QA
	FAQ      []store.FAQ
	Events   []store.Event
}

// Len returns the number of records in b.
func (b *Batch) Len() int {
	return len(b.Products) + len(b.Reviews) + len(b.QA) + len(b.FAQ) + len(b.Events)
}

// Parse reads and validates every source of kind. When any row is bad it
// returns a *catalog.RowErrors listing them all (capped at
// catalog.MaxRowErrors, all counted) and no batch; other errors (a file
// that cannot be read, bad options) are returned as they are. Ids must be
// unique across all sources.
func Parse(kind Kind, srcs []Source, opts Options) (*Batch, error) {
	if err := opts.Validate(kind); err != nil {
		return nil, err
	}
	p := &parser{kind: kind, opts: opts, srcs: srcs, batch: &Batch{Kind: kind}, seen: map[string]ref{}}
	for i := range srcs {
		p.src = i
		if err := p.parseSource(); err != nil {
			return nil, err
		}
	}
	if kind == Events {
		p.finishEvents()
	}
	if err := p.resolveDuplicates(); err != nil {
		return nil, err
	}
	if err := p.errs.err(srcs); err != nil {
		return nil, err
	}
	return p.batch, nil
}

// parser holds the state of one Parse.
type parser struct {
	kind  Kind
	opts  Options
	srcs  []Source
	src   int // index of the source being read
	batch *Batch
	errs  rowErrors

	// seen maps an id to where it was first read; dups lists later uses.
	seen map[string]ref
	dups []dup
	// recs counts the records read from the current source, and bad holds
	// per source the lines reported bad by catalog's readers (to locate
	// records by number later).
	recs int
	bad  map[int]map[int]bool

	pending []pendingEvent // events before sequence numbering
}

// ref locates a record: a line, or (line 0) the rec-th valid record of a
// JSON-lines source read by package catalog, which does not tell lines.
type ref struct{ src, line, rec int }

type dup struct {
	id          string
	first, next ref
}

// saw records an id's use and notes a repeat.
func (p *parser) saw(id string, at ref) {
	if first, ok := p.seen[id]; ok {
		p.dups = append(p.dups, dup{id, first, at})
		return
	}
	p.seen[id] = at
}

func (p *parser) parseSource() (err error) {
	src := p.srcs[p.src]
	format, err := p.opts.formatFor(p.kind, src.Name)
	if err != nil {
		return err
	}
	rc, err := src.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	var r io.Reader = rc
	if p.opts.Progress != nil && src.Size >= ProgressMinBytes {
		bar := progress.New(p.opts.Progress, "read "+src.Name+" (bytes)", int(src.Size))
		defer bar.Done()
		r = &countingReader{r: r, add: bar.Add}
	}
	p.recs = 0
	switch {
	case p.kind == Catalog && format == JSONL:
		return p.catalogJSONL(r, src.Name, func(r io.Reader, name string, fn func(string) error) error {
			return catalog.ReadProducts(r, name, func(v catalog.Product) error {
				p.batch.Products = append(p.batch.Products, v)
				return fn(v.ID)
			})
		})
	case p.kind == Reviews:
		return p.catalogJSONL(r, src.Name, func(r io.Reader, name string, fn func(string) error) error {
			return catalog.ReadReviews(r, name, func(v catalog.Review) error {
				p.batch.Reviews = append(p.batch.Reviews, v)
				return fn(v.ID)
			})
		})
	case p.kind == QA:
		return p.catalogJSONL(r, src.Name, func(r io.Reader, name string, fn func(string) error) error {
			return catalog.ReadQA(r, name, func(v catalog.QA) error {
				p.batch.QA = append(p.batch.QA, v)
				return fn(v.ID)
			})
		})
	case p.kind == Catalog && format == CSV:
		return p.catalogCSV(r, src.Name)
	case p.kind == FAQ && format == Markdown:
		return p.faqMarkdown(r, src)
	case p.kind == FAQ && format == JSONL:
		return p.faqJSON(r, src.Name)
	case p.kind == Events:
		return p.events(r, src.Name, format)
	}
	return fmt.Errorf("ingest: %s: cannot read %s as %s", src.Name, p.kind, format)
}

// catalogJSONL runs one of package catalog's readers, which list their own
// row errors, and merges those into p's.
func (p *parser) catalogJSONL(r io.Reader, name string, read func(io.Reader, string, func(id string) error) error) error {
	err := read(r, name, func(id string) error {
		p.recs++
		p.saw(id, ref{src: p.src, rec: p.recs})
		return nil
	})
	var re *catalog.RowErrors
	if errors.As(err, &re) {
		p.errs.merge(re)
		if p.bad == nil {
			p.bad = map[int]map[int]bool{}
		}
		bad := map[int]bool{}
		for _, row := range re.Rows {
			bad[row.Line] = true
		}
		p.bad[p.src] = bad
		return nil
	}
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	return nil
}

// resolveDuplicates reports every id used again, with both places.
func (p *parser) resolveDuplicates() error {
	if len(p.dups) == 0 {
		return nil
	}
	// Find the lines of records known only by number, one pass per source.
	want := map[int]map[int]int{} // src → rec → line
	for _, d := range p.dups {
		for _, at := range []ref{d.first, d.next} {
			if at.line == 0 {
				if want[at.src] == nil {
					want[at.src] = map[int]int{}
				}
				want[at.src][at.rec] = 0
			}
		}
	}
	for src, recs := range want {
		if err := p.recordLines(src, recs); err != nil {
			return err
		}
	}
	line := func(at ref) int {
		if at.line != 0 {
			return at.line
		}
		return want[at.src][at.rec]
	}
	for _, d := range p.dups {
		where := fmt.Sprintf("on line %d", line(d.first))
		if d.first.src != d.next.src {
			where = fmt.Sprintf("at %s:%d", p.srcs[d.first.src].Name, line(d.first))
		}
		p.errs.add(p.srcs[d.next.src].Name, line(d.next), "id", "%q is already used %s", d.id, where)
	}
	return nil
}

// recordLines fills recs (record number → line) for a JSON-lines source:
// record k is the k-th non-blank line that no row error named.
func (p *parser) recordLines(src int, recs map[int]int) error {
	rc, err := p.srcs[src].Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	lr := catalog.NewLineReader(rc)
	bad := p.bad[src]
	k := 0
	for {
		line, tooLong, err := lr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("ingest: %s:%d: read: %w", p.srcs[src].Name, lr.Line(), err)
		}
		if tooLong || bad[lr.Line()] || len(strings.TrimSpace(string(line))) == 0 {
			continue
		}
		k++
		if _, ok := recs[k]; ok {
			recs[k] = lr.Line()
		}
	}
}

// rowErrors collects row problems like catalog's readers do.
type rowErrors struct{ catalog.RowErrors }

func (e *rowErrors) add(name string, line int, field, format string, args ...any) {
	e.Total++
	if len(e.Rows) < catalog.MaxRowErrors {
		e.Rows = append(e.Rows, &catalog.RowError{Name: name, Line: line, Field: field, Problem: fmt.Sprintf(format, args...)})
	}
}

func (e *rowErrors) merge(re *catalog.RowErrors) {
	for _, r := range re.Rows {
		if len(e.Rows) < catalog.MaxRowErrors {
			e.Rows = append(e.Rows, r)
		}
	}
	e.Total += re.Total
}

// err returns the collected problems sorted by input and line, or nil.
func (e *rowErrors) err(srcs []Source) error {
	if e.Total == 0 {
		return nil
	}
	order := make(map[string]int, len(srcs))
	for i := len(srcs) - 1; i >= 0; i-- {
		order[srcs[i].Name] = i
	}
	slices.SortStableFunc(e.Rows, func(a, b *catalog.RowError) int {
		return cmp.Or(cmp.Compare(order[a.Name], order[b.Name]), cmp.Compare(a.Line, b.Line))
	})
	re := e.RowErrors
	return &re
}

// countingReader reports the bytes read through it.
type countingReader struct {
	r   io.Reader
	add func(int)
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.add(n)
	return n, err
}

// Write stores a parsed batch for shop in one transaction and returns what
// changed. When progress is not nil and the batch has at least
// ProgressMinRows records, it draws a progress bar there.
func Write(ctx context.Context, st *store.Store, shop string, b *Batch, progressTo io.Writer) (Result, error) {
	res := Result{Read: b.Len()}
	var opts []store.BatchOption
	if progressTo != nil && b.Len() >= ProgressMinRows {
		bar := progress.New(progressTo, "write "+string(b.Kind), b.Len())
		defer bar.Done()
		opts = append(opts, store.OnProgress(bar.Add))
	}
	var err error
	switch b.Kind {
	case Catalog:
		res.Changed, err = st.UpsertProducts(ctx, shop, b.Products, opts...)
	case Reviews:
		res.Changed, err = st.UpsertReviews(ctx, shop, b.Reviews, opts...)
	case QA:
		res.Changed, err = st.UpsertQA(ctx, shop, b.QA, opts...)
	case FAQ:
		res.Changed, err = st.UpsertFAQ(ctx, shop, b.FAQ, opts...)
	case Events:
		res.Changed, err = st.AppendEvents(ctx, shop, b.Events, opts...)
	default:
		err = fmt.Errorf("unknown kind %q", b.Kind)
	}
	if err != nil {
		return Result{}, fmt.Errorf("ingest: write %s: %w", b.Kind, err)
	}
	res.Unchanged = res.Read - res.Changed
	return res, nil
}

// Files parses the files at paths as kind and, when every row is valid,
// writes them for shop in one transaction: FileSources, Parse and Write.
func Files(ctx context.Context, st *store.Store, shop string, kind Kind, paths []string, opts Options) (Result, error) {
	srcs, err := FileSources(kind, paths)
	if err != nil {
		return Result{}, err
	}
	b, err := Parse(kind, srcs, opts)
	if err != nil {
		return Result{}, err
	}
	return Write(ctx, st, shop, b, opts.Progress)
}
