package flock

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestOpen: a file locked by one open file is refused to another (flock locks belong to
// open files, so one process is enough to show it), and free again once it is closed.
func TestOpen(t *testing.T) {
	if !Supported {
		t.Skip("no flock on this system")
	}
	path := filepath.Join(t.TempDir(), "lock")
	a, err := Open(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, os.O_RDWR, 0); !errors.Is(err, ErrLocked) {
		t.Fatalf("a second lock: %v", err)
	}
	a.Close()
	b, err := Open(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("after the first is closed: %v", err)
	}
	b.Close()
}

// TestOpenRenamedAway: the holder of x.part renames it into place as x and lets its lock
// go between another process's open of x.part and its lock. That lock is on x, which
// must not be emptied as a .part: Open takes the file now at x.part instead, or, asked
// not to create one, says there is none.
func TestOpenRenamedAway(t *testing.T) {
	defer func() { lockedHook = nil }()
	for _, create := range []bool{true, false} {
		dir := t.TempDir()
		part, done := filepath.Join(dir, "x.part"), filepath.Join(dir, "x")
		if err := os.WriteFile(part, []byte("whole"), 0o600); err != nil {
			t.Fatal(err)
		}
		once := false
		lockedHook = func() {
			if !once {
				once = true
				if err := os.Rename(part, done); err != nil {
					t.Fatal(err)
				}
			}
		}
		flag := os.O_RDWR
		if create {
			flag |= os.O_CREATE
		}
		f, err := Open(part, flag, 0o600)
		if !create {
			if !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("without O_CREATE: %v", err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		got, _ := f.Stat()
		was, _ := os.Stat(done)
		if os.SameFile(got, was) {
			t.Fatal("Open holds the file renamed into place")
		}
		if now, err := os.Lstat(part); err != nil || !os.SameFile(got, now) {
			t.Fatalf("Open holds a file not at %s: %v", part, err)
		}
		f.Close()
	}
}
