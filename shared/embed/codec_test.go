package embed

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"testing"
)

func TestMarshalRoundTrip(t *testing.T) {
	e := testEmbedder(t, 6, 7)
	b := e.Marshal()
	d, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if d.Dims() != e.Dims() || d.MaxTokens() != e.MaxTokens() || !slices.Equal(d.Vocab(), e.Vocab()) {
		t.Fatalf("header differs: dims %d/%d, max tokens %d/%d", d.Dims(), e.Dims(), d.MaxTokens(), e.MaxTokens())
	}
	qa, sa := e.Table()
	qb, sb := d.Table()
	if !slices.Equal(qa, qb) || !slices.Equal(sa, sb) {
		t.Fatal("table differs after a round trip")
	}
	if !bytes.Equal(d.Marshal(), b) {
		t.Fatal("Marshal is not stable")
	}
	text := "Hello, World! lipsticks 中"
	if !slices.Equal(d.Embed(text, nil), e.Embed(text, nil)) {
		t.Fatal("decoded embedder embeds differently")
	}
}

func TestUnmarshalRejects(t *testing.T) {
	good := testEmbedder(t, 3, 5).Marshal()
	hdr := func(dims, maxTokens, vocab uint64) []byte {
		b := append([]byte(magic), formatVersion)
		b = binary.AppendUvarint(b, dims)
		b = binary.AppendUvarint(b, maxTokens)
		return binary.AppendUvarint(b, vocab)
	}
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"bad magic", append([]byte("XEMB"), good[4:]...)},
		{"future version", append(append([]byte(magic), formatVersion+1), good[5:]...)},
		{"truncated header", good[:6]},
		{"truncated table", good[:len(good)-1]},
		{"trailing byte", append(slices.Clone(good), 0)},
		{"zero dims", hdr(0, 5, 2)},
		{"dims over limit", hdr(MaxDims+1, 5, 2)},
		{"max tokens over limit", hdr(3, MaxTokensLimit+1, 2)},
		{"huge vocabulary, tiny input", hdr(3, 5, MaxVocab)},
		{"vocabulary over limit", hdr(3, 5, MaxVocab+1)},
		{"overlong varint", append(hdr(3, 5, 2)[:5], 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)},
		{"entry longer than input", append(hdr(1, 5, 2), append([]byte{100}, make([]byte, 12)...)...)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Unmarshal(tc.b)
			if err == nil {
				t.Fatal("Unmarshal accepted invalid input")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
		})
	}
}

func FuzzUnmarshal(f *testing.F) {
	good := testEmbedder(f, 4, 9).Marshal()
	f.Add(good)
	for _, n := range []int{0, 4, 5, 6, 8, 12, 20, len(good) / 2, len(good) - 1} {
		f.Add(good[:n])
	}
	for _, bit := range []int{33, 41, 49, 57, 70, 100, 200, 8*len(good) - 1} {
		b := slices.Clone(good)
		b[bit/8%len(b)] ^= 1 << (bit % 8)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Unmarshal(b)
		if err != nil {
			return
		}
		// A decoded embedder must round-trip and embed without panicking.
		d, err := Unmarshal(e.Marshal())
		if err != nil {
			t.Fatalf("re-encoded embedder does not decode: %v", err)
		}
		if !slices.Equal(d.Vocab(), e.Vocab()) {
			t.Fatal("vocabulary changed in a round trip")
		}
		v := e.Embed("Hello, World! 中文 "+e.Token(e.Len()-1), nil)
		if len(v) != e.Dims() {
			t.Fatalf("Embed returned %d values, want %d", len(v), e.Dims())
		}
	})
}
