// Package publish keeps the hub's published snapshots and serves them to
// edges.
//
// Snapshots are stored by content: {dir}/{region}/{version}.snap, where the
// version is the hex SHA-256 of the bytes, and a pointer file
// {dir}/{region}/POINTER names the current one. Publishing writes the
// content first and moves the pointer second, each through a temporary file
// and a rename, so a crash at any moment leaves either the old or the new
// snapshot served, never a half-written one.
//
// Edges read them over HTTP:
//
//	GET /v1/snapshots/{region}/current    → {"version": "…", "hash": "…", "built": ms, "items": n, "bytes": n}
//	GET /v1/snapshots/{region}/{version}  → the bytes (immutable, ETag)
//
// Both require "Authorization: Bearer <edge secret>".
package publish

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/aisle-rec/aisle/shared/snapshot"
)

// ErrNotFound is returned for a region or version with nothing published.
var ErrNotFound = errors.New("publish: not found")

var (
	regionRE  = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)
	versionRE = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// Store is a directory of published snapshots. It is safe for concurrent
// use by one process.
//
// Versions are content hashes and their files never change, so the store
// keeps the bytes it has read and checked in memory (up to CacheBytes, the
// least recently served dropped first): a cold edge's pointer check and
// snapshot fetch then cost no disk read and no hashing. A 100,000-item
// snapshot (18 MiB) took about 60 ms to read and hash three times over
// before the first byte reached the edge (aisle bench edge, at load).
type Store struct {
	dir    string
	limits snapshot.Limits
	mu     sync.Mutex // serialises publishers; readers need no lock

	cmu    sync.Mutex // guards the cache
	cache  map[string]*cached
	cached int    // bytes in cache
	tick   uint64 // cache use counter
	// CacheBytes bounds the verified bytes kept in memory (default
	// DefaultCacheBytes; 0 or less keeps none). Set it before first use.
	CacheBytes int
}

// DefaultCacheBytes is the default Store.CacheBytes: the current and
// previous snapshots of a few large regions.
const DefaultCacheBytes = 256 << 20

// cached is one version's checked bytes and header.
type cached struct {
	b    []byte
	info snapshot.Info
	used uint64
}

// Open returns the store rooted at dir, creating the directory.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	return &Store{dir: dir, limits: snapshot.DefaultLimits(), cache: map[string]*cached{}, CacheBytes: DefaultCacheBytes}, nil
}

// Publish checks that b is a valid snapshot for region, stores it, and makes
// it the region's current snapshot. It returns the version. A snapshot that
// does not decode, or was built for another region, is refused and nothing
// changes.
func (s *Store) Publish(region string, b []byte) (string, error) {
	if !regionRE.MatchString(region) {
		return "", fmt.Errorf("publish: region %q: want 1 to 64 letters, digits, '-', '_' or '.'", region)
	}
	snap, err := snapshot.Decode(b, s.limits)
	if err != nil {
		return "", fmt.Errorf("publish: %w", err)
	}
	if snap.Region != region {
		return "", fmt.Errorf("publish: snapshot is for region %q, not %q", snap.Region, region)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rdir := filepath.Join(s.dir, region)
	if err := os.MkdirAll(rdir, 0o755); err != nil {
		return "", fmt.Errorf("publish: %w", err)
	}
	content := filepath.Join(rdir, snap.Version+".snap")
	if _, err := os.Stat(content); err != nil {
		if err := WriteFileAtomic(content, b); err != nil {
			return "", fmt.Errorf("publish: %w", err)
		}
	}
	if err := WriteFileAtomic(filepath.Join(rdir, "POINTER"), []byte(snap.Version+"\n")); err != nil {
		return "", fmt.Errorf("publish: %w", err)
	}
	if info, err := snapshot.ReadInfo(b, s.limits); err == nil {
		s.remember(region, snap.Version, slices.Clone(b), info)
	}
	return snap.Version, nil
}

// Pointer returns region's current version.
func (s *Store) Pointer(region string) (string, error) {
	if !regionRE.MatchString(region) {
		return "", ErrNotFound
	}
	b, err := os.ReadFile(filepath.Join(s.dir, region, "POINTER"))
	if errors.Is(err, os.ErrNotExist) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("publish: %w", err)
	}
	v := strings.TrimSpace(string(b))
	if !versionRE.MatchString(v) {
		return "", fmt.Errorf("publish: region %s: corrupt pointer", region)
	}
	return v, nil
}

// Get returns the bytes of one published version, checked against it. The
// bytes may be shared with other callers: do not modify them.
func (s *Store) Get(region, version string) ([]byte, error) {
	c, err := s.get(region, version)
	if err != nil {
		return nil, err
	}
	return c.b, nil
}

// get returns a version's checked bytes and header, from the cache or read
// and checked from disk.
func (s *Store) get(region, version string) (*cached, error) {
	if !regionRE.MatchString(region) || !versionRE.MatchString(version) {
		return nil, ErrNotFound
	}
	key := region + "/" + version
	s.cmu.Lock()
	if c := s.cache[key]; c != nil {
		s.tick++
		c.used = s.tick
		s.cmu.Unlock()
		return c, nil
	}
	s.cmu.Unlock()
	b, err := os.ReadFile(filepath.Join(s.dir, region, version+".snap"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	// ReadInfo checks the trailer and computes the version, the hash of
	// every byte.
	info, err := snapshot.ReadInfo(b, s.limits)
	if err != nil || info.Version != version {
		return nil, fmt.Errorf("publish: %s/%s: stored bytes do not match their version", region, version)
	}
	return s.remember(region, version, b, info), nil
}

// remember caches a version's checked bytes, dropping the least recently
// used ones past CacheBytes, and returns its entry.
func (s *Store) remember(region, version string, b []byte, info snapshot.Info) *cached {
	c := &cached{b: b, info: info}
	if len(b) > s.CacheBytes {
		return c
	}
	key := region + "/" + version
	s.cmu.Lock()
	defer s.cmu.Unlock()
	if old := s.cache[key]; old != nil {
		return old
	}
	for s.cached+len(b) > s.CacheBytes {
		var lru string
		for k, e := range s.cache {
			if lru == "" || e.used < s.cache[lru].used {
				lru = k
			}
		}
		s.cached -= len(s.cache[lru].b)
		delete(s.cache, lru)
	}
	s.tick++
	c.used = s.tick
	s.cache[key] = c
	s.cached += len(b)
	return c
}

// Size returns the stored size in bytes of one published version.
func (s *Store) Size(region, version string) (int64, error) {
	if !regionRE.MatchString(region) || !versionRE.MatchString(version) {
		return 0, ErrNotFound
	}
	fi, err := os.Stat(filepath.Join(s.dir, region, version+".snap"))
	if errors.Is(err, os.ErrNotExist) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("publish: %w", err)
	}
	return fi.Size(), nil
}

// WriteFileAtomic writes b to path through a synced temporary file and a
// rename, so a reader sees the old file or the new one, never a part.
func WriteFileAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync() // make the rename durable where the platform allows
		d.Close()
	}
	return nil
}

// Handler serves the store to edges holding secret. It answers only the two
// snapshot routes under /v1/snapshots/.
func Handler(s *Store, secret string) http.Handler {
	want := []byte("Bearer " + secret)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			httpError(w, http.StatusMethodNotAllowed, "method not allowed")
			return
		}
		if secret == "" || subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			httpError(w, http.StatusUnauthorized, "missing or wrong edge credential")
			return
		}
		rest, ok := strings.CutPrefix(r.URL.Path, "/v1/snapshots/")
		parts := strings.Split(rest, "/")
		if !ok || len(parts) != 2 {
			httpError(w, http.StatusNotFound, "not found")
			return
		}
		region, name := parts[0], parts[1]
		if name == "current" {
			v, err := s.Pointer(region)
			if err != nil {
				storeError(w, err)
				return
			}
			c, err := s.get(region, v)
			if err != nil {
				storeError(w, err)
				return
			}
			w.Header().Set("Cache-Control", "no-store")
			// The version is the content hash; both names are given so a
			// reader need not know that.
			_ = json.NewEncoder(w).Encode(currentAnswer{Version: v, Hash: v, Built: c.info.Built, Items: c.info.Items, Bytes: len(c.b)})
			return
		}
		etag := `"` + name + `"`
		if r.Header.Get("If-None-Match") == etag && versionRE.MatchString(name) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		b, err := s.Get(region, name)
		if err != nil {
			storeError(w, err)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/octet-stream")
		h.Set("ETag", etag)
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		h.Set("Content-Length", strconv.Itoa(len(b)))
		if r.Method == http.MethodGet {
			_, _ = w.Write(b)
		}
	})
}

// currentAnswer is the body of GET /v1/snapshots/{region}/current.
type currentAnswer struct {
	Version string `json:"version"`
	Hash    string `json:"hash"`
	Built   int64  `json:"built"`
	Items   int    `json:"items"`
	Bytes   int    `json:"bytes"`
}

func storeError(w http.ResponseWriter, err error) {
	if errors.Is(err, ErrNotFound) {
		httpError(w, http.StatusNotFound, "not found")
		return
	}
	httpError(w, http.StatusInternalServerError, "snapshot store unavailable")
}

func httpError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
