package backtest

import (
	"testing"

	sc "github.com/silentcert/silentcert"
)

// TestSegPool: a list taken from the pool reuses the segments put there first and makes
// the rest; put empties the list given.
func TestSegPool(t *testing.T) {
	var p segPool
	var a segs[uint32]
	a.append(make([]uint32, 3<<segBits/2)) // two segments
	first := &a.s[0][0]
	p.put(&a)
	if a.len() != 0 || len(a.s) != 0 {
		t.Fatalf("put left the list with %d elements", a.len())
	}
	b := p.take(5 << segBits / 2) // three segments: two kept, one new
	if b.len() != 5<<segBits/2 || len(b.s) != 3 || len(p.free) != 0 {
		t.Fatalf("take: %d elements in %d segments, %d left in the pool", b.len(), len(b.s), len(p.free))
	}
	if &b.s[0][0] != first && &b.s[1][0] != first {
		t.Fatal("take did not reuse the segments put")
	}
	for i := 0; i < b.len(); i++ {
		*b.at(uint32(i)) = uint32(i)
	}
	if s, ok := b.span(10, 20); !ok || len(s) != 10 || s[0] != 10 || s[9] != 19 {
		t.Fatalf("span(10, 20) = %v, %v", s, ok)
	}
	if s, ok := b.span(1<<segBits-3, 1<<segBits); !ok || len(s) != 3 || s[2] != 1<<segBits-1 {
		t.Fatalf("span to the end of a segment = %v, %v", s, ok)
	}
	if _, ok := b.span(1<<segBits-3, 1<<segBits+1); ok {
		t.Fatal("span across two segments claimed to be one slice")
	}
}

// TestGroupAcrossSegments: a person's group of the replay order that spans two segments
// is sorted in spec §7's order like any other.
func TestGroupAcrossSegments(t *testing.T) {
	const n = 1<<segBits + 8
	r := &runner{srcRank: []int{0}}
	es := make([]entry, n)
	for i := range es {
		es[i] = entry{person: uint32(i), reported: sc.Date(1000)}
	}
	lo := n - 12 // person 7's entries: lo..n-1, across the boundary, latest first
	for i := lo; i < n; i++ {
		es[i] = entry{person: 7, reported: sc.Date(2000 - i)}
	}
	r.entries.append(es)
	r.order = segs[uint32]{}
	ord := make([]uint32, n)
	for i := range ord {
		ord[i] = uint32(i)
	}
	r.order.append(ord)
	w := &worker{r: r}
	if end := w.group(7, lo, n); end != n {
		t.Fatalf("group ends at %d, want %d", end, n)
	}
	for k := lo; k < n; k++ {
		if got, want := *r.order.at(uint32(k)), uint32(n-1-(k-lo)); got != want {
			t.Fatalf("order[%d] = %d, want %d", k, got, want)
		}
	}
}
