package edge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/aisle-rec/aisle/shared/wire"
)

// Ranker is a loaded region index. Implementations are immutable and safe
// for concurrent use.
type Ranker interface {
	// Rank answers req into resp, reusing resp.Items. req has passed wire
	// validation and carries Now.
	Rank(ctx context.Context, req *wire.RecommendRequest, resp *wire.RecommendResponse) error
	// Version is the hex SHA-256 of the snapshot bytes the index came from.
	Version() string
	// Items is the number of items in the index.
	Items() int
	// Built is when the hub built the snapshot, Unix milliseconds.
	Built() int64
}

// trimmer is implemented by Rankers that can drop what they would rebuild
// when needed (caches, lazily built indexes); the edge trims the index it
// serves before loading a new one beside it.
type trimmer interface{ Trim() }

// regioner is implemented by Rankers that know their snapshot's region;
// the edge then refuses a snapshot built for another region.
type regioner interface{ Region() string }

// Loader turns snapshot bytes, already checked against their version, into a
// Ranker. Load does the decoding and index building; it must not keep b.
type Loader interface {
	Load(ctx context.Context, b []byte) (Ranker, error)
}

// VersionLoader is a Loader that checks the bytes against their version
// itself, in the same pass over them as its own checksum, so that a large
// snapshot is hashed once, not twice, on its way into an isolate. The edge
// then skips VerifySnapshot.
type VersionLoader interface {
	Loader
	// LoadVersion is Load for bytes that must hash to version; when they
	// do not, its error wraps ErrMismatch.
	LoadVersion(ctx context.Context, b []byte, version string) (Ranker, error)
}

// Source is where snapshots come from: the hub over HTTP (HTTPSource), or
// Workers KV (a pointer key naming a content key). Implementations need not
// verify the bytes: the edge checks them with VerifySnapshot.
type Source interface {
	// Pointer returns the version (hex SHA-256) of the region's current
	// snapshot.
	Pointer(ctx context.Context) (version string, err error)
	// Fetch returns the bytes of the snapshot with the given version.
	Fetch(ctx context.Context, version string) ([]byte, error)
}

// StreamSource is a Source that can also hand a snapshot's bytes over as
// they arrive, with their length known up front, so that a StreamLoader
// decodes them without the whole copy ever being held.
type StreamSource interface {
	Source
	// FetchStream returns a reader of the n bytes of the snapshot with
	// the given version; the caller closes it.
	FetchStream(ctx context.Context, version string) (body io.ReadCloser, n int, err error)
}

// StreamLoader is a VersionLoader that also decodes from a reader.
type StreamLoader interface {
	VersionLoader
	// LoadStream is LoadVersion for the n bytes r yields. An error
	// reading r wraps ErrMismatch: the bytes asked for did not arrive.
	LoadStream(ctx context.Context, r io.Reader, n int, version string) (Ranker, error)
}

// Clock returns the current time. The edge reads time only through it.
type Clock func() time.Time

// Errors that callers and tests may branch on (with errors.Is).
var (
	// ErrNoIndex: no index is loaded and none could be loaded now.
	ErrNoIndex = errors.New("edge: no index loaded")
	// ErrMismatch: fetched bytes do not hash to the version asked for.
	ErrMismatch = errors.New("edge: snapshot bytes do not match their version")
	// ErrBadVersion: a pointer that is not a 64-character lower-case hex
	// SHA-256.
	ErrBadVersion = errors.New("edge: not a snapshot version")
	// ErrRollback: the snapshot was built before the one being served.
	ErrRollback = errors.New("edge: snapshot older than the current one")
	// ErrRegion: the snapshot is for another region.
	ErrRegion = errors.New("edge: snapshot for another region")
)

// VerifySnapshot checks that the hex SHA-256 of b is version. Snapshots are
// content-addressed, so this catches corruption in transit or storage and a
// source that serves the wrong bytes under a name.
func VerifySnapshot(version string, b []byte) error {
	sum := sha256.Sum256(b)
	got := hex.EncodeToString(sum[:])
	if got != version {
		return fmt.Errorf("%w: asked for %s, got %d bytes hashing to %s", ErrMismatch, short(version), len(b), short(got))
	}
	return nil
}

// checkVersion reports whether v looks like a snapshot version.
func checkVersion(v string) error {
	if len(v) != 2*sha256.Size {
		return fmt.Errorf("%w: %d characters, want %d", ErrBadVersion, len(v), 2*sha256.Size)
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return fmt.Errorf("%w: want lower-case hex", ErrBadVersion)
		}
	}
	return nil
}

// short abbreviates a version for messages.
func short(v string) string {
	if len(v) > 12 {
		return v[:12]
	}
	return v
}

// loaded is the Ranker being served.
type loaded struct{ r Ranker }

// refusal remembers a version that verified but was refused, and why.
type refusal struct {
	version string
	err     error
}

// failure is the last refresh error, for /v1/health.
type failure struct {
	msg string
	at  time.Time
}

// acquire takes the refresh lock, waiting at most as long as ctx allows.
func (e *Edge) acquire(ctx context.Context) bool {
	select {
	case e.sem <- struct{}{}:
		return true
	default:
	}
	select {
	case e.sem <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

// tryAcquire takes the refresh lock if it is free.
func (e *Edge) tryAcquire() bool {
	select {
	case e.sem <- struct{}{}:
		return true
	default:
		return false
	}
}

func (e *Edge) release() { <-e.sem }

// ranker returns the index to rank with, loading or refreshing it first when
// due. With an index loaded, a due refresh is done by whichever request gets
// the try-lock; the others rank with the current index. With none loaded,
// requests wait for the one load in flight.
func (e *Edge) ranker(ctx context.Context, now time.Time) (Ranker, error) {
	cur := e.cur.Load()
	if e.due(now) {
		if cur == nil {
			if e.acquire(ctx) {
				if e.due(now) {
					_ = e.refreshLocked(ctx, now)
				}
				e.release()
			}
		} else if e.tryAcquire() {
			if e.due(now) {
				_ = e.refreshLocked(ctx, now)
			}
			e.release()
		}
		cur = e.cur.Load()
	}
	if cur == nil {
		return nil, ErrNoIndex
	}
	return cur.r, nil
}

// due reports whether the pointer should be checked at now.
func (e *Edge) due(now time.Time) bool { return now.UnixNano() >= e.nextCheck.Load() }

// Refresh checks the pointer now, whatever RefreshEvery says, and loads a
// new snapshot if the version changed. It waits (as long as ctx allows) for
// a refresh already running. It returns the error of this check (nil when
// the current index is up to date); the last good index is kept either way.
// Use it from a Workers scheduled event or an admin command.
func (e *Edge) Refresh(ctx context.Context) error {
	if !e.acquire(ctx) {
		return fmt.Errorf("edge: refresh: %w", ctx.Err())
	}
	defer e.release()
	return e.refreshLocked(ctx, e.now())
}

// refreshLocked does one pointer check and, if needed, one fetch and load.
// It must hold the refresh lock. Any error is recorded for /v1/health and
// leaves the current index in place.
func (e *Edge) refreshLocked(ctx context.Context, now time.Time) (err error) {
	e.lastCheck.Store(now.UnixMilli())
	defer func() {
		// The next check is measured from this one's start. Without an
		// index, retry sooner (RetryAfter) but never hammer a source.
		next := e.cfg.RefreshEvery
		if e.cur.Load() == nil {
			next = min(next, e.cfg.RetryAfter)
		}
		e.nextCheck.Store(now.Add(next).UnixNano())
		if err != nil {
			e.refreshErrors.Add(1)
			e.lastErr.Store(&failure{msg: err.Error(), at: now})
			e.log.Warn("edge: refresh failed", "region", e.cfg.Region, "err", err)
		}
	}()
	if e.cfg.SourceTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.cfg.SourceTimeout)
		defer cancel()
	}

	version, err := e.src.Pointer(ctx)
	if err != nil {
		return fmt.Errorf("edge: read pointer: %w", err)
	}
	if err := checkVersion(version); err != nil {
		return fmt.Errorf("edge: read pointer: %w", err)
	}
	cur := e.cur.Load()
	if cur != nil && cur.r.Version() == version {
		e.lastErr.Store(nil)
		return nil
	}
	if e.refused != nil && version == e.refused.version {
		// Refused before for a reason that cannot change: report why
		// again, and do not fetch it again.
		return e.refused.err
	}

	if cur != nil && e.cfg.MemoryLimit > 0 {
		defer e.roomForTwo(cur)()
	}
	var r Ranker
	var b []byte
	ss, streams := e.src.(StreamSource)
	sl, decodes := e.loader.(StreamLoader)
	if streams && decodes {
		var body io.ReadCloser
		var n int
		if body, n, err = ss.FetchStream(ctx, version); err != nil {
			return fmt.Errorf("edge: fetch snapshot %s: %w", short(version), err)
		}
		r, err = sl.LoadStream(ctx, body, n, version)
		body.Close()
		if errors.Is(err, ErrMismatch) {
			return fmt.Errorf("edge: fetch snapshot %s: %w", short(version), err) // try again next time
		}
	} else if b, err = e.src.Fetch(ctx, version); err != nil {
		return fmt.Errorf("edge: fetch snapshot %s: %w", short(version), err)
	} else if vl, ok := e.loader.(VersionLoader); ok {
		r, err = vl.LoadVersion(ctx, b, version)
		if errors.Is(err, ErrMismatch) {
			return err // may be corruption in transit: try again next time
		}
	} else {
		if err := VerifySnapshot(version, b); err != nil {
			return err // may be corruption in transit: try again next time
		}
		r, err = e.loader.Load(ctx, b)
	}
	if err != nil {
		err = fmt.Errorf("edge: load snapshot %s: %w", short(version), err)
		if ctx.Err() == nil { // the same bytes will fail the same way
			e.refused = &refusal{version, err}
		}
		return err
	}
	if err := e.accept(r, version, cur); err != nil {
		e.refused = &refusal{version, err}
		return err
	}
	e.cur.Store(&loaded{r: r})
	e.swaps.Add(1)
	e.refused = nil
	e.lastErr.Store(nil)
	if e.cfg.CollectAfterLoad && (cur != nil || b != nil) {
		// The previous index and the fetched bytes (when they were held
		// whole) are garbage now; free them before the next request grows
		// the heap further. A first index that streamed in leaves neither,
		// and a collection of the whole new index would only delay the
		// first answer (about 20 ms at 100,000 items in workerd).
		b = nil
		runtime.GC()
	}
	e.log.Info("edge: index loaded", "region", e.cfg.Region, "version", short(version),
		"items", r.Items(), "built", r.Built())
	return nil
}

// roomForTwo prepares the heap for a new index loaded while cur is served:
// it trims cur, collects what that freed, and raises the heap's soft limit
// to fit cur beside an index of the same size (at most MaxMemoryLimit). It
// returns the function that sets MemoryLimit again, which the refresh
// calls once the old index has been collected (CollectAfterLoad). Without
// the raise, a limit below both indexes has the collector run back to back
// for the whole load: a 100,000-item swap in workerd took 13.6 s instead
// of a third of a second.
func (e *Edge) roomForTwo(cur *loaded) (restore func()) {
	if t, ok := cur.r.(trimmer); ok {
		t.Trim()
	}
	runtime.GC()
	live := int64(readMemory().Live)
	room := swapLimit(live, e.cfg.MemoryLimit, e.cfg.MaxMemoryLimit)
	debug.SetMemoryLimit(room)
	if room < 2*live+swapSlack {
		// The collector will run back to back until the old index goes:
		// the load is slow, and the region's snapshot too large for one
		// isolate to swap (build smaller regions).
		e.log.Warn("edge: a new index does not fit beside the current one under the memory limit; the swap will be slow",
			"region", e.cfg.Region, "live_mib", live>>20, "limit_mib", room>>20)
	} else {
		e.log.Info("edge: loading a new index beside the current one", "region", e.cfg.Region,
			"live_mib", live>>20, "limit_mib", room>>20)
	}
	return func() { debug.SetMemoryLimit(e.cfg.MemoryLimit) }
}

// swapLimit is the heap's soft limit while a new index loads beside one
// of live bytes: room for two and swapSlack, within [limit, max(limit,
// most)].
func swapLimit(live, limit, most int64) int64 {
	return min(max(2*live+swapSlack, limit), max(most, limit))
}

// swapSlack is the heap beyond two indexes a swap may use before the
// collector runs: what decoding leaves behind (about 9 MiB at 100,000
// items).
const swapSlack = 12 << 20

// accept checks a freshly loaded Ranker against the version asked for, the
// region served and the index being served.
func (e *Edge) accept(r Ranker, version string, cur *loaded) error {
	if r.Version() != version {
		return fmt.Errorf("%w: loader reports version %s for snapshot %s", ErrMismatch, short(r.Version()), short(version))
	}
	if rg, ok := r.(regioner); ok && rg.Region() != e.cfg.Region {
		return fmt.Errorf("%w: snapshot %s is for region %q, this edge serves %q", ErrRegion, short(version), rg.Region(), e.cfg.Region)
	}
	if cur != nil && r.Built() < cur.r.Built() {
		return fmt.Errorf("%w: snapshot %s was built at %s, before %s (built at %s) that is being served; refusing to roll back",
			ErrRollback, short(version), formatMillis(r.Built()), short(cur.r.Version()), formatMillis(cur.r.Built()))
	}
	return nil
}

func formatMillis(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.RFC3339) }
