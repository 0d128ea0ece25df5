package workerd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/chromedp/cdproto"
	"github.com/chromedp/chromedp/remote"
)

// HeapUsage is V8's account of the Worker's isolate, from the inspector's
// Runtime.getHeapUsage. The isolate's memory, as the Workers limit counts
// it, is the JavaScript heap plus the ArrayBuffers' backing stores plus the
// Wasm memory (which V8 reports in neither field: read it from the Go
// runtime, edge.Health's memory).
type HeapUsage struct {
	// Used is the JavaScript heap in use, Total what V8 has reserved
	// for it.
	Used  int64 `json:"used_bytes"`
	Total int64 `json:"total_bytes"`
	// BackingStores is the memory of the ArrayBuffers (fetched bodies,
	// stream chunks), including those no longer reachable until V8 next
	// collects them.
	BackingStores int64 `json:"backing_store_bytes"`
	// Embedder is what the runtime's own objects hold on the heap.
	Embedder int64 `json:"embedder_bytes"`
}

// HeapUsage asks the isolate's inspector (Config.Inspector) for its heap
// figures. With collect, it first has V8 collect garbage, so the figures
// are what is live. The process serves requests meanwhile; ctx bounds the
// whole exchange.
func (p *Process) HeapUsage(ctx context.Context, collect bool) (HeapUsage, error) {
	if p.inspector == "" {
		return HeapUsage{}, errors.New("workerd: heap usage: started without Config.Inspector")
	}
	ws, err := p.inspectorURL(ctx)
	if err != nil {
		return HeapUsage{}, err
	}
	c, err := remote.DialContext(ctx, ws)
	if err != nil {
		return HeapUsage{}, fmt.Errorf("workerd: inspector: %w", err)
	}
	s := &inspectorSession{c: c, results: make(chan *cdproto.Message, 8)}
	defer s.close()
	go s.read()
	if collect {
		if _, err := s.call(ctx, "HeapProfiler.enable"); err != nil {
			return HeapUsage{}, err
		}
		// V8 runs the collection as a task on the isolate's thread, which
		// workerd runs while it handles an event: requests carry it out.
		pumpCtx, stop := context.WithCancel(ctx)
		go p.pump(pumpCtx)
		_, err := s.call(ctx, "HeapProfiler.collectGarbage")
		stop()
		if err != nil {
			return HeapUsage{}, err
		}
	}
	res, err := s.call(ctx, "Runtime.getHeapUsage")
	if err != nil {
		return HeapUsage{}, err
	}
	var u struct {
		Used          float64 `json:"usedSize"`
		Total         float64 `json:"totalSize"`
		Embedder      float64 `json:"embedderHeapUsedSize"`
		BackingStores float64 `json:"backingStorageSize"`
	}
	if err := json.Unmarshal(res, &u); err != nil {
		return HeapUsage{}, fmt.Errorf("workerd: inspector: Runtime.getHeapUsage: %w", err)
	}
	return HeapUsage{Used: int64(u.Used), Total: int64(u.Total), BackingStores: int64(u.BackingStores), Embedder: int64(u.Embedder)}, nil
}

// inspectorURL returns the WebSocket URL of the Worker's inspector target.
func (p *Process) inspectorURL(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.inspector+"/json/list", nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("workerd: inspector: %w", err)
	}
	defer resp.Body.Close()
	var targets []struct {
		WS string `json:"webSocketDebuggerUrl"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&targets); err != nil {
		return "", fmt.Errorf("workerd: inspector: target list: %w", err)
	}
	if len(targets) == 0 || targets[0].WS == "" {
		return "", errors.New("workerd: inspector: no Worker target")
	}
	return targets[0].WS, nil
}

// pump sends GET /v1/health every 50 ms until ctx is done.
func (p *Process) pump(ctx context.Context) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/v1/health", nil)
			if err != nil {
				return
			}
			if resp, err := http.DefaultClient.Do(req); err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
	}
}

// inspectorSession is one inspector connection: calls in order, each
// waiting for its answer; events are skipped.
type inspectorSession struct {
	c       *remote.Conn
	next    int64
	results chan *cdproto.Message
	once    sync.Once
	readErr error
}

func (s *inspectorSession) read() {
	defer close(s.results)
	for {
		msg := new(cdproto.Message)
		if err := s.c.Read(context.Background(), msg); err != nil {
			s.readErr = err
			return
		}
		if msg.ID != 0 {
			s.results <- msg
		}
	}
}

func (s *inspectorSession) call(ctx context.Context, method string) (json.RawMessage, error) {
	s.next++
	id := s.next
	if err := s.c.Write(ctx, &cdproto.Message{ID: id, Method: cdproto.MethodType(method)}); err != nil {
		return nil, fmt.Errorf("workerd: inspector: %s: %w", method, err)
	}
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("workerd: inspector: %s: %w", method, ctx.Err())
		case msg, ok := <-s.results:
			switch {
			case !ok:
				return nil, fmt.Errorf("workerd: inspector: %s: connection closed: %v", method, s.readErr)
			case msg.ID != id:
				continue
			case msg.Error != nil:
				return nil, fmt.Errorf("workerd: inspector: %s: %s", method, msg.Error.Message)
			}
			return json.RawMessage(msg.Result), nil
		}
	}
}

func (s *inspectorSession) close() { s.once.Do(func() { _ = s.c.Close() }) }
