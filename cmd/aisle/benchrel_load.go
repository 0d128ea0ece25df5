package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aisle-rec/aisle/edge"
	"github.com/aisle-rec/aisle/hub/progress"
)

// chatBound is the contract for /v1/chat: an answer, degraded when the hub
// cannot give one, within 3 s.
const chatBound = 3 * time.Second

// relClient sends the reliability runs' requests. Its timeout is far above
// any bound checked, so that a slow answer is measured, not cut.
var relClient = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
	MaxIdleConns: 256, MaxIdleConnsPerHost: 256, DisableCompression: true, IdleConnTimeout: 30 * time.Second,
}}

// load is a steady stream of /v1/recommend requests, open loop at rate per
// second (a stalled edge does not slow the schedule), with a /v1/chat call
// every chatEvery.
type load struct {
	url       string
	reqs      [][]byte
	rate      int
	chatEvery time.Duration
	// inFlight caps requests waiting for an answer; when full, the
	// schedule waits (and the wait counts in the latency of the late ones).
	inFlight int
	// good says whether an answer's index version may be served; nil
	// accepts any.
	good func(version string) bool
	// health, when set, is the edge's last /v1/health sample: answers are
	// counted stale while it reports a failed refresh.
	health *healthWatch
}

// loadResult is what a load saw.
type loadResult struct {
	Sent       int
	OK         int
	Errors     int
	FirstError string
	Stale      int // answered while the edge reported a failed refresh
	Popular    int // answers the ranker gave from popularity alone
	WrongIndex int // answered from a version good rejects
	FirstWrong string
	Lat        []time.Duration

	Chats         int
	ChatOK        int
	ChatDegraded  int
	ChatErrors    int
	FirstChatErr  string
	ChatLat       []time.Duration
	ChatMax       time.Duration
	DegradedMax   time.Duration
	ChatUndecided int // 200 answers that were neither the hub's nor degraded

	mu sync.Mutex
}

// run drives the load for d (or until ctx is done), counting each
// recommend on bar, and waits for the answers in flight.
func (l *load) run(ctx context.Context, d time.Duration, bar *progress.Bar) *loadResult {
	res := &loadResult{}
	sem := make(chan struct{}, max(1, l.inFlight))
	var wg sync.WaitGroup
	start := time.Now()
	end := start.Add(d)
	nextChat := start
	interval := time.Second / time.Duration(max(1, l.rate))
	for i := 0; ; i++ {
		at := start.Add(time.Duration(i) * interval)
		if !at.Before(end) || ctx.Err() != nil {
			break
		}
		if wait := time.Until(at); wait > 0 {
			if waitCtx(ctx, wait) != nil {
				break
			}
		}
		if l.chatEvery > 0 && !at.Before(nextChat) {
			nextChat = nextChat.Add(l.chatEvery)
			wg.Go(func() { l.chat(ctx, res, i) })
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		body := l.reqs[i%len(l.reqs)]
		wg.Go(func() {
			defer func() { <-sem }()
			l.recommend(ctx, res, i, body)
			bar.Add(1)
		})
	}
	wg.Wait()
	return res
}

// recommend sends one request and records its outcome.
func (l *load) recommend(ctx context.Context, res *loadResult, i int, body []byte) {
	start := time.Now()
	code, b, err := relPost(ctx, l.url+"/v1/recommend", body)
	lat := time.Since(start)
	stale := l.health != nil && l.health.failing()
	res.mu.Lock()
	defer res.mu.Unlock()
	res.Sent++
	res.Lat = append(res.Lat, lat)
	fail := func(msg string) {
		if res.Errors++; res.FirstError == "" {
			res.FirstError = fmt.Sprintf("request %d: %s", i, msg)
		}
	}
	if err != nil {
		if ctx.Err() == nil {
			fail(err.Error())
		} else {
			res.Sent-- // stopped, not failed
			res.Lat = res.Lat[:len(res.Lat)-1]
		}
		return
	}
	if code != http.StatusOK {
		fail(fmt.Sprintf("%d %s", code, tail(strings.TrimSpace(string(b)), 300)))
		return
	}
	var ans struct {
		Items    []json.RawMessage `json:"items"`
		Index    string            `json:"index"`
		Fallback bool              `json:"fallback"`
	}
	if err := json.Unmarshal(b, &ans); err != nil || ans.Index == "" {
		fail(fmt.Sprintf("200 but not a recommend answer: %s", tail(string(b), 300)))
		return
	}
	res.OK++
	if stale {
		res.Stale++
	}
	if ans.Fallback {
		res.Popular++
	}
	if l.good != nil && !l.good(ans.Index) {
		if res.WrongIndex++; res.FirstWrong == "" {
			res.FirstWrong = ans.Index
		}
	}
}

// chatBody is a visitor's question, with the session's items.
var chatBody = []byte(`{"message":"Which of these would make a good gift?","items":["a","b"],"shop":"demo-shop"}`)

// chat sends one /v1/chat and records its outcome.
func (l *load) chat(ctx context.Context, res *loadResult, i int) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.url+"/v1/chat", bytes.NewReader(chatBody))
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	resp, err := relClient.Do(req)
	var b []byte
	if err == nil {
		b, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	lat := time.Since(start)
	if err != nil && ctx.Err() != nil {
		return
	}
	res.mu.Lock()
	defer res.mu.Unlock()
	res.Chats++
	res.ChatLat = append(res.ChatLat, lat)
	res.ChatMax = max(res.ChatMax, lat)
	fail := func(msg string) {
		if res.ChatErrors++; res.FirstChatErr == "" {
			res.FirstChatErr = fmt.Sprintf("chat at request %d: %s", i, msg)
		}
	}
	switch {
	case err != nil:
		fail(err.Error())
		return
	case resp.StatusCode != http.StatusOK:
		fail(fmt.Sprintf("%d %s", resp.StatusCode, tail(strings.TrimSpace(string(b)), 300)))
		return
	}
	var ans struct {
		Degraded bool   `json:"degraded"`
		Answer   string `json:"answer"`
	}
	if err := json.Unmarshal(b, &ans); err != nil {
		fail("200 but not JSON: " + tail(string(b), 300))
		return
	}
	res.ChatOK++
	switch {
	case ans.Degraded:
		res.ChatDegraded++
		res.DegradedMax = max(res.DegradedMax, lat)
	case !strings.HasPrefix(ans.Answer, "echo: "):
		res.ChatUndecided++
	}
}

// relPost posts a recommend request.
func relPost(ctx context.Context, url string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := relClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// healthWatch polls an edge's /v1/health in the background.
type healthWatch struct {
	url     string
	last    atomic.Pointer[edge.Health]
	failed  atomic.Bool
	samples atomic.Int64
	stop    context.CancelFunc
	done    chan struct{}
}

// watchHealth polls url's /v1/health every interval until close.
func watchHealth(ctx context.Context, url string, interval time.Duration) *healthWatch {
	ctx, cancel := context.WithCancel(ctx)
	h := &healthWatch{url: url, stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(h.done)
		for {
			if hl, err := getHealth(ctx, url); err == nil {
				h.last.Store(&hl)
				h.failed.Store(hl.LastError != nil)
				h.samples.Add(1)
			}
			if waitCtx(ctx, interval) != nil {
				return
			}
		}
	}()
	return h
}

// failing reports whether the last sample showed a failed refresh.
func (h *healthWatch) failing() bool { return h.failed.Load() }

func (h *healthWatch) close() {
	h.stop()
	<-h.done
}

// getHealth reads an edge's /v1/health.
func getHealth(ctx context.Context, url string) (edge.Health, error) {
	var h edge.Health
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/v1/health", nil)
	if err != nil {
		return h, err
	}
	resp, err := relClient.Do(req)
	if err != nil {
		return h, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return h, err
	}
	if resp.StatusCode != http.StatusOK {
		return h, fmt.Errorf("health: %d %s", resp.StatusCode, tail(string(b), 300))
	}
	if err := json.Unmarshal(b, &h); err != nil {
		return h, fmt.Errorf("health: %w", err)
	}
	return h, nil
}
