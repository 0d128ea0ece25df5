//go:build !linux

package workerd

import "syscall"

// sysProcAttr has nothing to add outside Linux: Stop and the context given
// to Start end workerd.
func sysProcAttr() *syscall.SysProcAttr { return nil }
