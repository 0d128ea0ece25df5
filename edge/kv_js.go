//go:build js && wasm

package edge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
// Values are read with get(key, {type: "arrayBuffer"}) and copied into Go
// in one js.CopyBytesToGo: syumai/workers' kv package offers only text
// (which would mangle binary bytes) and stream reads (slow for megabytes).
type KVSource struct {
	// MaxBytes caps a snapshot value. NewKVSource sets it to
	// snapshot.DefaultLimits().MaxTotalBytes; Workers KV itself stores at
	// most 25 MiB per value.
	MaxBytes int

	ns     js.Value
	region string
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
	return &KVSource{MaxBytes: snapshot.DefaultLimits().MaxTotalBytes, ns: ns, region: region}, nil
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
	if len(b) > 0 && b[0] == '{' {
		var p struct {
			Version string `json:"version"`
		}
		if err := json.Unmarshal(b, &p); err != nil {
			return "", fmt.Errorf("edge: kv %s: %w: not {\"version\": \"...\"}", key, ErrBadVersion)
		}
		b = []byte(p.Version)
	}
	v := string(b)
	if err := checkVersion(v); err != nil {
		return "", fmt.Errorf("edge: kv %s: %w", key, err)
	}
	return v, nil
}

// Fetch returns the bytes stored for version. It does not verify them; the
// edge does (VerifySnapshot).
func (s *KVSource) Fetch(ctx context.Context, version string) ([]byte, error) {
	if err := checkVersion(version); err != nil {
		return nil, err
	}
	max := s.MaxBytes
	if max <= 0 {
		max = snapshot.DefaultLimits().MaxTotalBytes
	}
	return s.get(ctx, ContentKey(s.region, version), max)
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
