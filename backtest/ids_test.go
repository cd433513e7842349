package backtest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	sc "github.com/silentcert/silentcert"
)

// TestIDStore: every record_id comes back exactly, whatever it shares with the one
// before it (nothing, all of it, more than 15 bytes) and wherever it falls in its block
// and chunk, across chunks of any size, empty ones included.
func TestIDStore(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var want [][]byte
	var s idStore
	var enc idEncoder
	for c := 0; c < 40; c++ {
		enc.reset()
		n := rng.IntN(3 * idBlock)
		switch c % 7 {
		case 0:
			n = 0
		case 1:
			n = rng.IntN(40000) // the store's directory: more than 2^16 record_ids in all
		}
		for k := 0; k < n; k++ {
			var id []byte
			switch rng.IntN(6) {
			case 0:
				id = nil // empty
			case 1:
				id = fmt.Appendf(nil, "BANK%08d-%d", rng.IntN(1000), rng.IntN(12))
			case 2:
				id = fmt.Appendf(nil, "a-very-long-shared-prefix-of-more-than-15-bytes-%d", rng.IntN(100))
			case 3:
				id = fmt.Appendf(nil, "a-very-long-shared-prefix-of-more-than-15-bytes-%d-and-a-long-tail-%d", rng.IntN(100), rng.Int())
			case 4:
				if len(want) > 0 {
					id = bytes.Clone(want[len(want)-1]) // the same again
				}
			default:
				id = make([]byte, rng.IntN(40))
				for j := range id {
					id[j] = byte(rng.IntN(256))
				}
			}
			enc.add("SRC", id)
			want = append(want, id)
		}
		s.add(&enc)
	}
	if int(s.n) != len(want) {
		t.Fatalf("store holds %d record_ids, want %d", s.n, len(want))
	}
	buf := []byte("prefix:")
	for i, id := range want {
		got := s.appendID(buf[:7], uint32(i))
		if string(got[:7]) != "prefix:" || !bytes.Equal(got[7:], id) {
			t.Fatalf("record_id %d: got %q, want %q", i, got, id)
		}
	}
}

// TestKeyOfChunkSource: the idempotency key recomputed for dedupe is the key made at
// parse time, whether the chunk's records share one source (taken from the chunk) or not
// (taken from each entry's type).
func TestKeyOfChunkSource(t *testing.T) {
	cat := sc.DefaultConfig().Catalogue
	var a, b sc.TypeID = 0, 0
	for i := 1; i < cat.Len(); i++ {
		if cat.Type(sc.TypeID(i)).Source != cat.Type(a).Source {
			b = sc.TypeID(i)
			break
		}
	}
	if cat.Type(a).Source == cat.Type(b).Source {
		t.Fatal("the default catalogue has a single source")
	}
	r := &runner{cat: cat, hash: newHasher()}
	chunks := [][]sc.TypeID{{a, a, a}, {a, b, a, b, b}, {b}}
	var want [][2]uint64
	for c, types := range chunks {
		var enc idEncoder
		for k, typ := range types {
			id := fmt.Appendf(nil, "ID%d-%d", c, k)
			enc.add(cat.Type(typ).Source, id)
			r.entries.append([]entry{{typ: typ}})
			var buf []byte
			want = append(want, r.hash.key(&buf, cat.Type(typ).Source, id))
		}
		if enc.mixed != (c == 1) {
			t.Fatalf("chunk %d: mixed = %v", c, enc.mixed)
		}
		r.ids.add(&enc)
	}
	var buf []byte
	for i, w := range want {
		if got := r.keyOf(uint32(i), &buf); got != w {
			t.Fatalf("entry %d: key %x, want %x", i, got, w)
		}
	}
}
