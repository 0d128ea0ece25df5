package edge

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestNativeLoaderVersion: LoadVersion checks the bytes against their
// version in the same pass as their checksum, with or without a collection
// between decoding and building the index.
func TestNativeLoaderVersion(t *testing.T) {
	good := synth(t, 5, time.Hour, nil)
	other := synth(t, 6, time.Hour, nil)
	for _, l := range []NativeLoader{{}, {Collect: true}} {
		r, err := l.LoadVersion(context.Background(), good.b, good.version)
		if err != nil {
			t.Fatalf("collect %v: %v", l.Collect, err)
		}
		if r.Version() != good.version {
			t.Fatalf("collect %v: version %s, want %s", l.Collect, r.Version(), good.version)
		}
		if _, err := l.LoadVersion(context.Background(), good.b, other.version); !errors.Is(err, ErrMismatch) {
			t.Fatalf("collect %v: bytes under another version: %v, want ErrMismatch", l.Collect, err)
		}
		if _, err := l.LoadVersion(context.Background(), good.b, ""); !errors.Is(err, ErrMismatch) {
			t.Fatalf("collect %v: no version: %v, want ErrMismatch", l.Collect, err)
		}
	}
}
