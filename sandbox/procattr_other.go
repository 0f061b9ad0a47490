//go:build !linux

package sandbox

import "syscall"

// procAttr: only Linux can tie a worker's life to the server's.
func procAttr() *syscall.SysProcAttr { return nil }
