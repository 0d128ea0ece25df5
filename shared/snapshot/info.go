package snapshot

import (
	"crypto/sha256"
	"encoding/hex"
)

// Info is what the header of an encoded snapshot says, with its version.
type Info struct {
	Version      string
	Shop, Region string
	Built        int64
	Items, Dims  int
	Clusters     int
	Compressed   bool
}

// ReadInfo checks b's header against lim and its checksum, and returns the
// header's facts without decoding the body. A nil error does not promise
// that the body decodes: Decode checks that.
func ReadInfo(b []byte, lim Limits) (Info, error) {
	lim = lim.normalized()
	h, err := readHeader(b, lim)
	if err != nil {
		return Info{}, err
	}
	sum := sha256.Sum256(b[:len(b)-trailerLen])
	if string(sum[:]) != string(b[len(b)-trailerLen:]) {
		return Info{}, &codecError{kind: ErrChecksum, msg: "checksum: the SHA-256 of the content does not match the trailer"}
	}
	v := sha256.Sum256(b)
	return Info{
		Version: hex.EncodeToString(v[:]), Shop: string(h.shop), Region: string(h.region), Built: h.built,
		Items: h.items, Dims: h.dims, Clusters: h.clusters, Compressed: h.deflate,
	}, nil
}
