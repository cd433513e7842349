package divisions

import (
	"io/fs"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
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
	cpu0, ok := cpuSeconds()
	i := 0
	for b.Loop() {
		r.Resolve(addrs[i%len(addrs)])
		i++
	}
	reportRate(b, i, cpu0, ok)
}

// reportRate reports addresses per wall-clock second and, where the system tells, per
// CPU second: on a machine shared with other work the second is the one that says what
// one core does.
func reportRate(b *testing.B, n int, cpu0 float64, ok bool) {
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "addr/s")
	if cpu1, ok1 := cpuSeconds(); ok && ok1 && cpu1 > cpu0 {
		b.ReportMetric(float64(n)/(cpu1-cpu0), "addr/cpu-s")
	}
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
	cpu0, ok := cpuSeconds()
	i := 0
	for b.Loop() {
		r.Resolve(addrs[i%len(addrs)])
		i++
	}
	reportRate(b, i, cpu0, ok)
}

// BenchmarkLoad measures what Embedded and the first NewResolver do, from scratch each
// time: decode the embedded whole-country table, then build its address index. It
// reports the time of each step and the heap each keeps (runtime.ReadMemStats after a
// collection).
func BenchmarkLoad(b *testing.B) {
	sub, err := fs.Sub(embedded, "data")
	if err != nil {
		b.Fatal(err)
	}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	var keep *Table
	var tableHeap, indexHeap uint64
	var tableTime, indexTime time.Duration
	var cpu float64
	for b.Loop() {
		keep = nil
		b.StopTimer()
		h0 := heap()
		b.StartTimer()
		c0, _ := cpuSeconds()
		t0 := time.Now()
		tab, err := LoadFS(sub)
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		c1, _ := cpuSeconds()
		b.StopTimer()
		h1 := heap()
		b.StartTimer()
		c2, _ := cpuSeconds()
		t2 := time.Now()
		tab.addressIndex()
		t3 := time.Now()
		c3, _ := cpuSeconds()
		cpu = c1 - c0 + c3 - c2
		b.StopTimer()
		h2 := heap()
		keep = tab
		b.StartTimer()
		tableHeap, indexHeap = h1-h0, h2-h1
		tableTime, indexTime = t1.Sub(t0), t3.Sub(t2)
	}
	runtime.KeepAlive(keep)
	b.ReportMetric(float64(tableTime.Milliseconds()), "table-ms")
	b.ReportMetric(float64(indexTime.Milliseconds()), "index-ms")
	b.ReportMetric(float64(tableHeap)/(1<<20), "table-MB")
	b.ReportMetric(float64(indexHeap)/(1<<20), "index-MB")
	b.ReportMetric(float64(tableHeap+indexHeap)/(1<<20), "heap-MB")
	if cpu > 0 {
		// CPU time of both steps, garbage collection included: the wall-clock figures
		// above stretch when the machine is busy with other work.
		b.ReportMetric(cpu*1000, "cpu-ms")
	}
}
