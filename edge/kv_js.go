//go:build js && wasm

package edge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"syscall/js"

	"github.com/aisle-rec/aisle/shared/snapshot"
)

// ErrKVMissing: a Workers KV key has no value (KV answered null).
var ErrKVMissing = errors.New("edge: kv: key not found")

// KVSource is a Source that reads snapshots from a Workers KV namespace:
//
//	snapshot:{region}:pointer    → the current version (plain text, or
//	                               {"version": "..."} as the hub serves it)
//	snapshot:{region}:{version}  → the snapshot bytes
//
// When the pointer gives the snapshot's length ({"version": "...",
// "bytes": N}, what the hub writes: snapshot.KVPointerValue), FetchStream
// reads the content value as a stream, get(key, {type: "stream"}), one
// reused buffer at a time into the decoder, so the snapshot never sits
// whole in the isolate; otherwise, and for Fetch, values are read with
// get(key, {type: "arrayBuffer"}) and copied into Go in one
// js.CopyBytesToGo. (syumai/workers' kv package offers only text, which
// would mangle binary bytes, and stream reads through its slow adapters.)
type KVSource struct {
	// MaxBytes caps a snapshot value. NewKVSource sets it to
	// snapshot.DefaultLimits().MaxTotalBytes; Workers KV itself stores at
	// most 25 MiB per value.
	MaxBytes int

	ns     js.Value
	region string

	mu       sync.Mutex
	size     map[string]int // a version's length, from the last pointer that named it
	distrust string         // a version whose streamed value was not that length
}

// NewKVSource returns a Source for region reading the KV namespace binding
// ns (env.SNAPSHOTS, say). It does no I/O.
func NewKVSource(ns js.Value, region string) (*KVSource, error) {
	if ns.Type() != js.TypeObject || ns.Get("get").Type() != js.TypeFunction {
		return nil, errors.New("edge: kv source: the binding is not a KV namespace (no get method); check [[kv_namespaces]] in wrangler.toml")
	}
	if err := checkRegion(region); err != nil {
		return nil, fmt.Errorf("edge: kv source: region: %w", err)
	}
	return &KVSource{MaxBytes: snapshot.DefaultLimits().MaxTotalBytes, ns: ns, region: region, size: map[string]int{}}, nil
}

// PointerKey is the KV key naming region's current snapshot.
func PointerKey(region string) string { return snapshot.KVPointerKey(region) }

// ContentKey is the KV key holding the bytes of one snapshot version.
func ContentKey(region, version string) string { return snapshot.KVContentKey(region, version) }

// Pointer returns the version of the region's current snapshot.
func (s *KVSource) Pointer(ctx context.Context) (string, error) {
	key := PointerKey(s.region)
	b, err := s.get(ctx, key, MaxPointerBytes)
	if err != nil {
		return "", err
	}
	b = bytes.TrimSpace(b)
	n := 0
	if len(b) > 0 && b[0] == '{' {
		var p struct {
			Version string `json:"version"`
			Bytes   int    `json:"bytes"`
		}
		if err := json.Unmarshal(b, &p); err != nil {
			return "", fmt.Errorf("edge: kv %s: %w: not {\"version\": \"...\"}", key, ErrBadVersion)
		}
		b, n = []byte(p.Version), p.Bytes
	}
	v := string(b)
	if err := checkVersion(v); err != nil {
		return "", fmt.Errorf("edge: kv %s: %w", key, err)
	}
	s.mu.Lock()
	clear(s.size) // only the current version is fetched
	if n > 0 && n <= s.maxBytes() && v != s.distrust {
		s.size[v] = n
	}
	s.mu.Unlock()
	return v, nil
}

func (s *KVSource) maxBytes() int {
	if s.MaxBytes <= 0 {
		return snapshot.DefaultLimits().MaxTotalBytes
	}
	return s.MaxBytes
}

// FetchStream returns a reader of version's bytes as KV streams them, when
// the pointer that named version gave its length; otherwise the value read
// whole. It does not verify them; the loader does as it decodes. A value
// longer or shorter than the length fails the read.
func (s *KVSource) FetchStream(ctx context.Context, version string) (io.ReadCloser, int, error) {
	if err := checkVersion(version); err != nil {
		return nil, 0, err
	}
	s.mu.Lock()
	n, ok := s.size[version]
	s.mu.Unlock()
	if !ok {
		b, err := s.Fetch(ctx, version)
		if err != nil {
			return nil, 0, err
		}
		return HeldBody(b), len(b), nil
	}
	key := ContentKey(s.region, version)
	opts := js.Global().Get("Object").New()
	opts.Set("type", "stream")
	p, err := call(s.ns, "get", key, opts)
	if err != nil {
		return nil, 0, fmt.Errorf("edge: kv get %s: %w", key, err)
	}
	v, err := await(ctx, p)
	if err != nil {
		return nil, 0, fmt.Errorf("edge: kv get %s: %w", key, err)
	}
	if v.IsNull() || v.IsUndefined() {
		return nil, 0, fmt.Errorf("%w: %s", ErrKVMissing, key)
	}
	r, err := newStreamReader(ctx, v, int64(n))
	if err != nil {
		return nil, 0, fmt.Errorf("edge: kv get %s: %w", key, err)
	}
	return &kvStream{streamReader: r, src: s, version: version}, n, nil
}

// kvStream is a streamed KV value. If the value turns out longer or
// shorter than its pointer said, the version's length is no longer
// trusted, so the next attempt reads the value whole and the decoder
// judges the bytes.
type kvStream struct {
	*streamReader
	src     *KVSource
	version string
}

func (k *kvStream) Read(p []byte) (int, error) {
	n, err := k.streamReader.Read(p)
	if err == nil && k.left == 0 {
		// The length is read: the value must end here (a reader of
		// exactly that many bytes would not look further).
		var one [1]byte
		if _, end := k.streamReader.Read(one[:]); end != io.EOF {
			err = end
		}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, ErrBodyTooLarge) {
		k.src.mu.Lock()
		delete(k.src.size, k.version)
		k.src.distrust = k.version
		k.src.mu.Unlock()
	}
	return n, err
}

// Fetch returns the bytes stored for version. It does not verify them; the
// edge does (VerifySnapshot).
func (s *KVSource) Fetch(ctx context.Context, version string) ([]byte, error) {
	if err := checkVersion(version); err != nil {
		return nil, err
	}
	return s.get(ctx, ContentKey(s.region, version), s.maxBytes())
}

// get reads one value as bytes. Keys are not secret and carry no visitor
// data, so errors name them.
func (s *KVSource) get(ctx context.Context, key string, max int) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	opts := js.Global().Get("Object").New()
	opts.Set("type", "arrayBuffer")
	p, err := call(s.ns, "get", key, opts)
	if err != nil {
		return nil, fmt.Errorf("edge: kv get %s: %w", key, err)
	}
	v, err := await(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("edge: kv get %s: %w", key, err)
	}
	if v.IsNull() || v.IsUndefined() {
		return nil, fmt.Errorf("%w: %s", ErrKVMissing, key)
	}
	n := v.Get("byteLength").Int()
	if n > max {
		return nil, fmt.Errorf("edge: kv get %s: %w: %d bytes, limit %d", key, ErrBodyTooLarge, n, max)
	}
	b := make([]byte, n)
	js.CopyBytesToGo(b, js.Global().Get("Uint8Array").New(v))
	return b, nil
}

// call invokes v[method](args...), turning a synchronous JavaScript throw
// (which syscall/js reports as a panic) into an error.
func call(v js.Value, method string, args ...any) (res js.Value, err error) {
	defer func() {
		if p := recover(); p != nil {
			if je, ok := p.(js.Error); ok {
				err = fmt.Errorf("%s threw: %s", method, jsErrorString(je.Value))
				return
			}
			panic(p)
		}
	}()
	return v.Call(method, args...), nil
}
