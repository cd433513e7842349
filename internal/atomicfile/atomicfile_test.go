package atomicfile

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/internal/flock"
)

// lines is a file of n numbered lines, as a payment file is.
func lines(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		b.WriteString(strings.Repeat("x", 40))
		b.WriteString(string(rune('0' + i%10)))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// noPart fails when a .part is left in dir.
func noPart(t *testing.T, dir string) {
	t.Helper()
	if left, _ := filepath.Glob(filepath.Join(dir, "*.part")); len(left) > 0 {
		t.Fatalf("left behind: %v", left)
	}
}

// TestFailureMidFile: a write that fails half-way (a full disk, a query that fails)
// leaves the file an earlier run wrote as it was, and no .part; written in place, it was
// cut at the failure.
func TestFailureMidFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pay.csv")
	good := lines(3663)
	if err := WriteFile(path, func(w io.Writer) error { _, err := w.Write(good); return err }); err != nil {
		t.Fatal(err)
	}
	full := errors.New("no space left on device")
	err := WriteFile(path, func(w io.Writer) error {
		if _, err := w.Write(lines(3663)[:2021*42]); err != nil {
			return err
		}
		return full
	})
	if !errors.Is(err, full) {
		t.Fatalf("the failure was not returned: %v", err)
	}
	if b, err := os.ReadFile(path); err != nil || !bytes.Equal(b, good) {
		t.Fatalf("the earlier file is not intact: %d bytes of %d, %v", len(b), len(good), err)
	}
	noPart(t, dir)
}

// TestNewFile: a file that did not exist is made, and nothing else is left.
func TestNewFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.json")
	if err := WriteFile(path, func(w io.Writer) error { _, err := io.WriteString(w, "{}\n"); return err }); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "{}\n" {
		t.Fatalf("%q %v", b, err)
	}
	ownerOnly(t, path)
	noPart(t, dir)
	// A failed first write leaves no file at all.
	other := filepath.Join(dir, "held.csv")
	if err := WriteFile(other, func(w io.Writer) error { return errors.New("failed") }); err == nil {
		t.Fatal("no error")
	}
	if _, err := os.Stat(other); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a failed first write left %s: %v", other, err)
	}
	noPart(t, dir)
}

// TestPartOfAKilledRun: a .part a killed process left (its lock went with it) is taken
// over and emptied, and the file is the new run's alone.
func TestPartOfAKilledRun(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pay.csv")
	if err := os.WriteFile(path+".part", lines(5000), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, func(w io.Writer) error { _, err := io.WriteString(w, "new\n"); return err }); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "new\n" {
		t.Fatalf("got %d bytes: %.40q", len(b), b)
	}
	ownerOnly(t, path) // not the killed writer's .part's mode
	noPart(t, dir)
}

// ownerOnly fails unless a new file is its owner's alone: they hold every ID number.
func ownerOnly(t *testing.T, path string) {
	t.Helper()
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("a new %s has mode %v (%v), want 0600", filepath.Base(path), fi.Mode(), err)
	}
}

// TestSecondWriter: while one process writes a file, a second one writing the same file
// is refused (written in place, the two were mixed line by line), and neither the first
// one's .part nor the old file is touched.
func TestSecondWriter(t *testing.T) {
	if !flock.Supported {
		t.Skip("no flock on this system")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "pay.csv")
	if err := os.WriteFile(path, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	first, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(first, "first\n")
	if _, err := Create(path); sc.ErrorCode(err) != sc.EConflict {
		t.Fatalf("a second writer: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "old\n" {
		t.Fatalf("the old file: %q", b)
	}
	if err := first.Commit(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "first\n" {
		t.Fatalf("the first writer's file: %q", b)
	}
	noPart(t, dir)
}

// TestKeepsMode: a file an operator made readable by its owner alone stays so.
func TestKeepsMode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pay.csv")
	if err := os.WriteFile(path, []byte("old\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, func(w io.Writer) error { _, err := io.WriteString(w, "new\n"); return err }); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o640 {
		t.Fatalf("mode %v, %v", fi.Mode(), err)
	}
}

// TestSymlink: a path that is a symbolic link writes the file it names, as os.Create
// did, and the link stays.
func TestSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "pay-2024-06.csv")
	link := filepath.Join(dir, "pay.csv")
	if err := os.WriteFile(target, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Skip(err)
	}
	if err := WriteFile(link, func(w io.Writer) error { _, err := io.WriteString(w, "new\n"); return err }); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v %v", fi.Mode(), err)
	}
	if b, _ := os.ReadFile(target); string(b) != "new\n" {
		t.Fatalf("the target: %q", b)
	}
	noPart(t, dir)
}
