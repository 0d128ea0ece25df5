package edge

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// The bytes of the Workers bridge (cmd/worker/bridge.mjs specifies them):
// how a request reaches the Go program from the entry module and how its
// answer goes back. They live outside the Workers build so that they are
// tested and fuzzed natively.

// errBridge: a request in binding.io that does not parse.
var errBridge = errors.New("edge: workers request: malformed")

// readBridgeRequest parses a request written by bridge.mjs. The request's
// body is a sub-slice of buf.
func readBridgeRequest(buf []byte) (*http.Request, error) {
	at := 0
	u32 := func() (int, bool) {
		if len(buf)-at < 4 {
			return 0, false
		}
		v := binary.LittleEndian.Uint32(buf[at:])
		at += 4
		return int(v), true
	}
	str := func() (string, bool) {
		n, ok := u32()
		if !ok || n > len(buf)-at {
			return "", false
		}
		s := string(buf[at : at+n])
		at += n
		return s, true
	}
	method, ok1 := str()
	rawURL, ok2 := str()
	count, ok3 := u32()
	// Each header takes at least 8 bytes: no count can outgrow the buffer.
	if !ok1 || !ok2 || !ok3 || count > (len(buf)-at)/8 {
		return nil, fmt.Errorf("%w: method, url or header count", errBridge)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%w: url does not parse", errBridge)
	}
	h := make(http.Header, count)
	for range count {
		k, ok1 := str()
		v, ok2 := str()
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("%w: headers", errBridge)
		}
		h.Add(k, v)
	}
	n, ok := u32()
	var body []byte
	switch {
	case !ok:
		return nil, fmt.Errorf("%w: body length", errBridge)
	case n == noBridgeBody:
		if at != len(buf) {
			return nil, fmt.Errorf("%w: bytes after a request without a body", errBridge)
		}
	case n != len(buf)-at:
		return nil, fmt.Errorf("%w: body of %d bytes declared, %d given", errBridge, n, len(buf)-at)
	default:
		body = buf[at:]
	}
	r := &http.Request{
		Method:     method,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     h,
		Host:       u.Host,
		RequestURI: u.RequestURI(),
		Body:       http.NoBody,
	}
	if len(body) > 0 {
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
	}
	return r, nil
}

// noBridgeBody is the body length of a request without a body.
const noBridgeBody = 0xFFFFFFFF

// appendBridgeAnswer appends an answer as bridge.mjs reads it.
func appendBridgeAnswer(dst []byte, h http.Header, body []byte) []byte {
	n := 0
	for _, vs := range h {
		n += len(vs)
	}
	dst = binary.LittleEndian.AppendUint32(dst, uint32(n))
	for k, vs := range h {
		for _, v := range vs {
			dst = binary.LittleEndian.AppendUint32(dst, uint32(len(k)))
			dst = append(dst, k...)
			dst = binary.LittleEndian.AppendUint32(dst, uint32(len(v)))
			dst = append(dst, v...)
		}
	}
	return append(dst, body...)
}
