#!/usr/bin/env bash
# Compare `weft run` of two commits (by hand, not in CI): every output cell
# and errors.csv's file, line, record_id and column, on the example
# population, the spec's worked, small and faulty examples, and variants
# with bad rows, duplicates, unknown households, CRLF and blank lines, and
# an ungrouped persons file; at five months, both engines; JSON Lines
# inputs; JSON Lines and Parquet outputs (Parquet compared by bytes: a
# difference there needs a look with a Parquet reader).
#
#   scripts/compare-runs.sh BASE_COMMIT [NEW_COMMIT]   (NEW: the work tree)
#
# Refactors of the data path and the engines say "results unchanged"
# against the commit before them with this.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
shared="${WEFT_SHARED:-$repo/../shared}"
work="${WEFT_COMPARE_DIR:-${CARGO_TARGET_DIR:-$repo/target}/compare-runs}"
base="${1:?usage: compare-runs.sh BASE_COMMIT [NEW_COMMIT]}"
new="${2:-}"
mkdir -p "$work"
build() { # commit dest
  local wt="$work/wt-$1"
  if [ ! -x "$2" ]; then
    rm -rf "$wt"; git -C "$repo" worktree add --detach -f "$wt" "$1" >/dev/null
    (cd "$wt" && CARGO_TARGET_DIR="$work/target" cargo build --release -q -p weft-cli)
    cp "$work/target/release/weft" "$2"
    git -C "$repo" worktree remove --force "$wt"
  fi
}
build "$base" "$work/weft-base-$base"
if [ -n "$new" ]; then
  build "$new" "$work/weft-new-$new"; NEWBIN="$work/weft-new-$new"
else
  (cd "$repo" && cargo build --release -q -p weft-cli); NEWBIN="${CARGO_TARGET_DIR:-$repo/target}/release/weft"
fi
rm -rf "$work/pops"; mkdir -p "$work/pops"
python3 "$repo/scripts/compare_pops.py" "$repo" "$shared" "$work" >/dev/null
gen() { # bin out
  local BIN=$1 OUT=$2 POL="$repo/policies/jilin"
  rm -rf "$OUT"; mkdir -p "$OUT"
  run() { local d=$OUT/$1
    "$BIN" run "$POL" --persons "$work/pops/$2/persons.$3" --households "$work/pops/$2/households.$3" \
      --as-of "$4" --engine "$5" --format "$6" --out "$d" --force --quiet >"$d.stdout" 2>"$d.stderr" || true
    ls "$d" >/dev/null 2>&1 || true; }
  for pop in example bad dups unordered spec specsmall specerr; do
    for m in 2017-06 2018-01 2018-08 2019-08 2019-12; do
      for eng in jit interp; do run "$pop-$m-$eng" "$pop" csv "$m" "$eng" csv; done
    done
  done
  for pop in example bad specsmall; do
    for m in 2018-08 2019-12; do run "$pop-$m-jsonl-in" "$pop" jsonl "$m" jit csv; done
  done
  for fmt in jsonl parquet; do
    run "example-2019-08-out-$fmt" example csv 2019-08 jit "$fmt"
    run "bad-2019-08-out-$fmt" bad csv 2019-08 jit "$fmt"
  done
}
(cd "$work" && gen "$work/weft-base-$base" "$work/base" && gen "$NEWBIN" "$work/new")
python3 - "$work" <<'PY'
import csv, os, sys
work = sys.argv[1]
def rows(p):
    with open(p, newline='', encoding='utf-8') as f:
        return list(csv.reader(f))
diffs = 0; compared = 0
for name in sorted(os.listdir(f'{work}/base')):
    b = f'{work}/base/{name}'
    if not os.path.isdir(b):
        continue
    n = f'{work}/new/{name}'
    for fn in sorted(os.listdir(b)):
        if fn == 'manifest.json':
            continue
        compared += 1
        pb, pn = f'{b}/{fn}', f'{n}/{fn}'
        if not os.path.exists(pn):
            print(f'MISSING {name}/{fn}'); diffs += 1; continue
        if fn == 'errors.csv':
            key = lambda r: r[:4]
            if [key(r) for r in rows(pb)] != [key(r) for r in rows(pn)]:
                print(f'DIFF {name}/{fn} (file, line, record_id or column)'); diffs += 1
        elif open(pb, 'rb').read() != open(pn, 'rb').read():
            print(f'DIFF {name}/{fn}'); diffs += 1
print(f'{compared} files compared, {diffs} differ')
PY
