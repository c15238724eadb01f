#!/usr/bin/env bash
# Render the HTML report of `weft diff` (the Jilin standards change of
# July 2018 over the example population) to a PNG with headless Chromium.
# Installs Debian's chromium and fonts-noto-cjk (for the Chinese names) when
# they are missing. Usage: scripts/diff-report.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-target/diff-report}"
mkdir -p "$out"
if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "noto sans cjk"; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
fi
cargo run -q --release -p weft-cli -- diff policies/jilin \
  --persons examples/population/persons.csv --households examples/population/households.csv \
  --as-of 2018-06 --as-of-after 2018-07 \
  --html "$out/report.html" --changes "$out/changes.csv" > "$out/report.txt"
profile="$(mktemp -d)"
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --window-size=1200,2600 \
  --screenshot="$out/report.png" "file://$PWD/$out/report.html" 2>/dev/null
rm -rf "$profile"
echo "wrote $out/report.png ($(wc -c < "$out/report.png") bytes) from $out/report.html"
