package exchange

import (
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// realDir names a directory written by `silentcert simulate` (roster.csv, records/…);
// BenchmarkRealFiles skips without it.
const realDirEnv = "SILENTCERT_BENCH_DIR"

// cpuTime is the process's user and system CPU time: on a shared machine it moves far
// less than wall time with what others run.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRealFiles reads files of a simulated city, one kind of file per sub-benchmark
// (plain CSV, CSV with CRLF, an extra column and datetimes, gzip, GBK, the roster), and
// reports CPU nanoseconds per row (cpu-ns/row) besides wall time. One op is one pass
// over the file. Run it as
//
//	SILENTCERT_BENCH_DIR=bench/work/backtest-… go test -run X -bench RealFiles -benchtime 2x ./exchange
func BenchmarkRealFiles(b *testing.B) {
	dir := os.Getenv(realDirEnv)
	if dir == "" {
		b.Skip(realDirEnv + " is not set")
	}
	records := map[string]string{
		"plain": "records/HRSS/2024-01.csv",
		"crlf":  "records/UTIL/2024-01.csv",
		"trn":   "records/TRN/2024-01.csv",
		"gzip":  "records/MED/2024-01.csv.gz",
		"bank":  "records/BANK/2024-01.csv.gz",
		"gbk":   "records/CIV/2024-01.csv",
	}
	for _, name := range []string{"plain", "crlf", "trn", "gzip", "bank", "gbk"} {
		path := filepath.Join(dir, records[name])
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			var rows int64
			c0 := cpuTime()
			for b.Loop() {
				rr, err := OpenRecords(path, benchCat, Options{})
				if err != nil {
					b.Fatal(err)
				}
				for {
					_, _, err := rr.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				rows += rr.Rows()
				rr.Close()
			}
			b.ReportMetric(float64(cpuTime()-c0)/float64(rows), "cpu-ns/row")
		})
	}
	b.Run("roster", func(b *testing.B) {
		b.ReportAllocs()
		var rows int64
		c0 := cpuTime()
		for b.Loop() {
			ro, err := ReadRoster(filepath.Join(dir, "roster.csv"), RosterOptions{})
			if err != nil {
				b.Fatal(err)
			}
			rows += int64(ro.Rows)
		}
		b.ReportMetric(float64(cpuTime()-c0)/float64(rows), "cpu-ns/row")
	})
}
