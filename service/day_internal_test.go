package service

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
)

// TestBgGzipSameBytes: the payroll snapshot compressed on its own goroutine, its input
// cut into writes of any size, is byte for byte what gzip.NewWriter gives for the whole
// input at once (the snapshot stored must not depend on how it was made).
func TestBgGzipSameBytes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var in bytes.Buffer
	for i := 0; in.Len() < 3*bgGzipPiece+12345; i++ {
		fmt.Fprintf(&in, "%018d,CERTIFIED,2024-%02d-%02d,,BANK,%d\n", r.Int64N(1e17), r.IntN(12)+1, r.IntN(28)+1, r.Uint64())
	}
	var want bytes.Buffer
	zw := gzip.NewWriter(&want)
	if _, err := zw.Write(in.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	g := newBgGzip()
	src := in.Bytes()
	for len(src) > 0 {
		n := min(len(src), 1+r.IntN(200000))
		if _, err := g.Write(src[:n]); err != nil {
			t.Fatal(err)
		}
		src = src[n:]
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(g.Bytes(), want.Bytes()) {
		t.Fatalf("bgGzip gave %d bytes, gzip %d, not the same", len(g.Bytes()), want.Len())
	}
	zr, err := gzip.NewReader(bytes.NewReader(g.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	back, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(back, in.Bytes()) {
		t.Fatalf("round trip: %v, %d bytes for %d", err, len(back), in.Len())
	}
}
