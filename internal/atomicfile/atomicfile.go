// Package atomicfile writes a file whole or not at all. The bytes go to NAME.part beside
// it, which is synced and renamed over NAME, and the directory synced: a kill, a power cut
// or a full disk meanwhile leaves the file as it was before (a payment file of 2,021 of
// its 3,663 lines was seen when they were written in place), and a run that fails does
// not destroy a good file an earlier run wrote.
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/internal/flock"
)

// File is a file being written: NAME.part until Commit puts it in place.
type File struct {
	f          *os.File
	path, part string
	done       bool
}

// Create starts writing path. Its .part is locked while it is written (flock): a second
// process writing the same path is refused, not mixed in, and a .part that a killed
// process left is taken over. An existing path keeps its permissions, a new one is
// readable by its owner alone (0600, as backup's copies: these files hold every
// recipient's ID number); a symbolic link is followed, as os.Create does, and the file it
// names replaced.
func Create(path string) (*File, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		if path, err = filepath.EvalSymlinks(path); err != nil {
			return nil, err
		}
	}
	part := path + ".part"
	f, err := flock.Open(part, os.O_RDWR|os.O_CREATE, 0o600)
	if errors.Is(err, flock.ErrLocked) {
		return nil, sc.Errorf(sc.EConflict, "%s: another process is writing %s", path, part)
	}
	if err != nil {
		return nil, err
	}
	// Not truncated at the open: that was the lock's holder's file until the lock said
	// otherwise.
	err = f.Truncate(0)
	if err == nil {
		perm := os.FileMode(0o600) // a .part taken over has its killed writer's
		if fi, serr := os.Stat(path); serr == nil {
			perm = fi.Mode().Perm()
		}
		err = f.Chmod(perm)
	}
	if err != nil {
		os.Remove(part)
		f.Close()
		return nil, err
	}
	return &File{f: f, path: path, part: part}, nil
}

// Write writes to the .part.
func (f *File) Write(p []byte) (int, error) { return f.f.Write(p) }

// Name is the path the file is put at.
func (f *File) Name() string { return f.path }

// Commit syncs the .part and renames it over the file, then syncs the directory: once it
// returns nil the new file is in place and survives a power cut. When the sync or the
// rename fails, the old file is as it was and the .part is removed; a failure after the
// rename (closing, syncing the directory) is returned with the new file in place, which a
// power cut could still take back.
func (f *File) Commit() error {
	if f.done {
		return fmt.Errorf("%s: already closed", f.part)
	}
	f.done = true
	// Renamed while the lock is held: closed first, the .part could be taken over and
	// emptied by another process before the rename put it in place.
	err := f.f.Sync()
	if err == nil {
		err = os.Rename(f.part, f.path)
	}
	if err != nil {
		os.Remove(f.part)
		f.f.Close()
		return err
	}
	if err := f.f.Close(); err != nil {
		return err
	}
	return SyncDir(filepath.Dir(f.path))
}

// Close gives up a file not committed: the .part is removed and the old file left as it
// was. After Commit it does nothing, so that it can be deferred.
func (f *File) Close() error {
	if f.done {
		return nil
	}
	f.done = true
	err := os.Remove(f.part)
	return errors.Join(err, f.f.Close())
}

// WriteFile writes path whole or not at all (Create, Commit) with what write writes.
func WriteFile(path string, write func(io.Writer) error) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := write(f); err != nil {
		return err
	}
	return f.Commit()
}

// SyncDir syncs a directory, so that a name just made or renamed in it survives a power
// cut. A system that cannot sync a directory (Windows) is not an error.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if errors.Is(err, os.ErrInvalid) || errors.Is(err, errors.ErrUnsupported) {
		err = nil
	}
	return errors.Join(err, d.Close())
}
