package edge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/aisle-rec/aisle/shared/snapshot"
)

// Doer sends an HTTP request. *http.Client satisfies it natively; the
// Workers build passes its fetch client, since net/http's client panics
// inside Workers.
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// ErrBodyTooLarge: a response body was over the size limit.
var ErrBodyTooLarge = errors.New("edge: body over the size limit")

// Size limits of the HTTP clients.
const (
	// MaxPointerBytes caps a pointer response.
	MaxPointerBytes = 4 << 10
	// MaxHubAnswerBytes caps a chat or summarize answer from the hub.
	MaxHubAnswerBytes = 64 << 10
)

// HTTPSource is a Source that reads snapshots from the hub:
//
//	GET {hub}/v1/snapshots/{region}/current    → the current version
//	GET {hub}/v1/snapshots/{region}/{version}  → the snapshot bytes
//
// The pointer body is the version as plain text (surrounding whitespace
// ignored) or a JSON object {"version": "..."}. Every request carries
// "Authorization: Bearer <secret>" when a secret is set.
type HTTPSource struct {
	// MaxBytes caps a snapshot body. NewHTTPSource sets it to
	// snapshot.DefaultLimits().MaxTotalBytes; lower it to fit the
	// platform's memory (a Workers isolate has 128 MB).
	MaxBytes int64

	base   *url.URL
	region string
	secret string
	doer   Doer
}

// NewHTTPSource returns a Source for region on the hub at base (an http or
// https URL, optionally with a path prefix). secret is the edge's shared
// secret (may be empty for a local hub); doer nil means http.DefaultClient
// outside Workers (inside, pass a *FetchDoer). It does no I/O.
func NewHTTPSource(base, region, secret string, doer Doer) (*HTTPSource, error) {
	u, err := parseBase(base)
	if err != nil {
		return nil, fmt.Errorf("edge: http source: %w", err)
	}
	if err := checkRegion(region); err != nil {
		return nil, fmt.Errorf("edge: http source: region: %w", err)
	}
	if doer == nil {
		if doer = defaultDoer(); doer == nil {
			return nil, fmt.Errorf("edge: http source: no Doer given")
		}
	}
	return &HTTPSource{
		MaxBytes: int64(snapshot.DefaultLimits().MaxTotalBytes),
		base:     u, region: region, secret: secret, doer: doer,
	}, nil
}

// Pointer returns the version of the region's current snapshot.
func (s *HTTPSource) Pointer(ctx context.Context) (string, error) {
	b, err := send(ctx, s.doer, http.MethodGet, s.base.JoinPath("v1", "snapshots", s.region, "current"), s.secret, "", nil, MaxPointerBytes)
	if err != nil {
		return "", err
	}
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var p struct {
			Version string `json:"version"`
		}
		if err := json.Unmarshal(b, &p); err != nil {
			return "", fmt.Errorf("edge: pointer: %w: not {\"version\": \"...\"}", ErrBadVersion)
		}
		b = []byte(p.Version)
	}
	v := string(b)
	if err := checkVersion(v); err != nil {
		return "", fmt.Errorf("edge: pointer: %w", err)
	}
	return v, nil
}

// Fetch returns the bytes of the given version. It does not verify them;
// the edge does (VerifySnapshot).
func (s *HTTPSource) Fetch(ctx context.Context, version string) ([]byte, error) {
	if err := checkVersion(version); err != nil {
		return nil, err
	}
	max := s.MaxBytes
	if max <= 0 {
		max = int64(snapshot.DefaultLimits().MaxTotalBytes)
	}
	return send(ctx, s.doer, http.MethodGet, s.base.JoinPath("v1", "snapshots", s.region, version), s.secret, "", nil, max)
}

// FetchStream returns a reader of the bytes of the given version and their
// length, as the hub's answer streams in: a StreamLoader decodes them as
// they arrive. An answer without a Content-Length is read whole first. It
// does not verify the bytes; the loader does.
func (s *HTTPSource) FetchStream(ctx context.Context, version string) (io.ReadCloser, int, error) {
	if err := checkVersion(version); err != nil {
		return nil, 0, err
	}
	max := s.MaxBytes
	if max <= 0 {
		max = int64(snapshot.DefaultLimits().MaxTotalBytes)
	}
	u := s.base.JoinPath("v1", "snapshots", s.region, version)
	resp, err := open(ctx, s.doer, http.MethodGet, u, s.secret, "", nil, max)
	if err != nil {
		return nil, 0, err
	}
	if _, held := resp.Body.(heldBody); held || resp.ContentLength < 0 {
		b, err := readBody(resp, http.MethodGet, u, max)
		resp.Body.Close()
		if err != nil {
			return nil, 0, err
		}
		return HeldBody(b), len(b), nil
	}
	return streamBody{resp.Body, http.MethodGet + " " + u.Path}, int(resp.ContentLength), nil
}

// streamBody names the request in its read errors, as send's errors do.
type streamBody struct {
	io.ReadCloser
	what string
}

func (b streamBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("edge: %s: read body: %w", b.what, stripURL(err))
	}
	return n, err
}

// HTTPHub is a Hub that posts JSON to the hub:
//
//	POST {hub}/v1/chat       chat
//	POST {hub}/v1/summarize  summarize
//
// with "Authorization: Bearer <secret>" when a secret is set. Answers other
// than 2xx, and answers over MaxHubAnswerBytes, are errors.
type HTTPHub struct {
	base   *url.URL
	secret string
	doer   Doer
}

// NewHTTPHub returns a Hub for the hub at base, as for NewHTTPSource. It
// does no I/O.
func NewHTTPHub(base, secret string, doer Doer) (*HTTPHub, error) {
	u, err := parseBase(base)
	if err != nil {
		return nil, fmt.Errorf("edge: http hub: %w", err)
	}
	if doer == nil {
		if doer = defaultDoer(); doer == nil {
			return nil, fmt.Errorf("edge: http hub: no Doer given")
		}
	}
	return &HTTPHub{base: u, secret: secret, doer: doer}, nil
}

// Chat forwards a sanitised chat request and returns the hub's answer.
func (h *HTTPHub) Chat(ctx context.Context, body []byte) ([]byte, error) {
	return send(ctx, h.doer, http.MethodPost, h.base.JoinPath("v1", "chat"), h.secret, "application/json", body, MaxHubAnswerBytes)
}

// Summarize forwards a sanitised summary request and returns the hub's
// answer.
func (h *HTTPHub) Summarize(ctx context.Context, body []byte) ([]byte, error) {
	return send(ctx, h.doer, http.MethodPost, h.base.JoinPath("v1", "summarize"), h.secret, "application/json", body, MaxHubAnswerBytes)
}

// parseBase checks a hub base URL. Credentials in the URL are refused so
// that they cannot end up in logs or errors: use the secret instead.
func parseBase(base string) (*url.URL, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return nil, fmt.Errorf("hub URL %q: want http(s)://host[:port][/prefix]", base)
	}
	if u.User != nil {
		return nil, errors.New("hub URL: credentials in the URL are not allowed; pass the secret separately")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("hub URL %q: no query or fragment allowed", base)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// send does one request and returns the body of a 2xx answer of at most max
// bytes. Errors name the method and path, never the secret or the body.
func send(ctx context.Context, d Doer, method string, u *url.URL, secret, contentType string, body []byte, max int64) ([]byte, error) {
	resp, err := open(ctx, d, method, u, secret, contentType, body, max)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return readBody(resp, method, u, max)
}

// open does one request and returns a 2xx answer whose declared length,
// if any, is at most max, its body not yet read.
func open(ctx context.Context, d Doer, method string, u *url.URL, secret, contentType string, body []byte, max int64) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("edge: %s %s: %w", method, u.Path, err)
	}
	if secret != "" {
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "*/*")
	resp, err := d.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("edge: %s %s: %w", method, u.Path, ctxErr)
		}
		return nil, fmt.Errorf("edge: %s %s: %w", method, u.Path, stripURL(err))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		resp.Body.Close()
		return nil, fmt.Errorf("edge: %s %s: hub answered %s", method, u.Path, resp.Status)
	}
	if resp.ContentLength > max {
		resp.Body.Close()
		return nil, fmt.Errorf("edge: %s %s: %w: %d bytes, limit %d", method, u.Path, ErrBodyTooLarge, resp.ContentLength, max)
	}
	return resp, nil
}

// readBody reads the body of an answer from open, at most max bytes.
func readBody(resp *http.Response, method string, u *url.URL, max int64) ([]byte, error) {
	if hb, ok := resp.Body.(heldBody); ok {
		// Already in memory: take the bytes rather than copy them.
		if int64(len(hb.b)) > max {
			return nil, fmt.Errorf("edge: %s %s: %w: over %d bytes", method, u.Path, ErrBodyTooLarge, max)
		}
		return hb.b, nil
	}
	// A known length sizes the buffer once: io.ReadAll grows it step by
	// step, holding about twice a snapshot's size at the last step.
	size := int64(bytes.MinRead)
	if resp.ContentLength > 0 {
		size += resp.ContentLength // at most max, checked above
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	_, err := buf.ReadFrom(io.LimitReader(resp.Body, max+1))
	b := buf.Bytes()
	if err != nil {
		return nil, fmt.Errorf("edge: %s %s: read body: %w", method, u.Path, stripURL(err))
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("edge: %s %s: %w: over %d bytes", method, u.Path, ErrBodyTooLarge, max)
	}
	return b, nil
}

// heldBody is a response body already read whole into b (the Workers
// FetchDoer reads bodies with arrayBuffer()): send returns b itself, so a
// snapshot-sized body is not copied once more in an isolate whose memory
// never shrinks.
type heldBody struct {
	*bytes.Reader
	b []byte
}

func (heldBody) Close() error { return nil }

// HeldBody returns a reader of b, already in memory, for
// StreamSource.FetchStream: NativeLoader.LoadStream recognises it and
// decodes b in place.
func HeldBody(b []byte) io.ReadCloser { return heldBody{bytes.NewReader(b), b} }

// stripURL drops the *url.Error wrapper (which repeats the full URL) and
// keeps its cause.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
