package edge

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"
)

// heldDoer answers every request with body, already in memory as the
// Workers FetchDoer holds it.
type heldDoer struct{ body []byte }

func (d heldDoer) Do(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Status: "200 OK", Header: http.Header{},
		Body: heldBody{bytes.NewReader(d.body), d.body}, ContentLength: int64(len(d.body)), Request: req}, nil
}

// TestSendTakesHeldBody: a body already read whole is returned as it is,
// not copied, and still bounded.
func TestSendTakesHeldBody(t *testing.T) {
	body := bytes.Repeat([]byte("snapshot"), 1000)
	u, _ := url.Parse("http://hub.invalid/v1/snapshots/eu/x")
	b, err := send(context.Background(), heldDoer{body}, http.MethodGet, u, "", "", nil, int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != len(body) || &b[0] != &body[0] {
		t.Fatal("the held body was copied")
	}
	if _, err := send(context.Background(), heldDoer{body}, http.MethodGet, u, "", "", nil, int64(len(body))-1); !errors.Is(err, ErrBodyTooLarge) {
		t.Fatalf("over the limit: %v, want ErrBodyTooLarge", err)
	}
}
