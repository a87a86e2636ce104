#!/usr/bin/env bash
# Installs the npm packages the browser tests need (and those named as arguments, e.g. the
# browser benchmark's peers) into node_modules/ at the repository root (ignored by git), at
# pinned versions. Safe to run again: it does nothing when they are all there at these versions.
#   scripts/install_npm.sh                      playwright-core (drives Debian's chromium)
#   scripts/install_npm.sh NAME@VERSION...      and these
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PACKAGES=(playwright-core@1.65.1 "$@")

installed_version() {
  local manifest="$ROOT/node_modules/$1/package.json"
  [ -f "$manifest" ] && node -p "require(process.argv[1]).version" "$manifest"
}
missing=0
for spec in "${PACKAGES[@]}"; do
  [ "$(installed_version "${spec%@*}" || true)" = "${spec##*@}" ] || missing=1
done
if [ "$missing" = 0 ]; then
  echo "install_npm: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi
command -v npm > /dev/null || "$ROOT/scripts/install_deps.sh"
echo "install_npm: installing ${PACKAGES[*]}"
# npm installs exactly this list (it would drop packages installed before but not named), and
# writes neither a package.json nor a lock file.
(cd "$ROOT" && npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error "${PACKAGES[@]}")
echo "install_npm: done"
