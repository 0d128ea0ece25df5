//go:build !linux && !darwin

package snapshot

// processCPU is not measured on this platform.
func processCPU() int64 { return 0 }
