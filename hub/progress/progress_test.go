package progress

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newFake() *fakeClock { return &fakeClock{t: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)} }

func TestLiveRedrawRateAndETA(t *testing.T) {
	var buf bytes.Buffer
	clk := newFake()
	b := New(&buf, "eval", 22363)
	b.Now = clk.Now
	b.Live = true
	b.Add(0) // starts the clock and draws the empty bar
	buf.Reset()
	clk.Advance(3 * time.Second)
	b.Add(10200) // 3400/s, 12163 left: ETA 3.58s -> 4s
	got := buf.String()
	want := "\reval  [####......]  45% 10200/22363  3400/s  ETA 4s"
	if got != want {
		t.Fatalf("live line\n got %q\nwant %q", got, want)
	}

	// Within the interval nothing is redrawn.
	buf.Reset()
	clk.Advance(50 * time.Millisecond)
	b.Add(1)
	if buf.Len() != 0 {
		t.Fatalf("redrawn within the interval: %q", buf.String())
	}

	buf.Reset()
	clk.Advance(time.Second + 950*time.Millisecond) // 5s in total
	b.Add(22363 - 10201)
	b.Done()
	// The last Add redraws (the interval has passed); Done then overwrites
	// the line and blanks the one character "ETA 0s" had more.
	want = "\reval  [##########] 100% 22363/22363  4473/s  ETA 0s" +
		"\reval  [##########] 100% 22363/22363  4473/s  in 5s \n"
	if buf.String() != want {
		t.Fatalf("final\n got %q\nwant %q", buf.String(), want)
	}
	// Done twice and Add after Done write nothing.
	buf.Reset()
	b.Add(5)
	b.Done()
	if buf.Len() != 0 {
		t.Fatalf("wrote after Done: %q", buf.String())
	}
}

func TestNotLiveWritesOneLine(t *testing.T) {
	var buf bytes.Buffer
	clk := newFake()
	b := New(&buf, "fit", 100)
	if b.Live {
		t.Fatal("a bytes.Buffer must not be treated as a terminal")
	}
	b.Now = clk.Now
	b.Add(0)
	for range 10 {
		clk.Advance(time.Second)
		b.Add(5)
	}
	b.Done()
	want := "fit  [#####.....]  50% 50/100  5.0/s  in 10s\n"
	if buf.String() != want {
		t.Fatalf("got %q\nwant %q", buf.String(), want)
	}
}

func TestShorterLineBlanksLeftovers(t *testing.T) {
	var buf bytes.Buffer
	clk := newFake()
	b := New(&buf, "x", 0) // unknown total
	b.Now = clk.Now
	b.Live = true
	b.Add(0)
	clk.Advance(time.Second)
	b.Add(123456)
	buf.Reset()
	clk.Advance(time.Second)
	b.Add(0) // same count, lower rate: "61728/s" is as long as "123456/s" minus one
	got := buf.String()
	if want := "\rx  123456  61728/s "; got != want {
		t.Fatalf("got %q want %q", got, want)
	}
}

func TestUnknownRateETA(t *testing.T) {
	var buf bytes.Buffer
	clk := newFake()
	b := New(&buf, "w", 10)
	b.Now = clk.Now
	b.Live = true
	b.Add(0) // clock starts, nothing done, no elapsed time
	if want := "\rw  [..........]   0% 0/10  0.0/s  ETA ?"; buf.String() != want {
		t.Fatalf("got %q want %q", buf.String(), want)
	}
}

func TestSilentWriters(t *testing.T) {
	for name, w := range map[string]io.Writer{"nil": nil, "discard": io.Discard} {
		t.Run(name, func(t *testing.T) {
			b := New(w, "quiet", 10)
			b.Live = true
			b.Add(3)
			b.Done()
			if b.Count() != 3 {
				t.Fatalf("count %d", b.Count())
			}
		})
	}
	var nb *Bar
	nb.Add(1)
	nb.Done()
}

func TestConcurrentAdd(t *testing.T) {
	var buf bytes.Buffer
	b := New(&buf, "par", 8000)
	b.Live = true
	b.Interval = 0
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				b.Add(1)
			}
		})
	}
	wg.Wait()
	b.Done()
	if b.Count() != 8000 {
		t.Fatalf("count %d, want 8000", b.Count())
	}
	if !strings.Contains(buf.String(), "100% 8000/8000") {
		t.Fatalf("final line missing: %q", buf.String()[max(0, buf.Len()-200):])
	}
}
