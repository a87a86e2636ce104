#!/usr/bin/env bash
# `cmake --install` puts the CLI, the shipped models and the public headers in place, and a
# program built against the installed headers and library runs.
. "$(dirname "$0")/lib.sh"
BUILD=${MNIST_BUILD_DIR:?set MNIST_BUILD_DIR}
cmake --install "$BUILD" --prefix "$TMP/prefix" > /dev/null
[ -x "$TMP/prefix/bin/mnist" ] || fail "no bin/mnist"
[ -f "$TMP/prefix/share/mnistcpp/models/mnist-fc-f32.gguf" ] || fail "no shipped model"
[ -f "$TMP/prefix/include/mnistcpp/engine/ops.h" ] || fail "no public headers"
"$TMP/prefix/bin/mnist" info "$TMP/prefix/share/mnistcpp/models/mnist-fc-f32.gguf" | grep -q 'architecture mnist-fc' || fail "installed CLI"
cat > "$TMP/user.cpp" <<'CPP'
#include <cstdio>
#include "models/model_io.h"
int main(int, char** argv) {
    mn::Model m = mn::load_model(argv[1]);
    std::printf("%s %lld\n", m.arch.c_str(), static_cast<long long>(m.n_params()));
}
CPP
${CXX:-c++} -std=c++20 -I"$TMP/prefix/include/mnistcpp" "$TMP/user.cpp" "$TMP/prefix/lib/libmnistcpp.a" -pthread -o "$TMP/user"
[ "$("$TMP/user" "$TMP/prefix/share/mnistcpp/models/mnist-fc-f32.gguf")" = "mnist-fc 397510" ] || fail "program against installed library"
echo "PASS"
