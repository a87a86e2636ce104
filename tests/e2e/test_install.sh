#!/usr/bin/env bash
# `cmake --install` puts the CLI, the shipped models, the public headers and the web demo (once
# built) in place, and a program built against the installed headers and library runs.
. "$(dirname "$0")/lib.sh"
BUILD=${MNIST_BUILD_DIR:?set MNIST_BUILD_DIR}
cmake --install "$BUILD" --prefix "$TMP/prefix" > /dev/null
[ -x "$TMP/prefix/bin/mnist" ] || fail "no bin/mnist"
[ -f "$TMP/prefix/share/mnistcpp/models/mnist-fc-f32.gguf" ] || fail "no shipped model"
[ -f "$TMP/prefix/include/mnistcpp/engine/ops.h" ] || fail "no public headers"
[ -f "$TMP/prefix/include/mnist.h" ] || fail "no C API header"
if [ -f "$SRC/build-web/site/mnist-engine.wasm" ]; then  # built by scripts/build_web.sh
  [ -f "$TMP/prefix/share/mnistcpp/web/mnist-engine.wasm" ] || fail "the built web demo is not installed"
fi
"$TMP/prefix/bin/mnist" info "$TMP/prefix/share/mnistcpp/models/mnist-fc-f32.gguf" | grep -q 'architecture mnist-fc' || fail "installed CLI"
cat > "$TMP/user.cpp" <<'CPP'
#include <cstdio>
#include "models/model_io.h"
int main(int, char** argv) {
    mn::Model m = mn::load_model(argv[1]);
    std::printf("%s %lld\n", m.arch.c_str(), static_cast<long long>(m.n_params()));
}
CPP
${CXX:-c++} ${MNIST_SANITIZE_FLAGS:-} -std=c++20 -I"$TMP/prefix/include/mnistcpp" "$TMP/user.cpp" "$TMP/prefix/lib/libmnistcpp.a" -pthread -o "$TMP/user"
[ "$("$TMP/user" "$TMP/prefix/share/mnistcpp/models/mnist-fc-f32.gguf")" = "mnist-fc 397510" ] || fail "program against installed library"
# The C API from a C program built against the installed header and library.
cat > "$TMP/user.c" <<'C'
#include <stdio.h>
#include "mnist.h"
int main(int argc, char** argv) {
    (void)argc;
    mnist_model* m = mnist_load_file(argv[1]);
    if (!m) { fprintf(stderr, "%s\n", mnist_last_error()); return 1; }
    unsigned char blank[MNIST_PIXELS] = {0};
    int digit = -1;
    if (mnist_predict(m, blank, &digit, NULL) != MNIST_OK) return 1;
    printf("%s %d classes\n", mnist_model_arch(m), mnist_model_classes(m));
    mnist_free(m);
    return mnist_load_file("/nonexistent") == NULL ? 0 : 1;
}
C
${CC:-cc} ${MNIST_SANITIZE_FLAGS:-} -I"$TMP/prefix/include" "$TMP/user.c" "$TMP/prefix/lib/libmnistcpp.a" -lstdc++ -lm -pthread -o "$TMP/user_c"
[ "$("$TMP/user_c" "$TMP/prefix/share/mnistcpp/models/mnist-cnn-f32.gguf")" = "mnist-cnn 10 classes" ] || fail "C program against installed library"
# The installed CLI finds its shipped model (share/mnistcpp/models) for `predict`.
"$TMP/prefix/bin/mnist" predict --help > /dev/null || fail "installed predict --help"
echo "PASS"
