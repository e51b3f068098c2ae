#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz entry point: everything is in ci/oss-fuzz-build.sh.
cd "$SRC/cairn"
ci/oss-fuzz-build.sh
