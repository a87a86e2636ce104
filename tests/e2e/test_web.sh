#!/usr/bin/env bash
# The web demo (the site scripts/build_web.sh builds) in headless Chromium, driven by
# tests/e2e/web_page.mjs: served by `mnist serve`, which finds the built site by itself, and by
# a plain static server (python3 -m http.server). The screenshot of the first run is kept as
# $MNIST_BUILD_DIR/web-demo.png (the README's is one of those). The first run also trains a
# network in the page (WEB_TRAIN=1) and checks the downloaded file with `mnist eval`.
. "$(dirname "$0")/lib.sh"
need_data
BUILD=${MNIST_BUILD_DIR:?set MNIST_BUILD_DIR}
SITE=$SRC/build-web/site
[ -f "$SITE/mnist-engine.wasm" ] || skip "the web demo is not built in $SITE (scripts/build_web.sh)"
[ -x /usr/bin/chromium ] || skip "no /usr/bin/chromium (scripts/install_deps.sh installs it)"
[ -f "$SRC/node_modules/playwright-core/package.json" ] || skip "no playwright-core in node_modules (scripts/install_npm.sh)"

export WEB_TMP=$TMP MNIST_BIN=$BIN MNIST_DATA_DIR=$DATA MNIST_SOURCE_DIR=$SRC
page() { timeout 420 node "$SRC/tests/e2e/web_page.mjs" "$@"; }
WEB_TRAIN=1 page mnist-serve "$BUILD/web-demo.png" -- timeout 280 "$BIN" serve --port 0 --threads 1 --quiet ||
  fail "the page served by mnist serve"
page static "$TMP/static.png" -- timeout 200 /usr/bin/python3 -u -m http.server --bind 127.0.0.1 --directory "$SITE" 0 ||
  fail "the page served by python3 -m http.server"
echo "PASS"
