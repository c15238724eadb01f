#!/usr/bin/env bash
# Render the HTML report of `weft diff` to a PNG with headless Chromium: the
# July 2018 standards of the Jilin pack on the small population, the side
# before under June's rules (--rules-as-of) so only the policy's effect
# shows. By hand, not in CI; look at the PNG. Installs Debian's chromium
# and fonts-noto-cjk when missing. Usage: scripts/diff-report-screenshot.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-target/diff-report-screenshot}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "noto sans cjk"; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
fi
pop=tests/jilin/spec-examples/population-small
cargo run -q -p weft-cli -- diff policies/jilin --persons "$pop/persons.csv" \
  --households "$pop/households.csv" --as-of 2018-07 --rules-as-of 2018-06 \
  --as-of-after 2018-07 --quiet --html "$out/diff.html" >/dev/null
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --window-size=1200,3400 --hide-scrollbars \
  --screenshot="$out/diff.png" "file://$out/diff.html" 2>/dev/null
echo "wrote $out/diff.png ($(wc -c < "$out/diff.png") bytes)"
