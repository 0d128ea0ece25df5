package workerd

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The /proc readings below work on Linux only; elsewhere they return an
// error saying so.

// userHZ is the unit of the CPU times in /proc/PID/stat. The kernel
// reports them in USER_HZ, which is 100 on every Linux architecture's ABI
// whatever the kernel's internal HZ.
const userHZ = 100

// CPU returns the CPU time the whole workerd process has used so far, user
// plus system, from /proc/PID/stat: every thread, those that have exited
// included (the isolate's thread, V8's compiler and GC threads, I/O). Its
// resolution is one tick (10 ms), so take differences over many requests.
func (p *Process) CPU() (time.Duration, error) {
	b, err := os.ReadFile(p.procPath("stat"))
	if err != nil {
		return 0, procErr(err)
	}
	return parseStat(b)
}

// ThreadTimes is how long a process's threads have run on a CPU.
type ThreadTimes struct {
	// All sums the live threads.
	All time.Duration
	// Main is the main thread's, the one whose id is the process id: in
	// workerd serve, the event loop that runs the isolates, so the closest
	// figure to the CPU time Workers bills a request.
	Main time.Duration
}

// ThreadCPU returns how long workerd's live threads have run, in
// nanoseconds, from /proc/PID/task/*/schedstat. Unlike CPU it resolves a
// single request; All misses threads that exited in between. It reads one
// file per thread, so call it between requests, not during one.
func (p *Process) ThreadCPU() (ThreadTimes, error) {
	var t ThreadTimes
	dir := p.procPath("task")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return t, procErr(err)
	}
	main := strconv.Itoa(p.PID())
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name(), "schedstat"))
		if errors.Is(err, os.ErrNotExist) {
			continue // the thread exited
		}
		if err != nil {
			return t, procErr(err)
		}
		d, err := parseSchedstat(b)
		if err != nil {
			return t, err
		}
		t.All += d
		if e.Name() == main {
			t.Main = d
		}
	}
	return t, nil
}

// Memory is a process's resident memory, in bytes.
type Memory struct {
	// RSS is the resident set now (VmRSS).
	RSS int64
	// Peak is the largest resident set so far (VmHWM).
	Peak int64
}

// Memory returns workerd's resident memory from /proc/PID/status. It is the
// whole process's: the runtime itself, V8's heaps and every isolate, so it
// bounds one isolate's memory from above.
func (p *Process) Memory() (Memory, error) {
	b, err := os.ReadFile(p.procPath("status"))
	if err != nil {
		return Memory{}, procErr(err)
	}
	return parseStatus(b)
}

func (p *Process) procPath(name string) string {
	return filepath.Join("/proc", strconv.Itoa(p.PID()), name)
}

func procErr(err error) error {
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("workerd: /proc: %w (process gone, or not Linux)", err)
	}
	return fmt.Errorf("workerd: /proc: %w", err)
}

// parseStat returns utime+stime from the text of /proc/PID/stat.
func parseStat(b []byte) (time.Duration, error) {
	// The command name, field 2, is in parentheses and may hold spaces
	// and parentheses itself: fields are counted after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("workerd: /proc stat: no command name in %q", truncate(b))
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("workerd: /proc stat: %d fields after the command name, want at least 13", len(f))
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("workerd: /proc stat: CPU time %q is not a tick count", s)
		}
		ticks += n
	}
	return time.Duration(ticks) * (time.Second / userHZ), nil
}

// parseSchedstat returns the first field of /proc/PID/task/TID/schedstat:
// the thread's time on CPU in nanoseconds.
func parseSchedstat(b []byte) (time.Duration, error) {
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0, errors.New("workerd: /proc schedstat: empty")
	}
	n, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("workerd: /proc schedstat: run time %q is not a count of nanoseconds", f[0])
	}
	return time.Duration(n), nil
}

// parseStatus reads VmRSS and VmHWM from the text of /proc/PID/status.
func parseStatus(b []byte) (Memory, error) {
	var m Memory
	var seen int
	for line := range strings.Lines(string(b)) {
		name, rest, ok := strings.Cut(line, ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return m, fmt.Errorf("workerd: /proc status: %s: %q, want a size in kB", name, strings.TrimSpace(rest))
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || kb < 0 {
			return m, fmt.Errorf("workerd: /proc status: %s: %q is not a size", name, f[0])
		}
		if name == "VmRSS" {
			m.RSS = kb << 10
		} else {
			m.Peak = kb << 10
		}
		seen++
	}
	if seen != 2 {
		return m, errors.New("workerd: /proc status: no VmRSS and VmHWM lines")
	}
	return m, nil
}

func truncate(b []byte) string {
	if len(b) > 80 {
		return string(b[:80]) + "…"
	}
	return string(b)
}
