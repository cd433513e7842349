#!/usr/bin/env bash
# The recovery list while the service writes (a scale review: the console's money pages
# waited 16-77 s for a payroll day's run): a simulated Weihai of N people (seed 4,
# January to July 2024) replayed into SQLite through June, kept in bench/work and reused
# (FRESH=1 builds it again); each run, on a copy, times /recoveries idle, then while the
# payroll day 2024-07-01 runs (asked once a third of the people are evaluated) and while
# July's records go in as one batch (asked once 1,000 are stored), and each writer's time.
#   bench/recoveries.sh [PEOPLE]        (default 100000)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
work=$PWD/bench/work/recoveries-$N
[ -z "${FRESH:-}" ] || rm -rf "$work"
mkdir -p "$work"
echo "recoveries while writing: $N people, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(git rev-parse --short HEAD)"
SILENTCERT_WAIT_PEOPLE="$N" SILENTCERT_WAIT_DIR="$work" \
  go test -count=1 -v -timeout 60m -run '^TestRecoveriesWhileWriting$' ./web/ | grep -v '^=== \|^--- \|^PASS\|^ok'
