package embed

import (
	"unicode"
	"unicode/utf8"
)

// The tokenizer reproduces, rune for rune, hugot v0.7.7's pure-Go tokenizer
// (github.com/gomlx/go-huggingface/tokenizers/hftokenizer v0.4.1) running
// the tokenizer.json that hub/embed exports:
//
//	normalizer:    BertNormalizer{clean_text, handle_chinese_chars,
//	               strip_accents: false, lowercase}
//	pre_tokenizer: BertPreTokenizer
//	model:         WordPiece{unk_token: [UNK], continuing_subword_prefix: ##,
//	               max_input_chars_per_word: MaxWordBytes}
//	no added tokens, no post-processor (no [CLS]/[SEP])
//
// Normalising drops NUL, U+FFFD (and so invalid UTF-8) and control
// characters other than \t \n \r, surrounds CJK ideographs with spaces,
// turns whitespace into a space and lower-cases everything else one rune at
// a time. Pre-tokenising splits on whitespace and makes each punctuation
// character a word of its own. WordPiece then takes, from the start of each
// word, the longest vocabulary entry (a ContinuingPrefix entry after the
// first piece); a word it cannot spell completely, or longer than
// MaxWordBytes bytes, is one UnkToken.

// IsPunctuation reports whether the pre-tokenizer makes r a word of its own:
// ASCII punctuation and symbols, and Unicode punctuation.
func IsPunctuation(r rune) bool {
	if (r >= 33 && r <= 47) || (r >= 58 && r <= 64) || (r >= 91 && r <= 96) || (r >= 123 && r <= 126) {
		return true
	}
	return unicode.IsPunct(r)
}

func isWhitespace(r rune) bool {
	if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
		return true
	}
	return unicode.Is(unicode.Zs, r)
}

func isControl(r rune) bool {
	if r == '\t' || r == '\n' || r == '\r' {
		return false
	}
	return unicode.IsControl(r)
}

func isChineseChar(r rune) bool {
	return (r >= 0x4E00 && r <= 0x9FFF) ||
		(r >= 0x3400 && r <= 0x4DBF) ||
		(r >= 0x20000 && r <= 0x2A6DF) ||
		(r >= 0x2A700 && r <= 0x2B73F) ||
		(r >= 0x2B740 && r <= 0x2B81F) ||
		(r >= 0x2B820 && r <= 0x2CEAF) ||
		(r >= 0xF900 && r <= 0xFAFF) ||
		(r >= 0x2F800 && r <= 0x2FA1F)
}

// wordScanner yields the words of a text after normalising and
// pre-tokenising, without allocating.
type wordScanner struct {
	text    string
	pos     int
	pending rune // a one-rune word to yield next, or -1
	buf     [MaxWordBytes + utf8.UTFMax]byte
	n, size int // bytes kept, bytes the word really has
}

func newWordScanner(text string) wordScanner { return wordScanner{text: text, pending: -1} }

func (s *wordScanner) add(r rune) {
	s.size += utf8.RuneLen(r)
	if s.size <= MaxWordBytes {
		s.n += utf8.EncodeRune(s.buf[s.n:], r)
	}
}

// next returns the next word, valid until the following call, and whether
// it is longer than MaxWordBytes (its bytes then cut short); ok is false at
// the end of the text.
func (s *wordScanner) next() (w []byte, long, ok bool) {
	s.n, s.size = 0, 0
	if s.pending >= 0 {
		s.add(s.pending)
		s.pending = -1
		return s.buf[:s.n], false, true
	}
	for s.pos < len(s.text) {
		// Invalid UTF-8 decodes to U+FFFD one byte at a time, as ranging
		// over the string does in hftokenizer.
		r, sz := utf8.DecodeRuneInString(s.text[s.pos:])
		s.pos += sz
		switch {
		case r == 0 || r == utf8.RuneError || isControl(r):
			continue
		case isChineseChar(r):
			// Normalised to " r ": a word of its own, not lower-cased.
			if s.size > 0 {
				s.pending = r
				return s.buf[:s.n], s.size > MaxWordBytes, true
			}
			s.add(r)
			return s.buf[:s.n], false, true
		case isWhitespace(r):
			if s.size > 0 {
				return s.buf[:s.n], s.size > MaxWordBytes, true
			}
			continue
		}
		l := unicode.ToLower(r)
		switch {
		case isWhitespace(l):
			if s.size > 0 {
				return s.buf[:s.n], s.size > MaxWordBytes, true
			}
		case IsPunctuation(l):
			if s.size > 0 {
				s.pending = l
				return s.buf[:s.n], s.size > MaxWordBytes, true
			}
			s.add(l)
			return s.buf[:s.n], false, true
		default:
			s.add(l)
		}
	}
	if s.size > 0 {
		return s.buf[:s.n], s.size > MaxWordBytes, true
	}
	return nil, false, false
}

// Words appends to dst the words of text as the tokenizer sees them before
// WordPiece splits them (normalised, pre-tokenised; a word longer than
// MaxWordBytes is cut short) and returns the extended slice.
func Words(text string, dst []string) []string {
	sc := newWordScanner(text)
	for {
		w, _, ok := sc.next()
		if !ok {
			return dst
		}
		dst = append(dst, string(w))
	}
}

// tokenize calls emit with the id of each token of text, in order, until
// emit returns false.
func (e *Embedder) tokenize(text string, emit func(id int32) bool) {
	sc := newWordScanner(text)
	for {
		w, long, ok := sc.next()
		if !ok || !e.emitWord(w, long, emit) {
			return
		}
	}
}

// emitWord calls emit with the ids of one word's pieces and reports
// whether emit wants more.
func (e *Embedder) emitWord(w []byte, long bool, emit func(id int32) bool) bool {
	if long {
		return emit(UnkID)
	}
	// A word of at most MaxWordBytes bytes has at most that many runes
	// and pieces.
	var bounds [MaxWordBytes + 1]int
	var ids [MaxWordBytes]int32
	k := 0
	for i := 0; i < len(w); k++ {
		bounds[k] = i
		_, sz := utf8.DecodeRune(w[i:])
		i += sz
	}
	bounds[k] = len(w)
	np := 0
	for start := 0; start < k; {
		end := k
		for ; end > start; end-- {
			piece := w[bounds[start]:bounds[end]]
			var id int32
			var ok bool
			if start == 0 {
				id, ok = e.words[string(piece)]
			} else {
				id, ok = e.cont[string(piece)]
			}
			if ok {
				ids[np] = id
				np++
				break
			}
		}
		if end == start {
			return emit(UnkID)
		}
		start = end
	}
	for _, id := range ids[:np] {
		if !emit(id) {
			return false
		}
	}
	return true
}
