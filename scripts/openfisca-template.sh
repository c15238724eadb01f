#!/usr/bin/env bash
# OpenFisca's own tests of openfisca-country-template, unmodified, against
# the Weft port in policies/country-template (docs/openfisca.md).
#
# Downloads the package from PyPI (`pip download --no-deps`, the wheel,
# which holds the YAML tests) into a cache under the target directory,
# never into the repository, and runs
#   weft test policies/country-template --yaml <cache>/.../tests
# Extra arguments go to `weft test` (--engine interp, --filter TEXT).
set -euo pipefail
cd "$(dirname "$0")/.."
version=8.2.0
cache="${WEFT_OPENFISCA_CACHE:-${CARGO_TARGET_DIR:-target}/openfisca-cache}"
unpacked="$cache/openfisca-country-template-$version"
tests="$unpacked/openfisca_country_template/tests"
if [ ! -d "$tests" ]; then
  mkdir -p "$cache"
  if ! python3 -m pip download --quiet --no-deps --timeout 30 --retries 1 \
      "openfisca-country-template==$version" -d "$cache"; then
    echo "openfisca-template.sh: cannot download openfisca-country-template $version from PyPI" >&2
    exit 2
  fi
  wheel="$cache/openfisca_country_template-$version-py3-none-any.whl"
  rm -rf "$unpacked.tmp"
  python3 -m zipfile -e "$wheel" "$unpacked.tmp"
  mv "$unpacked.tmp" "$unpacked"
fi
exec cargo run -q -p weft-cli -- test policies/country-template --yaml "$tests" "$@"
