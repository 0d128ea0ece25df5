package rank

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/aisle-rec/aisle/shared/embed"
	"github.com/aisle-rec/aisle/shared/snapshot"
	"github.com/aisle-rec/aisle/shared/wire"
)

// Index is a snapshot prepared for ranking: item lookup by id, cluster
// members by popularity, a lexical index over titles and categories (built
// on first use), and a pool of per-request scratch space. It is immutable and safe for concurrent
// use; swap in a new Index to serve a new snapshot.
type Index struct {
	snap *snapshot.Snapshot
	cfg  Config
	n    int
	dims int

	ids    idTable
	logPop []float32 // log1p(popularity) / log1p(max popularity), in [0, 1]
	trend  []float32 // trending score / the top one, in [0, 1]; 0 off the list
	norm   []float32 // Euclidean norm of each quantised item vector

	// clusterOff/clusterItems list each cluster's items, most popular first.
	clusterOff   []uint32
	clusterItems []uint32

	// segments, when the snapshot has them, group past sessions.
	segments *Segments
	// text, when the snapshot has it, embeds search queries into the item
	// space.
	text *embed.Embedder

	// lex is the lexical index over titles and categories, built by the
	// first request that needs it (lexicon): only search placements do,
	// and building it is a large part of preparing an index (about 100 ms
	// of a 100,000-item index's load under Wasm), which a cold edge's
	// first answer should not wait for. Trim drops it; the next search
	// builds it again.
	lexMu sync.Mutex
	lex   atomic.Pointer[lexicon]

	// free holds idle scratch spaces. Unlike a sync.Pool it is not emptied
	// by garbage collection, so a warm index never reallocates its
	// catalogue-sized arrays; it keeps at most maxIdle of them.
	mu   sync.Mutex
	free []*scratch
}

// lexicon is the lexical index: terms numbers the title and category
// tokens; the items holding term t are postItem[postOff[t]:postOff[t+1]],
// in item order, with their BM25 term weights in the same positions of
// postW.
type lexicon struct {
	terms    termTable
	postOff  []uint32
	postItem []uint32
	postW    []float32
}

// maxIdle bounds the scratch spaces an index keeps between requests.
const maxIdle = 64

func (x *Index) getScratch() *scratch {
	x.mu.Lock()
	if n := len(x.free); n > 0 {
		s := x.free[n-1]
		x.free = x.free[:n-1]
		x.mu.Unlock()
		return s
	}
	x.mu.Unlock()
	return newScratch(x.n, x.dims)
}

func (x *Index) putScratch(s *scratch) {
	x.mu.Lock()
	if len(x.free) < maxIdle {
		x.free = append(x.free, s)
	}
	x.mu.Unlock()
}

// New prepares s for ranking with cfg. s is checked with snapshot.Validate
// unless it came from a decoder (snapshot.Checked), and must not be
// modified afterwards.
func New(s *snapshot.Snapshot, cfg Config) (*Index, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if s == nil || s.Len() == 0 {
		return nil, errors.New("rank: empty snapshot")
	}
	if !s.Checked() { // a decoded snapshot has passed these checks
		if err := snapshot.Validate(s); err != nil {
			return nil, err
		}
	}
	x := &Index{snap: s, cfg: cfg, n: s.Len(), dims: s.Dims}
	// Every answer must pass the wire contract, so every string an answer
	// can carry must fit it.
	for i := range x.n {
		for _, f := range [3]string{s.Items.IDs[i], s.Items.Titles[i], s.Items.Categories[i]} {
			if len(f) > wire.MaxString {
				return nil, fmt.Errorf("rank: item %d: a string of %d bytes cannot be answered (wire limit %d); rebuild the snapshot", i, len(f), wire.MaxString)
			}
		}
	}
	// Validate has checked that ids are unique.
	x.ids = newIDTable(s.Items.IDs)
	var maxPop float32
	for _, p := range s.Items.Popularity {
		maxPop = max(maxPop, p)
	}
	x.logPop = make([]float32, x.n)
	if maxPop > 0 {
		den := math.Log1p(float64(maxPop))
		for i, p := range s.Items.Popularity {
			x.logPop[i] = float32(math.Log1p(float64(p)) / den)
		}
	}
	x.trend = make([]float32, x.n)
	if len(s.TrendingScore) > 0 && s.TrendingScore[0] > 0 {
		for j, it := range s.Trending {
			// A list ordered by score keeps its order even if scores tie.
			x.trend[it] = max(s.TrendingScore[j]/s.TrendingScore[0], 1e-6) * (1 - float32(j)*1e-6)
		}
	}
	x.norm = make([]float32, x.n)
	for i := range x.n {
		v := s.Vectors[i*x.dims : (i+1)*x.dims]
		x.norm[i] = float32(math.Sqrt(float64(dotInt8(v, v))))
	}
	x.buildClusters()
	if b := s.Section(embed.SectionName); b != nil {
		e, err := embed.Unmarshal(b)
		if err != nil {
			return nil, fmt.Errorf("rank: %w", err)
		}
		if e.Dims() != x.dims {
			return nil, fmt.Errorf("rank: the text model has %d dimensions, the items %d", e.Dims(), x.dims)
		}
		x.text = e
	}
	if b := s.Section(SegmentsSection); b != nil {
		seg, err := UnmarshalSegments(b, x.n, x.dims)
		if err != nil {
			return nil, err
		}
		x.segments = seg
	}
	return x, nil
}

// Snapshot returns the snapshot x ranks from.
func (x *Index) Snapshot() *snapshot.Snapshot { return x.snap }

// Segments returns the snapshot's visitor segments, or nil.
func (x *Index) Segments() *Segments { return x.segments }

// Lookup returns the item number of id.
func (x *Index) Lookup(id string) (uint32, bool) { return x.ids.find(id) }

// lexicon returns the lexical index, building it if no request has since
// the index was made or trimmed. The first caller builds it; concurrent
// ones wait for that build; later calls cost one atomic load and allocate
// nothing.
func (x *Index) lexicon() *lexicon {
	if l := x.lex.Load(); l != nil {
		return l
	}
	x.lexMu.Lock()
	defer x.lexMu.Unlock()
	if l := x.lex.Load(); l != nil {
		return l
	}
	l := x.buildPostings()
	x.lex.Store(l)
	return l
}

// Trim drops what the index can rebuild when it needs it again: the
// lexical index and the idle scratch spaces. An edge about to load a new
// index beside this one calls it, so that both fit the memory it has;
// requests still in flight keep what they hold.
func (x *Index) Trim() {
	x.lexMu.Lock()
	x.lex.Store(nil)
	x.lexMu.Unlock()
	x.mu.Lock()
	clear(x.free)
	x.free = x.free[:0]
	x.mu.Unlock()
}

// posting returns the items holding token tok and their term weights.
func (l *lexicon) posting(tok []byte) ([]uint32, []float32) {
	t, ok := l.terms.find(tok)
	if !ok {
		return nil, nil
	}
	a, b := l.postOff[t], l.postOff[t+1]
	return l.postItem[a:b], l.postW[a:b]
}

func (x *Index) buildClusters() {
	k := x.snap.Clusters()
	x.clusterOff = make([]uint32, k+1)
	for _, c := range x.snap.Items.Cluster {
		x.clusterOff[int(c)+1]++
	}
	for c := range k {
		x.clusterOff[c+1] += x.clusterOff[c]
	}
	x.clusterItems = make([]uint32, x.n)
	fill := slices.Clone(x.clusterOff[:k])
	for i, c := range x.snap.Items.Cluster {
		x.clusterItems[fill[c]] = uint32(i)
		fill[c]++
	}
	pop := x.snap.Items.Popularity
	for c := range k {
		slices.SortFunc(x.clusterItems[x.clusterOff[c]:x.clusterOff[c+1]], func(a, b uint32) int {
			if d := cmp.Compare(pop[b], pop[a]); d != 0 {
				return d
			}
			return cmp.Compare(a, b)
		})
	}
}

// BM25 parameters for the title index.
const (
	bm25K1 = 1.2
	bm25B  = 0.75
)

// buildPostings builds the lexical index in a few passes over the items'
// tokens, without a map or slice per term: the first numbers the terms,
// the second counts the items holding each, the third fills one flat
// posting array in item order.
func (x *Index) buildPostings() *lexicon {
	items := &x.snap.Items
	l := &lexicon{terms: newTermTable(1024)}
	// tokOff[i]:tokOff[i+1] are item i's token numbers in toks.
	tokOff := make([]uint32, x.n+1)
	toks := make([]uint32, 0, 10*x.n)
	var total float64
	var tk tokenizer
	for i := range x.n {
		toks = l.terms.addWords(items.Titles[i], toks, &tk)
		toks = l.terms.addWords(items.Categories[i], toks, &tk)
		tokOff[i+1] = uint32(len(toks))
		total += float64(tokOff[i+1] - tokOff[i])
	}
	l.terms.compact()
	nt := l.terms.len()
	// seen[t] is the last item (plus one) whose tokens counted term t;
	// count[t] how often it holds it.
	seen := make([]uint32, nt)
	count := make([]uint32, nt)
	// df[t] counts the items holding term t.
	l.postOff = make([]uint32, nt+1)
	df := l.postOff[1:]
	for i := range x.n {
		for _, t := range toks[tokOff[i]:tokOff[i+1]] {
			if seen[t] != uint32(i)+1 {
				seen[t] = uint32(i) + 1
				df[t]++
			}
		}
	}
	idf := make([]float32, nt)
	for t, c := range df {
		idf[t] = float32(math.Log(1 + (float64(x.n)-float64(c)+0.5)/(float64(c)+0.5)))
	}
	for t := range nt {
		l.postOff[t+1] += l.postOff[t]
	}
	avg := float32(total / float64(x.n))
	if avg == 0 {
		avg = 1
	}
	l.postItem = make([]uint32, l.postOff[nt])
	l.postW = make([]float32, l.postOff[nt])
	fill := slices.Clone(l.postOff[:nt])
	clear(seen)
	for i := range x.n {
		row := toks[tokOff[i]:tokOff[i+1]]
		norm := bm25K1 * (1 - bm25B + bm25B*float32(len(row))/avg)
		for _, t := range row {
			if seen[t] != uint32(i)+1 {
				seen[t] = uint32(i) + 1
				count[t] = 0
			}
			count[t]++
		}
		for _, t := range row {
			c := count[t]
			if c == 0 {
				continue // already posted
			}
			count[t] = 0
			n := float32(c)
			j := fill[t]
			fill[t]++
			l.postItem[j] = uint32(i)
			l.postW[j] = idf[t] * n * (bm25K1 + 1) / (n + norm)
		}
	}
	return l
}

// tokenizer yields the lower-case words (letters and digits, two runes or
// more) of a string without allocating once its buffer has grown.
type tokenizer struct {
	s   string
	i   int
	buf []byte
}

func (t *tokenizer) reset(s string) { t.s, t.i = s, 0 }

func (t *tokenizer) next() ([]byte, bool) {
	for t.i < len(t.s) {
		t.buf = t.buf[:0]
		runes := 0
		for t.i < len(t.s) {
			if c := t.s[t.i]; c < utf8.RuneSelf {
				// ASCII, the common case: the same answer as below.
				switch {
				case 'a' <= c && c <= 'z' || '0' <= c && c <= '9':
				case 'A' <= c && c <= 'Z':
					c += 'a' - 'A'
				default:
					goto word
				}
				t.buf = append(t.buf, c)
				runes++
				t.i++
				continue
			}
			r, size := utf8.DecodeRuneInString(t.s[t.i:])
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				break
			}
			t.buf = utf8.AppendRune(t.buf, unicode.ToLower(r))
			runes++
			t.i += size
		}
	word:
		// Skip the separator (or an invalid byte) after the word.
		if t.i < len(t.s) {
			if t.s[t.i] < utf8.RuneSelf {
				t.i++
			} else {
				_, size := utf8.DecodeRuneInString(t.s[t.i:])
				t.i += size
			}
		}
		if runes >= 2 {
			return t.buf, true
		}
	}
	return nil, false
}
