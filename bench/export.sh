#!/usr/bin/env bash
# The largest worklist export (200,000 rows), CSV and .xlsx, over a synthetic city in
# SQLite (web's BenchmarkExport): time, time to the first byte, bytes allocated and the
# live heap's peak per export, then each format once more alone under /usr/bin/time -v
# for the process's peak RSS (the city's database is built by a first run and kept, so
# that the RSS is the export's and the SQLite reader's).
#
#   bench/export.sh [DB_FILE] [COUNT]
#
# Defaults: /tmp/silentcert-export.db (720,000 people, built once: a few minutes), 3
# exports of each format. Run it in two trees on one DB_FILE to compare two versions.
set -euo pipefail
cd "$(dirname "$0")/.."
DB="${1:-/tmp/silentcert-export.db}"
COUNT="${2:-3}"
BIN="$(mktemp -d)/web.test"
go test -c -o "$BIN" ./web/
cd web
export SILENTCERT_EXPORT_DB="$DB"
[ -f "$DB" ] || "$BIN" -test.run '^$' -test.bench '^BenchmarkExport$/csv' -test.benchtime 1x >/dev/null
"$BIN" -test.run '^$' -test.bench '^BenchmarkExport$' -test.benchtime "${COUNT}x" -test.v | grep -v '^=== \|^PASS\|^ok'
for f in none csv xlsx; do # none: the process without an export, for the RSS's part that is not the export's
  /usr/bin/time -v "$BIN" -test.run '^$' -test.bench "^BenchmarkExport\$/$f\$" -test.benchtime 1x 2>&1 >/dev/null |
    sed -n "s/Maximum resident set size (kbytes): /$f peak RSS kB: /p"
done
rm -rf "$(dirname "$BIN")"
