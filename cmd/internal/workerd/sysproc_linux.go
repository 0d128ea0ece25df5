package workerd

import "syscall"

// sysProcAttr makes the kernel kill workerd if the process that started it
// dies without stopping it (a crash, SIGKILL), so no workerd outlives its
// test or benchmark.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
