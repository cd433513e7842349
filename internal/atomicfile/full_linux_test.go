package atomicfile

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/silentcert/silentcert/internal/fulldisk"
)

// TestFullDisk: the disk fills mid-file: the earlier file stays whole and the .part is
// removed.
func TestFullDisk(t *testing.T) {
	if !fulldisk.Child(t) {
		return
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "pay.csv")
	good := lines(3663)
	if err := os.WriteFile(path, good, 0o644); err != nil {
		t.Fatal(err)
	}
	restore := fulldisk.Limit(t, 2021*42)
	err := WriteFile(path, func(w io.Writer) error {
		_, err := w.Write(lines(5000))
		return err
	})
	restore()
	if !errors.Is(err, syscall.EFBIG) {
		t.Fatalf("the write past the limit: %v", err)
	}
	if b, err := os.ReadFile(path); err != nil || !bytes.Equal(b, good) {
		t.Fatalf("the earlier file is not intact: %d bytes of %d, %v", len(b), len(good), err)
	}
	noPart(t, dir)
}
