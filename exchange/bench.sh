#!/usr/bin/env bash
# bench.sh measures RecordReader.Next against encoding/csv (ReuseRecord) on the same
# generated file of 50,000 rows of ~100 bytes (UTF-8, GBK, gzip), in CPU seconds rather
# than wall time, so that other work on a shared machine disturbs the ratio little. Setup
# (generating, encoding, compressing the data) is measured with one pass and subtracted.
# Usage: bash exchange/bench.sh [passes]   (default 100)
set -euo pipefail
passes=${1:-100}
cd "$(dirname "$0")"
bin=$(mktemp -d)/exchange.test
go test -c -o "$bin" .
cpu() { # bench pattern, passes -> user+sys seconds
	/usr/bin/time -f "%U %S" "$bin" -test.run XXX -test.bench "$1" -test.benchtime "${2}x" 2>&1 >/dev/null | tail -1 | awk '{print $1+$2}'
}
rows=$((50000 * passes))
printf "%-24s %10s %12s %8s\n" benchmark cpu_s rows/cpu_s ns/row
for enc in utf8 gbk gzip; do
	setup=$(cpu "ReadRecords/$enc/silentcert\$" 1)
	for impl in silentcert encoding_csv; do
		t=$(cpu "ReadRecords/$enc/$impl\$" "$passes")
		awk -v n="$enc/$impl" -v t="$t" -v s="$setup" -v r="$rows" 'BEGIN { c = t - s; printf "%-24s %10.3f %12.0f %8.0f\n", n, c, r / c, c / r * 1e9 }'
	done
done
setup=$(cpu "ScanCSV/silentcert\$" 1)
for impl in silentcert encoding_csv; do
	t=$(cpu "ScanCSV/$impl\$" "$passes")
	awk -v n="scan/$impl" -v t="$t" -v s="$setup" -v r="$rows" 'BEGIN { c = t - s; printf "%-24s %10.3f %12.0f %8.0f\n", n, c, r / c, c / r * 1e9 }'
done
