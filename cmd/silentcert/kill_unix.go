//go:build unix

package main

import "syscall"

// killSelf ends the process as SIGKILL does: no deferred function, no flush, no rollback.
func killSelf() { syscall.Kill(syscall.Getpid(), syscall.SIGKILL) }
