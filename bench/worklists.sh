#!/usr/bin/env bash
# Worklist and audit-filter speed before and after migration 0030 (the worklists' indexes),
# on the same city in SQLite and PostgreSQL: bench/worklists/main.go built from the commit
# before 0030 (BASE) and from this tree, run one after the other on one store, the second
# applying 0030 as it opens (its time is the migration's cost).
#
#   bench/worklists.sh REPLAYED.db [DAY…]
#
# REPLAYED.db is a SQLite store a replay built (e.g. 250,000 recipients, six months:
#   silentcert simulate --recipients 250000 --from 2024-01-01 --to 2024-06-30 --seed 11 --out city
#   silentcert replay --db sqlite:r.db --roster city/roster.csv --records city/records \
#       --from 2024-01-01 --to 2024-06-30 --model builtin
# with the binary of BASE, so that it stops at 0029); it is copied, never changed. The
# copy gets six months of a service's audit rows (worklists -prepare), and PostgreSQL
# (SILENTCERT_BENCH_POSTGRES, default postgres://root@127.0.0.1:5432/test) a schema with
# the same people and audit rows; both are dropped at the end, unless KEEP=1. Each DAY
# is a console day to time the lists at (default 2026-12-07, the day the scale review
# served the six months: nearly everyone due; and 2024-06-30, the replay's last).
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(realpath "$1"); shift
DAYS=${*:-2026-12-07 2024-06-30}
PG=${SILENTCERT_BENCH_POSTGRES:-postgres://root@127.0.0.1:5432/test?sslmode=disable}
BASE=${BASE:-$(git rev-list -1 HEAD -- store/migrations/0030_worklist_order.sql)^}
export PGOPTIONS="-c client_min_messages=warning"
work=bench/work/worklists
rm -rf "$work"; mkdir -p "$work/base"
git archive "$BASE" | tar -x -C "$work/base"
mkdir -p "$work/base/bench/worklists"; cp bench/worklists/main.go "$work/base/bench/worklists/"
(cd "$work/base" && go build -o ../before ./bench/worklists)
go build -o "$work/after" ./bench/worklists
echo "worklists bench: $(git rev-parse --short "$BASE") against $(git rev-parse --short HEAD), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

cp "$src" "$work/w.db"
db=sqlite:$work/w.db
run() { # NAME BIN ARGS…: the program's lines, prefixed
  local name=$1; shift
  "$@" | sed "s/^/$name /"
}
first=-prepare
for d in $DAYS; do run "sqlite before $d" "$work/before" -db "$db" -today "$d" $first; first=; done >"$work/times"

schema=worklists_bench_$$
psql -q "${PG%%\?*}" -c "DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema" >/dev/null
drop() { psql -q "${PG%%\?*}" -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null; }
[ -n "${KEEP:-}" ] || trap drop EXIT
pg="$PG&search_path=$schema"
"$work/before" -db "$pg" >/dev/null # the schema, at BASE's migrations
cols() { sqlite3 "$work/w.db" "SELECT group_concat(name, ', ') FROM pragma_table_info('$1')"; }
pcols=$(cols people)
pq() { PGOPTIONS="$PGOPTIONS -c search_path=$schema" psql -q "${PG%%\?*}" "$@"; }
sqlite3 -csv "$work/w.db" "SELECT $pcols FROM people" | pq -c "\copy people ($pcols) FROM stdin csv"
acols="seq, kind, day, at, actor, pid, person_id, action, method, evidence, detail, rule"
sqlite3 -csv "$work/w.db" "SELECT $acols, '\\x' || hex(prev), '\\x' || hex(hash) FROM audit" |
  pq -c "\copy audit ($acols, prev, hash) FROM stdin csv"
pq -c "ANALYZE people; ANALYZE audit" >/dev/null
for d in $DAYS; do run "postgres before $d" "$work/before" -db "$pg" -today "$d"; done >>"$work/times"

for d in $DAYS; do run "sqlite after $d" "$work/after" -db "$db" -today "$d"; done >>"$work/times"
for d in $DAYS; do run "postgres after $d" "$work/after" -db "$pg" -today "$d"; done >>"$work/times"
[ -z "${KEEP:-}" ] || echo "kept: sqlite:$work/w.db and PostgreSQL schema $schema"

# One table per store and day: before, after, after/before.
for s in sqlite postgres; do
  for d in $DAYS; do
    echo "== $s, console day $d"
    awk -v s="$s" -v d="$d" '
      $1 == s && $3 == d { line = $0; sub(/^[^ ]+ [^ ]+ [^ ]+ /, "", line)
        name = substr(line, 1, 44); sub(/ +$/, "", name); split(substr(line, 45), f, " ")
        if ($2 == "before") { b[name] = f[1]; order[++n] = name } else a[name] = f[1] }
      END { printf "%-44s %10s %10s %8s\n", "", "before ms", "after ms", "ratio"
        for (i = 1; i <= n; i++) { k = order[i]
          printf "%-44s %10.1f %10.1f %8.3f\n", k, b[k], a[k], (b[k] > 0 ? a[k] / b[k] : 0) } }' "$work/times"
  done
done
[ -n "${KEEP:-}" ] || rm -f "$work"/w.db "$work"/w.db-* # the copy: as large as the city's store
