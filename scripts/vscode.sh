#!/usr/bin/env bash
# The VS Code extension (editors/vscode): install its npm packages from the
# lock file, compile it, run its unit tests (the extension's own code,
# without VS Code) and grammar tests, and package it to
# editors/vscode/weft.vsix.
#   scripts/vscode.sh            everything
#   scripts/vscode.sh --no-vsix  everything but the package
set -euo pipefail
cd "$(dirname "$0")/../editors/vscode"
vsix=1
[[ "${1:-}" == "--no-vsix" ]] && vsix=0
if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npx --no-install tsc -p .
node --test out/test/unit/
npx --no-install vscode-tmgrammar-test -g syntaxes/weft.tmLanguage.json 'test/grammar/*.weft'
if [[ $vsix == 1 ]]; then
  npx --no-install vsce package -o weft.vsix
fi
