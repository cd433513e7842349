//go:build unix

// Package fulldisk lets a test fill the disk under a step: the process's file size limit
// (RLIMIT_FSIZE) fails a write past it with EFBIG, as a full disk fails one with ENOSPC,
// and Go ignores the SIGXFSZ that comes with it, so the write returns its error. The
// limit is the process's: the test runs again in a process of its own (Child), where go
// test's log of the files the test opens (for its cache) is not written, and where no
// other test writes beside it.
package fulldisk

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// childEnv marks the process a Child started.
const childEnv = "SILENTCERT_FULLDISK_CHILD"

// Child runs the test t (a top-level test) again in a child process of the test binary
// and reports whether this process is that child: there the test goes on (and may
// Limit), in the parent it returns at once, t failing with the child's output if the
// child fails, skipped if the child skips.
func Child(t *testing.T) bool {
	t.Helper()
	if os.Getenv(childEnv) == t.Name() {
		return true
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+regexp.QuoteMeta(t.Name())+"$", "-test.count=1", "-test.v", "-test.timeout=10m")
	cmd.Env = append(os.Environ(), childEnv+"="+t.Name())
	out, err := cmd.CombinedOutput()
	switch {
	case err != nil:
		t.Fatalf("in its own process: %v\n%s", err, out)
	case strings.Contains(string(out), "--- SKIP"):
		t.Skipf("in its own process:\n%s", out)
	case !strings.Contains(string(out), "--- PASS: "+t.Name()):
		t.Fatalf("in its own process, the test did not run:\n%s", out)
	}
	return false
}

// Limit sets the process's file size limit to n bytes, until restore is called; it
// skips t (the Child's test or one of its subtests) where the limit cannot be set, and
// fails it outside a Child.
func Limit(t *testing.T, n int64) (restore func()) {
	t.Helper()
	if top, _, _ := strings.Cut(t.Name(), "/"); os.Getenv(childEnv) != top {
		t.Fatal("fulldisk.Limit outside fulldisk.Child: the limit would fail the files of go test and of other tests")
	}
	restore, err := Set(n)
	if err != nil {
		t.Skip(err)
	}
	return restore
}

// Set is Limit for a step that runs on another goroutine than the test's (a server's
// handler, which may not end the test): only in a Child.
func Set(n int64) (restore func(), err error) {
	var was syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &was); err != nil {
		return nil, err
	}
	lim := was
	lim.Cur = uint64(n)
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		return nil, err
	}
	return func() { syscall.Setrlimit(syscall.RLIMIT_FSIZE, &was) }, nil
}
