#!/usr/bin/env bash
# Measure `weft run` against the hand-written yardstick (shared/yardstick/
# jilin-native) in one run, on the same synthetic population: CSV → CSV,
# Parquet → Parquet and JSON Lines → JSON Lines, best of K runs interleaved
# with the yardstick's, 2 threads. Prints wall times, ratios to the
# yardstick's CSV time, peak RSS and whether the targets are met; writes the
# table as JSON to the work dir. By hand only, never in CI (minutes, noisy).
#
#   scripts/bench-run.sh                        # 1M persons, 5 runs
#   scripts/bench-run.sh --runs 3 --openfisca   # also OpenFisca (a venv, pip)
#   scripts/bench-run.sh --memory-only          # the 10M-person memory check
#   scripts/bench-run.sh --persons-size 2000 --runs 2   # a quick smoke test
#
# Options:
#   --persons-size 1m|10m|N  population: 1m = 408,500 households (about
#                            1.00M persons: `weft synth` draws 2.45 persons
#                            a household), 10m = 4,085,000, N = N households
#                            (default 1m; 10m with --memory-only)
#   --runs K                 runs per configuration (default 5; 1 with
#                            --memory-only)
#   --seed S                 `weft synth` seed (default 1)
#   --threads T              threads for weft and the yardstick (default 2)
#   --engine jit|interp      weft's engine (default jit)
#   --formats LIST           weft's formats, comma-separated (default
#                            csv,parquet,jsonl; csv with --memory-only)
#   --openfisca              also time OpenFisca (venv + pip install in the
#                            work dir on first use); --openfisca-runs N (1)
#   --memory-only            only weft's peak RSS (no yardstick): the 10M check
#   --no-build               use the binaries already built
#
# Environment: WEFT_SHARED (default: the repository's ../shared),
# WEFT_BENCH_DIR (work dir, default ${CARGO_TARGET_DIR:-target}/bench-run;
# populations are cached there by size and seed: delete its pop/ after
# changing `weft synth`), CARGO_TARGET_DIR.
# Peak RSS is the kernel's ru_maxrss of each process (what /usr/bin/time -v
# reports), read by scripts/bench_run.py with os.wait4.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
shared="${WEFT_SHARED:-$repo/../shared}"
target="${CARGO_TARGET_DIR:-$repo/target}"
work="${WEFT_BENCH_DIR:-$target/bench-run}"

size=""
runs=""
seed=1
threads=2
engine=jit
formats=""
openfisca=0
openfisca_runs=1
memory_only=0
build=1

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
need() { [ $# -ge 2 ] || { echo "error: $1 needs a value" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
  case "$1" in
    --persons-size|--size) need "$@"; size="$2"; shift 2 ;;
    --runs) need "$@"; runs="$2"; shift 2 ;;
    --seed) need "$@"; seed="$2"; shift 2 ;;
    --threads) need "$@"; threads="$2"; shift 2 ;;
    --engine) need "$@"; engine="$2"; shift 2 ;;
    --formats) need "$@"; formats="$2"; shift 2 ;;
    --openfisca) openfisca=1; shift ;;
    --openfisca-runs) need "$@"; openfisca_runs="$2"; openfisca=1; shift 2 ;;
    --memory-only) memory_only=1; shift ;;
    --no-build) build=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

if [ "$memory_only" = 1 ]; then
  size="${size:-10m}"; runs="${runs:-1}"; formats="${formats:-csv}"
  if [ "$openfisca" = 1 ]; then echo "error: --openfisca and --memory-only do not mix" >&2; exit 2; fi
else
  size="${size:-1m}"; runs="${runs:-5}"; formats="${formats:-csv,parquet,jsonl}"
fi
case "$size" in
  1m|1M) households=408500 ;;
  10m|10M) households=4085000 ;;
  *[!0-9]*|"") echo "error: --persons-size is 1m, 10m or a number of households" >&2; exit 2 ;;
  *) households="$size" ;;
esac
case "$engine" in jit|interp) ;; *) echo "error: --engine is jit or interp" >&2; exit 2 ;; esac
case "$runs$threads$seed$openfisca_runs" in *[!0-9]*) echo "error: --runs, --threads, --seed, --openfisca-runs are numbers" >&2; exit 2 ;; esac
[ "$runs" -ge 1 ] || { echo "error: --runs must be at least 1" >&2; exit 2; }
IFS=, read -r -a fmt_list <<< "$formats"
for f in "${fmt_list[@]}"; do
  case "$f" in csv|parquet|jsonl) ;; *) echo "error: unknown format $f (csv, parquet, jsonl)" >&2; exit 2 ;; esac
done
command -v python3 >/dev/null || { echo "error: python3 is needed (stdlib only)" >&2; exit 1; }
[ "$memory_only" = 1 ] || [ -d "$shared/yardstick/jilin-native" ] || {
  echo "error: no yardstick at $shared/yardstick/jilin-native (set WEFT_SHARED)" >&2; exit 1; }
mkdir -p "$work"
work="$(cd "$work" && pwd)"

# Build weft and the yardstick (the yardstick outside the read-only shared/).
weft="$target/release/weft"
native="$work/yardstick-target/release/native"
if [ "$build" = 1 ]; then
  echo "== building weft (release)" >&2
  (cd "$repo" && cargo build --release -q -p weft-cli)
  if [ "$memory_only" = 0 ]; then
    echo "== building the yardstick (release)" >&2
    CARGO_TARGET_DIR="$work/yardstick-target" cargo build --release -q --locked \
      --manifest-path "$shared/yardstick/jilin-native/Cargo.toml"
  fi
fi
[ -x "$weft" ] || { echo "error: $weft not built" >&2; exit 1; }
[ "$memory_only" = 1 ] || [ -x "$native" ] || { echo "error: $native not built" >&2; exit 1; }

# The population, once per size, seed and format (same seed: same records).
pop="$work/pop/h$households-s$seed"
gen_formats=("${fmt_list[@]}")
[ "$memory_only" = 1 ] || [[ " ${fmt_list[*]} " == *" csv "* ]] || gen_formats+=(csv)
for f in "${gen_formats[@]}"; do
  dir="$pop/$f"
  if [ -f "$dir/complete" ]; then
    echo "== population $dir (cached)" >&2
    continue
  fi
  echo "== weft synth: $households households, seed $seed, $f → $dir" >&2
  rm -rf "$dir"; mkdir -p "$dir"
  "$weft" synth "$repo/policies/jilin" --households "$households" --seed "$seed" \
    --format "$f" --out "$dir" 2> "$dir/synth.log" || { cat "$dir/synth.log" >&2; exit 1; }
  cat "$dir/synth.log" >&2
  touch "$dir/complete"
done

# OpenFisca: a venv in the work dir. pip builds a local project in place, so
# it installs from a scratch copy, never writing into shared/.
of_args=()
if [ "$openfisca" = 1 ]; then
  src="$shared/yardstick/jilin-openfisca"
  venv="$work/openfisca-venv"
  if ! "$venv/bin/python" -c 'import openfisca_jilin' 2>/dev/null; then
    echo "== installing OpenFisca into $venv (pip, PyPI)" >&2
    python3 -m venv "$venv"
    scratch="$work/openfisca-src"
    rm -rf "$scratch"; cp -r "$src" "$scratch"; chmod -R u+w "$scratch"
    rm -rf "$scratch/build" "$scratch"/*.egg-info
    "$venv/bin/pip" install -q "$scratch"
  fi
  of_args=(--openfisca-python "$venv/bin/python" --openfisca-script "$src/run_openfisca.py"
           --openfisca-runs "$openfisca_runs")
fi

mode=()
[ "$memory_only" = 1 ] && mode=(--memory-only)
exec python3 "$repo/scripts/bench_run.py" --work "$work" --weft "$weft" --native "$native" \
  --policy "$repo/policies/jilin" --pop "$pop" --households "$households" --seed "$seed" \
  --size-label "$size" --runs "$runs" --threads "$threads" --engine "$engine" \
  --formats "$formats" --repo "$repo" "${of_args[@]}" "${mode[@]}"
