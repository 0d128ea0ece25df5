package rank

import (
	"errors"
	"reflect"
	"testing"
)

func TestSegmentsRoundTrip(t *testing.T) {
	s := &Segments{Dims: 2, Centroids: []float32{1, 0, 0, 1}, Labels: []string{"Toys", "Books"}, Items: [][]uint32{{3, 1}, {7}}}
	b := s.Marshal()
	got, err := UnmarshalSegments(b, 10, 2)
	if err != nil || !reflect.DeepEqual(got, s) {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	for name, tc := range map[string]struct {
		b    []byte
		n, d int
	}{
		"wrong dims":       {b, 10, 3},
		"item outside":     {b, 5, 2},
		"truncated":        {b[:len(b)-1], 10, 2},
		"trailing":         {append(append([]byte(nil), b...), 0), 10, 2},
		"huge count":       {[]byte{0xff, 0xff, 0xff, 0xff, 0x0f, 2}, 10, 2},
		"empty":            {nil, 10, 2},
		"count beyond end": {[]byte{100, 2}, 10, 2},
	} {
		if _, err := UnmarshalSegments(tc.b, tc.n, tc.d); !errors.Is(err, errSegments) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func FuzzUnmarshalSegments(f *testing.F) {
	s := &Segments{Dims: 2, Centroids: []float32{1, 0, 0, 1}, Labels: []string{"Toys", "Books"}, Items: [][]uint32{{3, 1}, {7}}}
	f.Add(s.Marshal())
	f.Add([]byte{0xdd, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := UnmarshalSegments(b, 10, 2)
		if err != nil {
			return
		}
		again, err := UnmarshalSegments(got.Marshal(), 10, 2)
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Fatalf("re-encoding: %v", err)
		}
	})
}
