#!/usr/bin/env bash
# The image's build steps work on a bookworm machine: ci/Dockerfile's RUN lines run here,
# in the source tree, without Docker (this machine is the image's base: Debian 12), and
# leave the binaries the Kubernetes manifests run.
#   dockerfile_test.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "${root}"
. "${root}/ci/tests/testlib.sh"
grep -qx "FROM debian:bookworm" ci/Dockerfile || fail "ci/Dockerfile does not start from debian:bookworm"
grep -qx "WORKDIR /work" ci/Dockerfile || fail "ci/Dockerfile has no WORKDIR /work (the manifests' workingDir)"
. /etc/os-release
[ "${VERSION_CODENAME:-}" = bookworm ] || echo "note: this machine is ${PRETTY_NAME:-unknown}, not bookworm"
mapfile -t runs < <(sed -n 's/^RUN //p' ci/Dockerfile)
[ "${#runs[@]}" -gt 0 ] || fail "ci/Dockerfile has no RUN line"
for cmd in "${runs[@]}"; do
  echo "RUN ${cmd}"
  bash -euo pipefail -c "${cmd}" > /dev/null || fail "RUN ${cmd}"
done
for bin in build/release/sim/cairn-sim build/release/properties/cairn-props; do
  "${bin}" --version > /dev/null || fail "${bin} did not run after the image's build steps"
done
grep -q '^CMD \["ci/nightly-sim"' ci/Dockerfile || fail "the image's CMD is not ci/nightly-sim"
echo "dockerfile_test: ${#runs[@]} RUN lines ran"
