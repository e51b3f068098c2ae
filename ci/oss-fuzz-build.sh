#!/usr/bin/env bash
# Builds every fuzz target the way OSS-Fuzz and ClusterFuzzLite do: with $CC, $CXX,
# $CFLAGS, $CXXFLAGS and $LIB_FUZZING_ENGINE, into $OUT, with <target>_seed_corpus.zip
# and <target>.dict beside each binary. Run from the repository root (or via
# .clusterfuzzlite/build.sh). The targets need only OpenSSL (1.1.1 or 3), ISA-L,
# nlohmann-json and fmt's headers (header-only: $CXXFLAGS may carry -stdlib=libc++, which
# cannot link a libstdc++-built libfmt); $FMT_INCLUDE_DIR names fmt's include/ when no fmt
# package is installed; $CAIRN_OSS_FUZZ_CMAKE_ARGS adds CMake arguments (ctest uses it to
# hide the packages the OSS-Fuzz image lacks). Locally:
#   CC=clang-14 CXX=clang++-14 CFLAGS="-fsanitize=address,fuzzer-no-link" \
#   CXXFLAGS="-fsanitize=address,fuzzer-no-link" LIB_FUZZING_ENGINE=-fsanitize=fuzzer \
#   OUT=/tmp/out ci/oss-fuzz-build.sh
set -euo pipefail
: "${CC:?}" "${CXX:?}" "${OUT:?}" "${LIB_FUZZING_ENGINE:?}"
src="$(cd "$(dirname "$0")/.." && pwd)"
build="${WORK:-${src}/build}/oss-fuzz"
targets=(frame_decode index_load metadata_load segment_recovery cli_parse engine)
cmake -S "${src}" -B "${build}" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER="${CC}" -DCMAKE_CXX_COMPILER="${CXX}" \
  -DCMAKE_C_FLAGS="${CFLAGS:-}" -DCMAKE_CXX_FLAGS="${CXXFLAGS:-}" \
  -DCAIRN_FUZZ=ON -DCAIRN_FUZZ_ENGINE="${LIB_FUZZING_ENGINE}" -DBUILD_TESTING=OFF -DCAIRN_BENCH=OFF -DCAIRN_JEMALLOC=OFF \
  -DCAIRN_TOOLS=OFF -DCAIRN_FMT_HEADER_ONLY=ON -DCAIRN_FMT_INCLUDE_DIR="${FMT_INCLUDE_DIR:-}" \
  ${CAIRN_OSS_FUZZ_CMAKE_ARGS:-} >/dev/null
cmake --build "${build}" -j "$(nproc 2>/dev/null || echo 2)" $(printf -- '--target fuzz_%s ' "${targets[@]}") >/dev/null
mkdir -p "${OUT}"
for t in "${targets[@]}"; do
  cp "${build}/fuzz/fuzz_${t}" "${OUT}/${t}"
  rm -f "${OUT}/${t}_seed_corpus.zip"
  (cd "${src}/corpus/${t}" && zip -q -j "${OUT}/${t}_seed_corpus.zip" ./*)
  [ -f "${src}/corpus/${t}.dict" ] && cp "${src}/corpus/${t}.dict" "${OUT}/${t}.dict"
done
echo "built ${#targets[@]} targets into ${OUT}"
