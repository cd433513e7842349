package main

import (
	"bytes"
	"testing"
)

// TestProgressLine: away from a terminal, progress is whole lines, one per interval plus
// the forced last, and nothing at all when quiet.
func TestProgressLine(t *testing.T) {
	var b bytes.Buffer
	p := newProgress(&b, false)
	for i := range 100 {
		p.show(false, "step %d", i)
	}
	p.show(true, "step %d", 100)
	p.done()
	if got := b.String(); got != "step 0\nstep 100\n" {
		t.Fatalf("progress to a buffer: %q", got)
	}
	var q bytes.Buffer
	p = newProgress(&q, true)
	p.show(true, "x")
	p.done()
	if q.Len() != 0 {
		t.Fatalf("quiet progress printed %q", q.String())
	}
}
