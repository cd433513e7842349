#!/usr/bin/env bash
# Console page speed (issue 6): loads a synthetic city of N people over Weihai's villages
# (statuses, two decisions each, RISK flags for about 1.2 %, a record each, two payroll
# months) into SQLite and PostgreSQL, rebuilds the console's summaries, and prints each
# page's server time (p50 and p95 of 20 warm requests: dashboard, each drill-down level,
# each worklist's first page, a deep page, a person page, a search, a village view, and
# the fraud-risk list for the city, a district, a village, page 20 and a quarter).
#
#   bench/console.sh [PEOPLE] [sqlite|postgres|both]
#
# Defaults: 1,000,000 people, both databases (PostgreSQL at 127.0.0.1:5432, database test).
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000000}"
DBS="${2:-both}"
[ "$DBS" = both ] && DBS="sqlite postgres"
for db in $DBS; do
  echo "== $db, $N people"
  SILENTCERT_CONSOLE_PEOPLE="$N" SILENTCERT_CONSOLE_DB="$db" \
    go test -count=1 -v -timeout 60m -run '^TestPageSpeed$' ./web/ | grep -v '^=== \|^--- \|^PASS\|^ok'
done
