package divisions

import (
	"io/fs"
	"math/rand/v2"
	"runtime"
	"testing"
)

// benchAddresses is a mix of clean, varied and misspelt addresses over the test provinces.
func benchAddresses(b *testing.B, tab *Table) []string {
	rng := rand.New(rand.NewPCG(7, 7))
	vs := sampleVillages(tab, rng, testProvinces)
	pool := charPool(vs)
	var out []string
	for _, v := range vs {
		out = append(out, cleanAddress(tab, rng, v.Code), variantAddress(tab, rng, v.Code), typoAddress(tab, rng, v.Code, pool))
	}
	return out
}

// BenchmarkResolve reports addresses resolved per second on one goroutine (run with
// -cpu 1 for one core).
func BenchmarkResolve(b *testing.B) {
	tab := mustEmbedded(b)
	r := NewResolver(tab, Options{})
	addrs := benchAddresses(b, tab)
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		r.Resolve(addrs[i%len(addrs)])
		i++
	}
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "addr/s")
}

// BenchmarkResolveCity is BenchmarkResolve with the search narrowed to Weihai.
func BenchmarkResolveCity(b *testing.B) {
	tab := mustEmbedded(b)
	r := NewResolver(tab, Options{City: "3710"})
	rng := rand.New(rand.NewPCG(7, 8))
	vs := sampleVillages(tab, rng, map[string]int{"3710": 1000})
	pool := charPool(vs)
	var addrs []string
	for _, v := range vs {
		addrs = append(addrs, cleanAddress(tab, rng, v.Code), variantAddress(tab, rng, v.Code), typoAddress(tab, rng, v.Code, pool))
	}
	b.ResetTimer()
	i := 0
	for b.Loop() {
		r.Resolve(addrs[i%len(addrs)])
		i++
	}
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "addr/s")
}

// BenchmarkLoad measures decoding the embedded whole-country table and building its
// address index from scratch, and the heap they keep.
func BenchmarkLoad(b *testing.B) {
	sub, err := fs.Sub(embedded, "data")
	if err != nil {
		b.Fatal(err)
	}
	var keep *Table
	var heap uint64
	for b.Loop() {
		keep = nil
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		tab, err := LoadFS(sub)
		if err != nil {
			b.Fatal(err)
		}
		tab.addressIndex()
		b.StopTimer()
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		heap = after.HeapAlloc - before.HeapAlloc
		keep = tab
		b.StartTimer()
	}
	runtime.KeepAlive(keep)
	b.ReportMetric(float64(heap)/(1<<20), "heap-MB")
}
