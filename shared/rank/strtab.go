package rank

import (
	"hash/maphash"
	"math/bits"
	"unicode/utf8"
)

// strTable finds numbered strings by content: an open-addressing hash
// table of numbers (plus one; 0 is an empty slot), at most half full. The
// strings themselves live elsewhere (the snapshot's item ids, the term
// arena), so the table costs 4 bytes a slot and lookups allocate nothing.
// Unlike a map[string]uint32 it holds no string headers and no per-entry
// allocations, which matters in a Wasm isolate whose memory never shrinks.
type strTable struct {
	seed maphash.Seed
	mask uint64
	slot []uint32
}

// newStrTable returns a table sized for n strings.
func newStrTable(n int) strTable {
	size := 1 << bits.Len(uint(max(2*n, 8)-1))
	return strTable{seed: maphash.MakeSeed(), mask: uint64(size - 1), slot: make([]uint32, size)}
}

// full reports whether adding one more string would fill the table past
// half.
func (t *strTable) full(n int) bool { return 2*(n+1) > len(t.slot) }

// ids is an item-id table over s.Items.IDs.
type idTable struct {
	strTable
	ids []string
}

// newIDTable indexes ids, which must be unique (snapshot.Validate checks).
func newIDTable(ids []string) idTable {
	t := idTable{strTable: newStrTable(len(ids)), ids: ids}
	for i, id := range ids {
		j := maphash.String(t.seed, id) & t.mask
		for t.slot[j] != 0 {
			j = (j + 1) & t.mask
		}
		t.slot[j] = uint32(i) + 1
	}
	return t
}

// find returns the item number of id.
func (t *idTable) find(id string) (uint32, bool) {
	for j := maphash.String(t.seed, id) & t.mask; ; j = (j + 1) & t.mask {
		v := t.slot[j]
		if v == 0 {
			return 0, false
		}
		if t.ids[v-1] == id {
			return v - 1, true
		}
	}
}

// termTable numbers distinct byte strings in the order they are added,
// keeping their bytes in one arena. Terms are short words, hashed with
// FNV-1a from a random basis inline: under Wasm a call to maphash per token
// is a noticeable part of building the index.
type termTable struct {
	strTable
	basis uint64
	arena []byte
	off   []uint32 // term t is arena[off[t]:off[t+1]]
	word  []byte   // addWords' scratch
}

func newTermTable(n int) termTable {
	t := termTable{strTable: newStrTable(n), off: make([]uint32, 1, n+1)}
	t.basis = maphash.String(t.seed, "terms") | 1
	return t
}

// fnvPrime is FNV-1a's 64-bit prime.
const fnvPrime = 1099511628211

// hash is FNV-1a of b from the table's basis.
func (t *termTable) hash(b []byte) uint64 {
	h := t.basis
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime
	}
	return h ^ h>>29
}

// addWords appends the numbers of field's words, as the tokenizer splits
// them, to toks, numbering new ones. An ASCII field, the common case, is
// split here with each word's hash computed as it is read: under Wasm a
// call or two per word is a noticeable part of building the index. Other
// fields go through tk.
func (t *termTable) addWords(field string, toks []uint32, tk *tokenizer) []uint32 {
	for j := 0; j < len(field); j++ {
		if field[j] >= utf8.RuneSelf {
			tk.reset(field)
			for tok, ok := tk.next(); ok; tok, ok = tk.next() {
				toks = append(toks, t.add(tok))
			}
			return toks
		}
	}
	w, h := t.word[:0], t.basis
	for j := 0; j <= len(field); j++ {
		if j < len(field) {
			c := field[j]
			switch {
			case 'a' <= c && c <= 'z' || '0' <= c && c <= '9':
			case 'A' <= c && c <= 'Z':
				c += 'a' - 'A'
			default:
				goto end
			}
			w = append(w, c)
			h = (h ^ uint64(c)) * fnvPrime
			continue
		}
	end:
		if len(w) >= 2 {
			toks = append(toks, t.addHashed(w, h^h>>29))
		}
		w, h = w[:0], t.basis
	}
	t.word = w
	return toks
}

// len returns the number of terms.
func (t *termTable) len() int { return len(t.off) - 1 }

func (t *termTable) term(v uint32) []byte { return t.arena[t.off[v]:t.off[v+1]] }

// find returns the number of term b.
func (t *termTable) find(b []byte) (uint32, bool) {
	if len(t.slot) == 0 {
		return 0, false
	}
	for j := t.hash(b) & t.mask; ; j = (j + 1) & t.mask {
		v := t.slot[j]
		if v == 0 {
			return 0, false
		}
		if string(t.term(v-1)) == string(b) {
			return v - 1, true
		}
	}
}

// add returns the number of term b, numbering it if it is new.
func (t *termTable) add(b []byte) uint32 { return t.addHashed(b, t.hash(b)) }

// addHashed is add for a term whose hash h is known.
func (t *termTable) addHashed(b []byte, h uint64) uint32 {
	j := h & t.mask
	for ; ; j = (j + 1) & t.mask {
		v := t.slot[j]
		if v == 0 {
			break
		}
		if string(t.term(v-1)) == string(b) {
			return v - 1
		}
	}
	v := uint32(t.len())
	t.arena = append(t.arena, b...)
	t.off = append(t.off, uint32(len(t.arena)))
	t.slot[j] = v + 1
	if t.full(t.len()) {
		t.grow()
	}
	return v
}

// grow doubles the table and re-inserts every term.
func (t *termTable) grow() {
	t.mask = 2*t.mask + 1
	t.slot = make([]uint32, t.mask+1)
	for v := range uint32(t.len()) {
		j := t.hash(t.term(v)) & t.mask
		for t.slot[j] != 0 {
			j = (j + 1) & t.mask
		}
		t.slot[j] = v + 1
	}
}

// compact drops the spare capacity of the arena and offsets once every
// term is added.
func (t *termTable) compact() {
	t.arena = append([]byte(nil), t.arena...)
	t.off = append([]uint32(nil), t.off...)
}
