package sandbox

import "syscall"

// procAttr makes the kernel kill a worker when the server dies, so no
// worker outlives it.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
