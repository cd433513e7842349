package service

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/silentcert/silentcert/internal/flock"
)

// TestRemoveStaleSpills: of the entries of a spill folder, only the directories named as
// a replay names them whose lock nobody holds are removed: not a running replay's, not a
// directory without a lock file (being made, or from before the lock), not a link to a
// directory, not a file, not another program's directory.
func TestRemoveStaleSpills(t *testing.T) {
	if !flock.Supported {
		t.Skip("no flock on this system: nothing is removed")
	}
	parent := t.TempDir()
	mk := func(name string, lock bool) string {
		dir := filepath.Join(parent, name)
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "w+00001"), []byte("rows"), 0o600); err != nil {
			t.Fatal(err)
		}
		if lock {
			if err := os.WriteFile(filepath.Join(dir, spillLock), nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	mk(spillPrefix+"killed", true)
	mk(spillPrefix+"nolock", false)
	mk("other-program", true)
	elsewhere := mk(spillPrefix+"target", false)
	if err := os.Symlink(elsewhere, filepath.Join(parent, spillPrefix+"link")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(parent, spillPrefix+"file"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	running, lock, err := newSpillDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	// newSpillDir swept the folder already: the killed replay's directory is gone.
	names := func() []string {
		es, _ := os.ReadDir(parent)
		var out []string
		for _, e := range es {
			out = append(out, e.Name())
		}
		return out
	}
	want := []string{filepath.Base(running), "other-program", spillPrefix + "file", spillPrefix + "link", spillPrefix + "nolock", spillPrefix + "target"}
	slices.Sort(want)
	if got := names(); !slices.Equal(got, want) {
		t.Fatalf("after the sweep: %v, want %v", got, want)
	}
	if _, err := os.Stat(filepath.Join(running, spillLock+".new")); err == nil {
		t.Error("the lock file is still under its name while made")
	}
	// Another replay's sweep while this one runs leaves it; once it is gone (its lock
	// let go as a kill lets it go), the next sweep removes it.
	removeStaleSpills(parent)
	if got := names(); !slices.Equal(got, want) {
		t.Fatalf("a sweep beside a running replay: %v, want %v", got, want)
	}
	lock.Close()
	removeStaleSpills(parent)
	if _, err := os.Stat(running); !os.IsNotExist(err) {
		t.Fatalf("the directory of a replay whose lock was let go: %v", err)
	}
}
