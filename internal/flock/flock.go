// Package flock locks files between processes: an exclusive lock, taken without waiting,
// held by the open file and released when it is closed or the process ends, however it
// ends (a kill leaves no stale lock). The database's writer claim, the .part of a file
// being written and a replay's spill folder are held so.
package flock

import (
	"errors"
	"fmt"
	"os"
)

// lockedHook, when set, is called between Open's lock and its check (a test's race).
var lockedHook func()

// ErrLocked is the error of a lock another open file holds.
var ErrLocked = errors.New("locked by another process")

// Open opens the file at path (flag and perm as os.OpenFile's) and locks it. The holder of
// a file may rename or remove it between this open and this lock (a .part renamed into
// place): the lock would then be on a file path no longer names, so Open opens path again
// until the file it locks is the one at path. Where the system has no flock, Open only
// opens (Supported).
func Open(path string, flag int, perm os.FileMode) (*os.File, error) {
	for range 100 {
		f, err := os.OpenFile(path, flag, perm)
		if err != nil {
			return nil, err
		}
		if err := TryLock(f); err != nil {
			f.Close()
			return nil, err
		}
		if lockedHook != nil {
			lockedHook()
		}
		held, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, err
		}
		if now, err := os.Lstat(path); err == nil && os.SameFile(held, now) {
			return f, nil
		}
		f.Close()
		if flag&os.O_CREATE == 0 {
			// Gone, or another file: the one this caller asked for is no more.
			return nil, fmt.Errorf("%s: %w", path, os.ErrNotExist)
		}
	}
	return nil, fmt.Errorf("%s: replaced under every lock taken: %w", path, ErrLocked)
}
