package web_test

import (
	"context"
	"crypto/sha256"
	"hash"
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/auth"
	"github.com/silentcert/silentcert/store/storetest"
	"github.com/silentcert/silentcert/web"
)

// BenchmarkExport measures the largest worklist export (exportRows, 200,000 rows: the
// three months' warning list of a city of 720,000), as CSV and as .xlsx, over the
// synthetic city of TestPageSpeed in SQLite. SILENTCERT_EXPORT_DB names the database
// file; it is built (SILENTCERT_EXPORT_PEOPLE people, 720,000 by default: about 204,000 on
// the list) when it does not exist, and kept for the next run, so that two versions of
// the console are measured on one city (bench/export.sh). Besides the time and the
// allocations of an export it reports the time to its first byte and the peaks of the
// heap above the heap before it (heapPeak), and logs the SHA-256 of the body, which two
// versions must share.
func BenchmarkExport(b *testing.B) {
	path := os.Getenv("SILENTCERT_EXPORT_DB")
	if path == "" {
		b.Skip("set SILENTCERT_EXPORT_DB (bench/export.sh)")
	}
	day := sc.MustDate("2025-12-31")
	_, err := os.Stat(path)
	fresh := os.IsNotExist(err)
	db := storetest.Open(b, "sqlite:"+path)
	if fresh {
		n, _ := strconv.Atoi(os.Getenv("SILENTCERT_EXPORT_PEOPLE"))
		if n <= 0 {
			n = 720_000
		}
		synthCity(b, db, n, day)
	}
	ctx := context.Background()
	a := auth.New(db, auth.Options{Hash: auth.HashParams{Time: 1, Memory: 64, Threads: 1}})
	if _, err := a.EnsureUser(ctx, "operator", pw, auth.RoleOperator, ""); err != nil {
		b.Fatal(err)
	}
	h, err := web.New(web.Options{DB: db, Auth: a, Today: func() sc.Date { return day }})
	if err != nil {
		b.Fatal(err)
	}
	tok, _, err := a.Login(ctx, "operator", pw, "127.0.0.1")
	if err != nil {
		b.Fatal(err)
	}
	for _, format := range []string{"csv", "xlsx"} {
		b.Run(format, func(b *testing.B) {
			b.ReportAllocs()
			var first, peak time.Duration
			var peakHeap, peakLive uint64
			for i := 0; i < b.N; i++ {
				req, _ := http.NewRequest("GET", "/work/warning/export?months=3&format="+format, nil)
				req.AddCookie(&http.Cookie{Name: "sc_session", Value: tok})
				w := &firstByte{h: http.Header{}, sum: sha256.New()}
				b.StopTimer()
				runtime.GC()
				stop, heap := heapPeak()
				b.StartTimer()
				w.start = time.Now()
				h.ServeHTTP(w, req)
				total := time.Since(w.start)
				b.StopTimer()
				objects, live := stop()
				peakHeap, peakLive = max(peakHeap, objects), max(peakLive, live)
				b.StartTimer()
				if w.code != 0 && w.code != http.StatusOK {
					b.Fatalf("%s: %d", format, w.code)
				}
				first, peak = first+w.first, max(peak, total)
				if i == 0 {
					b.Logf("%s: %d bytes, sha256 %x, heap before %d MB", format, w.n, w.sum.Sum(nil), heap>>20)
				}
			}
			b.ReportMetric(float64(first.Milliseconds())/float64(b.N), "ms-first-byte/op")
			b.ReportMetric(float64(peakHeap)/(1<<20), "MB-peak-heap")
			b.ReportMetric(float64(peakLive)/(1<<20), "MB-peak-live")
		})
	}
}

// firstByte is a client that reads as fast as the handler writes: it notes when the
// first byte came and hashes the body.
type firstByte struct {
	h     http.Header
	code  int
	start time.Time
	first time.Duration
	n     int64
	sum   hash.Hash
}

func (w *firstByte) Header() http.Header { return w.h }
func (w *firstByte) WriteHeader(c int) {
	if w.code == 0 {
		w.code = c
	}
}
func (w *firstByte) Write(p []byte) (int, error) {
	if w.n == 0 && len(p) > 0 {
		w.first = time.Since(w.start)
	}
	w.n += int64(len(p))
	return w.sum.Write(p)
}

// heapPeak samples the heap every millisecond until stop is called, which returns the
// peaks above the start: of the heap's objects, garbage not yet collected included (what
// the process's size follows), and of the live heap as the last GC found it (what the
// export holds). heap is the objects' bytes at the start.
func heapPeak() (stop func() (objects, live uint64), heap uint64) {
	names := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
	metrics.Read(names)
	base := [2]uint64{names[0].Value.Uint64(), names[1].Value.Uint64()}
	var peak [2]atomic.Uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		s := []metrics.Sample{{Name: names[0].Name}, {Name: names[1].Name}}
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			for i := range s {
				if v := s[i].Value.Uint64(); v > peak[i].Load() {
					peak[i].Store(v)
				}
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() (uint64, uint64) {
		close(done)
		<-finished
		return max(peak[0].Load(), base[0]) - base[0], max(peak[1].Load(), base[1]) - base[1]
	}, base[0]
}
