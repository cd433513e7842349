package backtest

import "testing"

// TestContentHashFixed: a row's content hash is the same in every run (hashers are made
// per run), so that duplicate_conflict counts the same on the same files.
func TestContentHashFixed(t *testing.T) {
	a, b := newHasher(), newHasher()
	row := []byte("371002194003150019\x00张三\x001940-03-15\x002024-02-01\x00\x00critical=1\x00HEA.INPATIENT")
	if a.content(row) != b.content(row) {
		t.Fatal("the content hash changes between runs")
	}
	if a.content(row) == a.content(append(row[:len(row):len(row)], 'X')) {
		t.Fatal("a differing row has the same content hash")
	}
}

// BenchmarkContentHash: the hash of one row's content (about 80 bytes).
func BenchmarkContentHash(b *testing.B) {
	h := newHasher()
	row := []byte("371002194003150019\x00张三\x001940-03-15\x002024-02-01\x00371002001001\x00critical=1;icd10=I21\x00HEA.INPATIENT")
	b.SetBytes(int64(len(row)))
	var s uint32
	for b.Loop() {
		s += h.content(row)
	}
	_ = s
}
