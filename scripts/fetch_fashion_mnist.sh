#!/usr/bin/env bash
# Makes Fashion-MNIST available in data/fashion-mnist (or DIR). The data comes from the Debian
# package dataset-fashion-mnist, which installs gzip-compressed IDX files in
# /usr/share/datasets/fashion-mnist/. They are linked (or copied) under the MNIST file names,
# still gzip-compressed: our IDX reader detects gzip by its magic bytes.
set -euo pipefail

readonly PACKAGE="dataset-fashion-mnist"
readonly SOURCE_DIR="/usr/share/datasets/fashion-mnist"
readonly FILES=(t10k-images-idx3-ubyte t10k-labels-idx1-ubyte train-images-idx3-ubyte train-labels-idx1-ubyte)
# SHA-256 of the .gz files in $PACKAGE 0.0~git20200523.55506a9-1 (apt verifies the package
# itself; a mismatch here only means a different package version, so it is a warning).
declare -A SHA256=(
    [t10k-images-idx3-ubyte]=cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa
    [t10k-labels-idx1-ubyte]=8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05
    [train-images-idx3-ubyte]=b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7
    [train-labels-idx1-ubyte]=0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056
)

usage() {
    cat <<USAGE
usage: scripts/fetch_fashion_mnist.sh [--copy] [DIR]

Installs the Debian package $PACKAGE if needed (apt-get; sudo when not root) and links its
four IDX files ($SOURCE_DIR/*.gz) into DIR (default: data/fashion-mnist under
the repository root) under the MNIST names (t10k-images-idx3-ubyte, ...). The files stay
gzip-compressed. With --copy they are copied instead of linked.
USAGE
}

die() {
    echo "fetch_fashion_mnist.sh: error: $*" >&2
    exit 1
}

have_all_sources() {
    local f
    for f in "${FILES[@]}"; do [[ -f "$SOURCE_DIR/$f.gz" ]] || return 1; done
}

install_package() {
    local sudo=()
    if [[ "$(id -u)" -ne 0 ]]; then
        command -v sudo >/dev/null || die "$PACKAGE is not installed and sudo is not available; run as root or install it with: apt-get install $PACKAGE"
        sudo=(sudo)
    fi
    command -v apt-get >/dev/null || die "$PACKAGE is not installed and apt-get is not available (not Debian/Ubuntu?)"
    echo "installing $PACKAGE with apt-get ..."
    # A fresh system may have no package lists yet: update once and retry.
    if ! "${sudo[@]}" apt-get install -y "$PACKAGE"; then
        "${sudo[@]}" apt-get update
        "${sudo[@]}" apt-get install -y "$PACKAGE" || die "apt-get could not install $PACKAGE"
    fi
}

copy=0
dest=""
for arg in "$@"; do
    case "$arg" in
        -h | --help) usage; exit 0 ;;
        --copy) copy=1 ;;
        -*) usage >&2; exit 2 ;;
        *) [[ -z "$dest" ]] || { usage >&2; exit 2; }; dest="$arg" ;;
    esac
done
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${dest:-$repo_root/data/fashion-mnist}"

if have_all_sources; then
    echo "$PACKAGE is installed: $SOURCE_DIR"
else
    install_package
    have_all_sources || die "$PACKAGE is installed but $SOURCE_DIR does not hold the four IDX files"
fi

mkdir -p "$dest"
for f in "${FILES[@]}"; do
    src="$SOURCE_DIR/$f.gz"
    got="$(sha256sum "$src" | cut -d' ' -f1)"
    [[ "$got" == "${SHA256[$f]}" ]] ||
        echo "warning: $src has SHA-256 $got, not the expected ${SHA256[$f]} (another package version?)" >&2
    if [[ $copy -eq 1 ]]; then
        cp "$src" "$dest/.$f.tmp.$$"
        mv -f "$dest/.$f.tmp.$$" "$dest/$f"
        echo "copied: $src -> $dest/$f (gzip-compressed)"
    else
        ln -sfn "$src" "$dest/$f"
        echo "linked: $dest/$f -> $src (gzip-compressed)"
    fi
done
echo "Fashion-MNIST ready in $dest."
