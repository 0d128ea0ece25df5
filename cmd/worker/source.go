package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/aisle-rec/aisle/edge"
)

// namedSource is a Source and the name its errors carry.
type namedSource struct {
	name string
	edge.Source
}

// fallback is a Source that asks its sources in order and takes the first
// answer: the Worker's KV namespace first (close, cheap, replicated), then
// the hub. A snapshot version names the same bytes everywhere, and the edge
// verifies them, so any source may serve any version.
type fallback []namedSource

// Pointer returns the first source's pointer that can be read.
func (f fallback) Pointer(ctx context.Context) (string, error) {
	var errs []error
	for _, s := range f {
		v, err := s.Pointer(ctx)
		if err == nil {
			return v, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", s.name, err))
		if ctx.Err() != nil {
			break
		}
	}
	return "", f.fail(errs)
}

// Fetch returns version's bytes from the first source that has them.
func (f fallback) Fetch(ctx context.Context, version string) ([]byte, error) {
	var errs []error
	for _, s := range f {
		b, err := s.Fetch(ctx, version)
		if err == nil {
			return b, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", s.name, err))
		if ctx.Err() != nil {
			break
		}
	}
	return nil, f.fail(errs)
}

// FetchStream streams version's bytes from the first source that has
// them; a source that cannot stream hands its bytes over whole.
func (f fallback) FetchStream(ctx context.Context, version string) (io.ReadCloser, int, error) {
	var errs []error
	for _, s := range f {
		r, n, err := fetchStream(ctx, s.Source, version)
		if err == nil {
			return r, n, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", s.name, err))
		if ctx.Err() != nil {
			break
		}
	}
	return nil, 0, f.fail(errs)
}

// fetchStream is s's FetchStream, or its Fetch as a reader.
func fetchStream(ctx context.Context, s edge.Source, version string) (io.ReadCloser, int, error) {
	if ss, ok := s.(edge.StreamSource); ok {
		return ss.FetchStream(ctx, version)
	}
	b, err := s.Fetch(ctx, version)
	if err != nil {
		return nil, 0, err
	}
	return edge.HeldBody(b), len(b), nil
}

func (f fallback) fail(errs []error) error {
	if len(errs) == 0 {
		return errors.New("worker: no snapshot source configured")
	}
	return joined(errs)
}

// joined is every source's error on one line (it ends up in /v1/health),
// and matches each of them with errors.Is and errors.As.
type joined []error

func (j joined) Error() string {
	s := j[0].Error()
	for _, e := range j[1:] {
		s += "; " + e.Error()
	}
	return s
}

func (j joined) Unwrap() []error { return j }

// split reads the pointer from one source and the snapshot bytes from
// another: the same hub through clients with different time bounds.
type split struct{ pointer, content edge.Source }

// Pointer returns the pointer source's version.
func (s split) Pointer(ctx context.Context) (string, error) { return s.pointer.Pointer(ctx) }

// Fetch returns version's bytes from the content source.
func (s split) Fetch(ctx context.Context, version string) ([]byte, error) {
	return s.content.Fetch(ctx, version)
}

// FetchStream streams version's bytes from the content source.
func (s split) FetchStream(ctx context.Context, version string) (io.ReadCloser, int, error) {
	return fetchStream(ctx, s.content, version)
}
