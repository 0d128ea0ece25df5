package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/aisle-rec/aisle/shared/snapshot"
	"github.com/klauspost/compress/flate"
)

// resign replaces the SHA-256 trailer of an encoded snapshot, so that a
// corrupted body reaches the decoder.
func resign(b []byte) []byte {
	c := bytes.Clone(b)
	sum := sha256.Sum256(c[:len(c)-sha256.Size])
	copy(c[len(c)-sha256.Size:], sum[:])
	return c
}

// TestInflater holds the Worker's inflater (klauspost/compress) to the
// contract of snapshot.DecodeOptions.Inflate: the same snapshots as
// compress/flate, and every damaged stream rejected.
func TestInflater(t *testing.T) {
	s := snapshot.Synthetic(3000, 16, 6, 7, 2)
	s.Region = "eu"
	good, err := snapshot.Encode(s, snapshot.EncodeOptions{Compress: true})
	if err != nil {
		t.Fatal(err)
	}
	opt := snapshot.DecodeOptions{Inflate: flate.NewReader}
	decode := func(b []byte) (*snapshot.Snapshot, *snapshot.Snapshot, error, error) {
		std, e1 := snapshot.Decode(b, snapshot.Limits{})
		fast, e2 := snapshot.DecodeWith(b, opt)
		return std, fast, e1, e2
	}
	std, fast, e1, e2 := decode(good)
	if e1 != nil || e2 != nil {
		t.Fatalf("decode: %v / %v", e1, e2)
	}
	if !reflect.DeepEqual(std, fast) {
		t.Fatal("the inflaters decode different snapshots")
	}

	hlen := int(binary.LittleEndian.Uint32(good[len(snapshot.Magic)+2:]))
	bodyAt := len(snapshot.Magic) + 2 + 4 + hlen
	end := len(good) - sha256.Size
	damaged := map[string][]byte{
		"byte after the stream": resign(append(append(bytes.Clone(good[:end]), 0), make([]byte, sha256.Size)...)),
		"stream cut short":      resign(append(bytes.Clone(good[:end-7]), make([]byte, sha256.Size)...)),
	}
	for _, d := range []int64{-1, 1} {
		c := bytes.Clone(good)
		at := bodyAt - 8
		binary.LittleEndian.PutUint64(c[at:], uint64(int64(binary.LittleEndian.Uint64(c[at:]))+d))
		damaged[fmt.Sprintf("declared length %+d", d)] = resign(c)
	}
	for name, b := range damaged {
		if _, err := snapshot.DecodeWith(b, opt); !errors.Is(err, snapshot.ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", name, err)
		}
	}

	// Random damage to the deflate stream: whatever one inflater accepts,
	// the other decodes to the same snapshot or rejects too.
	r := rand.New(rand.NewPCG(1, 2))
	both := 0
	for range 300 {
		c := bytes.Clone(good)
		for range 1 + r.IntN(3) {
			c[bodyAt+r.IntN(end-bodyAt)] ^= byte(1 + r.IntN(255))
		}
		std, fast, e1, e2 := decode(resign(c))
		if e2 != nil && !errors.Is(e2, snapshot.ErrCorrupt) && !errors.Is(e2, snapshot.ErrTooLarge) {
			t.Fatalf("damaged stream: %v wraps no expected sentinel", e2)
		}
		if e1 == nil && e2 == nil {
			both++
			if !reflect.DeepEqual(std, fast) {
				t.Fatal("a damaged stream decodes to different snapshots")
			}
		}
	}
	t.Logf("%d of 300 damaged streams still decoded (identically)", both)
}
