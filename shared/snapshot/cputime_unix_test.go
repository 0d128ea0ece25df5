//go:build linux || darwin

package snapshot

import "syscall"

// processCPU returns the CPU time this process has used, in nanoseconds
// (user + system, all threads, so GC work counts too).
func processCPU() int64 {
	var u syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &u) != nil {
		return 0
	}
	return u.Utime.Nano() + u.Stime.Nano()
}
