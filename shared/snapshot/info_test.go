package snapshot

import (
	"errors"
	"testing"
)

func TestReadInfo(t *testing.T) {
	s := Synthetic(300, 16, 5, 4, 9)
	for _, compress := range []bool{false, true} {
		b, err := Encode(s, EncodeOptions{Compress: compress})
		if err != nil {
			t.Fatal(err)
		}
		info, err := ReadInfo(b, DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		want := Info{Version: s.Version, Shop: s.Shop, Region: s.Region, Built: s.Built, Items: 300, Dims: 16, Clusters: 4, Compressed: compress}
		if info != want {
			t.Errorf("compress=%v: %+v, want %+v", compress, info, want)
		}
		bad := append([]byte(nil), b...)
		bad[len(bad)/2] ^= 1
		if _, err := ReadInfo(bad, DefaultLimits()); !errors.Is(err, ErrChecksum) {
			t.Errorf("bit flip: %v", err)
		}
		if _, err := ReadInfo(b[:40], DefaultLimits()); err == nil {
			t.Error("truncated accepted")
		}
		if _, err := ReadInfo(b, Limits{MaxItems: 10}); !errors.Is(err, ErrTooLarge) {
			t.Errorf("over the item limit: %v", err)
		}
	}
}
