// Package progress draws a one-line progress bar for long-running work such
// as an offline evaluation or an index build:
//
//	label  [####......]  45% 10000/22363  3400/s  ETA 4s
//
// On a terminal the line is redrawn in place (carriage return) at most about
// ten times a second; on any other writer only the final line is written, so
// logs and files stay clean. Counting is lock-free, so many goroutines may
// call Add at once.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Width is the number of cells between the brackets of the bar.
const Width = 10

// DefaultInterval is the shortest time between two redraws on a terminal.
const DefaultInterval = 100 * time.Millisecond

// Bar reports how far a known amount of work has gone. Create it with New.
// Set the exported fields, if at all, before the first Add.
type Bar struct {
	// Now is the clock. New sets it to time.Now; tests replace it. The clock
	// starts at the first Add (Add(0) starts it without counting) or Done.
	Now func() time.Time
	// Live, set by New when the writer is a terminal, makes Add redraw the
	// line in place. When false only Done writes, once.
	Live bool
	// Interval is the shortest time between two live redraws.
	Interval time.Duration

	w     io.Writer
	label string
	total int64

	n       atomic.Int64
	started atomic.Bool
	once    sync.Once    // starts the clock
	next    atomic.Int64 // Unix ns before which Add does not redraw

	mu    sync.Mutex // guards the fields below and writes to w
	start time.Time
	drawn int // length of the last live line, to blank leftovers
	done  bool
}

// New returns a bar for total units of work labelled label, writing to w.
// A nil w or io.Discard makes a bar that prints nothing; total <= 0 means
// the total is unknown, and the bar then shows only the count and rate.
func New(w io.Writer, label string, total int) *Bar {
	if w == io.Discard {
		w = nil
	}
	return &Bar{
		Now:      time.Now,
		Live:     isTerminal(w),
		Interval: DefaultInterval,
		w:        w,
		label:    label,
		total:    int64(total),
	}
}

// isTerminal reports whether w is a character device such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || f == nil {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// begin starts the clock once.
func (b *Bar) begin() {
	b.once.Do(func() {
		b.mu.Lock()
		b.start = b.Now()
		b.mu.Unlock()
		b.started.Store(true)
	})
}

// Add counts n more units of work done. It is safe for concurrent use.
func (b *Bar) Add(n int) {
	if b == nil {
		return
	}
	if !b.started.Load() {
		b.begin()
	}
	b.n.Add(int64(n))
	if b.w == nil || !b.Live {
		return
	}
	now := b.Now()
	next := b.next.Load()
	if now.UnixNano() < next || !b.next.CompareAndSwap(next, now.Add(b.Interval).UnixNano()) {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return
	}
	line := b.line(b.n.Load(), now, false)
	pad := ""
	if k := b.drawn - len(line); k > 0 {
		pad = strings.Repeat(" ", k)
	}
	fmt.Fprintf(b.w, "\r%s%s", line, pad)
	b.drawn = len(line)
}

// Done writes the final line, with the elapsed time in place of the ETA,
// and ends it with a newline. Later calls to Add and Done do nothing.
func (b *Bar) Done() {
	if b == nil {
		return
	}
	b.begin()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return
	}
	b.done = true
	if b.w == nil {
		return
	}
	line := b.line(b.n.Load(), b.Now(), true)
	if b.Live {
		pad := ""
		if k := b.drawn - len(line); k > 0 {
			pad = strings.Repeat(" ", k)
		}
		fmt.Fprintf(b.w, "\r%s%s\n", line, pad)
		return
	}
	fmt.Fprintf(b.w, "%s\n", line)
}

// Count returns the units of work counted so far.
func (b *Bar) Count() int {
	if b == nil {
		return 0
	}
	return int(b.n.Load())
}

// line formats the bar for n units done at now. Callers hold b.mu.
func (b *Bar) line(n int64, now time.Time, final bool) string {
	elapsed := now.Sub(b.start)
	var rate float64
	if elapsed > 0 {
		rate = float64(n) / elapsed.Seconds()
	}
	var s strings.Builder
	s.WriteString(b.label)
	if b.total > 0 {
		frac := float64(n) / float64(b.total)
		frac = min(max(frac, 0), 1)
		cells := int(frac * Width)
		fmt.Fprintf(&s, "  [%s%s] %3d%% %d/%d", strings.Repeat("#", cells), strings.Repeat(".", Width-cells),
			int(frac*100), n, b.total)
	} else {
		fmt.Fprintf(&s, "  %d", n)
	}
	fmt.Fprintf(&s, "  %s/s", formatRate(rate))
	switch {
	case final:
		fmt.Fprintf(&s, "  in %s", formatDuration(elapsed))
	case b.total > 0 && rate > 0:
		left := float64(b.total-n) / rate
		fmt.Fprintf(&s, "  ETA %s", formatDuration(time.Duration(max(left, 0)*float64(time.Second))))
	case b.total > 0:
		s.WriteString("  ETA ?")
	}
	return s.String()
}

// formatRate prints a rate per second: whole numbers from 10 up, one decimal
// below.
func formatRate(r float64) string {
	if r >= 10 {
		return fmt.Sprintf("%.0f", r)
	}
	return fmt.Sprintf("%.1f", r)
}

// formatDuration prints d rounded to the second, or to the millisecond
// below one second.
func formatDuration(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}
