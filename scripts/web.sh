#!/usr/bin/env bash
# The web demo in one command on a fresh Debian 12 machine: installs what it needs, builds mnist
# (scripts/build.sh) and the demo's static site (scripts/build_web.sh), then serves it with
# `mnist serve`, which prints the URL to open (http://127.0.0.1:8080/). Extra arguments go to
# mnist serve (--port P, --host ADDR, ...); Ctrl-C stops it.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/scripts/install_deps.sh"
"$ROOT/scripts/build.sh" -DMNIST_BUILD_TESTS=OFF
"$ROOT/scripts/build_web.sh"
exec "${BUILD_DIR:-$ROOT/build}/mnist" serve "$@"
