package atomicfile

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkOutputs writes the files of a backtest of 50,000 recipients over half a year
// (their sizes, 41 MB in all) over the same files of a run before: in place, as the files
// were written before, and whole or not at all (a .part synced and renamed, the folder
// synced). What the sync costs is the difference.
func BenchmarkOutputs(b *testing.B) {
	sizes := []int{15093607, 13893, 16163, 21023968, 20305, 1598354, 145790, 2969277, 507}
	chunk := make([]byte, 256<<10)
	for i := range chunk {
		chunk[i] = byte('a' + i%26)
	}
	write := func(w io.Writer, n int) error {
		for n > 0 {
			k := min(n, len(chunk))
			if _, err := w.Write(chunk[:k]); err != nil {
				return err
			}
			n -= k
		}
		return nil
	}
	for _, how := range []string{"in_place", "atomicfile"} {
		b.Run(how, func(b *testing.B) {
			dir := b.TempDir()
			b.SetBytes(41 << 20)
			for b.Loop() {
				for i, n := range sizes {
					path := filepath.Join(dir, fmt.Sprintf("f%d.csv", i))
					var err error
					if how == "in_place" {
						var f *os.File
						if f, err = os.Create(path); err == nil {
							err = write(f, n)
							f.Close()
						}
					} else {
						err = WriteFile(path, func(w io.Writer) error { return write(w, n) })
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
