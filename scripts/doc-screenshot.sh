#!/usr/bin/env bash
# Render pages of the `weft doc` site of the Jilin pack to PNGs with
# headless Chromium: the index, a rule (dibao_benefit), a parameter with
# its step chart (dibao_standard_urban) and a programme. By hand, not in
# CI. Installs Debian's chromium and fonts-noto-cjk (for the Chinese
# labels) when they are missing. Usage: scripts/doc-screenshot.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-target/doc-screenshot}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "noto sans cjk"; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
fi
cargo run -q -p weft-cli -- doc policies/jilin --out "$out/site"
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
for page in index rule.dibao_benefit param.dibao_standard_urban programme.dibao; do
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --window-size=1280,2000 --hide-scrollbars \
    --screenshot="$out/$page.png" "file://$out/site/$page.html" 2>/dev/null
  echo "wrote $out/$page.png ($(wc -c < "$out/$page.png") bytes)"
done
