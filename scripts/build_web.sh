#!/usr/bin/env bash
# Builds the web demo into one self-contained static folder: the page (web/), the engine (the
# C API, include/mnist.h) compiled to WebAssembly by Debian's Emscripten with the WASM SIMD
# kernels and one thread, the shipped models, the first MNIST test digits, and MNIST itself
# gzipped for the page's Train panel (train-data/: fetched only when the page trains). Any
# static host serves it; it needs no special headers.
#   scripts/build_web.sh          build into build-web/ (WEB_BUILD_DIR overrides), the site in build-web/site/
# then either of
#   python3 -m http.server -d build-web/site 8000     (http://127.0.0.1:8000/)
#   build/mnist serve                                  (serves the built site at /)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${WEB_BUILD_DIR:-$ROOT/build-web}
SITE=$BUILD/site
DIGITS=500                                # test digits in the site (the first of t10k)
DEFAULT_MODEL=mnist-cnn-f32               # the page starts with it, as mnist serve does

"$ROOT/scripts/install_deps.sh"
"$ROOT/scripts/fetch_data.sh" > /dev/null
# Emscripten's JS optimizer needs Debian's node modules (acorn).
export NODE_PATH="/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}"
emcmake cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DMNIST_BUILD_WEB=ON \
  -DMNIST_BUILD_CLI=OFF -DMNIST_BUILD_TESTS=OFF > /dev/null
cmake --build "$BUILD" --target mnist_engine -j "$(nproc)"

# Assembled beside the old site, then swapped in whole.
rm -rf "$SITE.new"
# (test-digits/, not digits/: mnist serve answers /digits/... itself.)
mkdir -p "$SITE.new/models" "$SITE.new/test-digits"
cp "$ROOT"/web/* "$SITE.new/"
cp "$BUILD/mnist-engine.js" "$BUILD/mnist-engine.wasm" "$SITE.new/"
cp "$ROOT"/models/*.gguf "$SITE.new/models/"
# MNIST's training and test sets, gzipped once (the engine inflates them itself), for training
# in the page: build outputs, kept in $BUILD/train-data between builds.
mkdir -p "$BUILD/train-data" "$SITE.new/train-data"
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  if [ ! -f "$BUILD/train-data/$f.gz" ] || [ "$ROOT/data/mnist/$f" -nt "$BUILD/train-data/$f.gz" ]; then
    gzip -9 -n -c "$ROOT/data/mnist/$f" > "$BUILD/train-data/$f.gz.tmp"
    mv "$BUILD/train-data/$f.gz.tmp" "$BUILD/train-data/$f.gz"
  fi
  cp "$BUILD/train-data/$f.gz" "$SITE.new/train-data/"
done
/usr/bin/python3 - "$SITE.new" "$ROOT/data/mnist" "$DIGITS" "$DEFAULT_MODEL" <<'PY'
import hashlib, json, os, struct, sys
site, data, count, default = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]

# The first `count` test digits and their labels, as IDX files of their own.
for kind, magic, head, item in (("images", 0x803, 16, 784), ("labels", 0x801, 8, 1)):
    src = open(os.path.join(data, f"t10k-{kind}-idx{3 if kind == 'images' else 1}-ubyte"), "rb").read()
    dims = (28, 28) if kind == "images" else ()
    with open(os.path.join(site, "test-digits", f"t10k-{kind}-{count}.idx"), "wb") as f:
        f.write(struct.pack(">II" + "I" * len(dims), magic, count, *dims) + src[head:head + count * item])

files = sorted(os.path.relpath(os.path.join(d, n), site) for d, _, names in os.walk(site) for n in names)
version = hashlib.sha256()
for name in files:
    version.update(name.encode() + b"\0" + open(os.path.join(site, name), "rb").read())
def digest(names):
    h = hashlib.sha256()
    for name in names:
        h.update(name.encode() + b"\0" + open(os.path.join(site, name), "rb").read())
    return h.hexdigest()[:16]

# The training data is not part of the offline copy made when the page is first opened (11 MB):
# the service worker keeps it once the page has fetched it to train, in a cache of its own version.
lazy = [f for f in files if f.startswith("train-data/")]
def set_of(prefix):
    return {"images": f"train-data/{prefix}-images-idx3-ubyte.gz", "labels": f"train-data/{prefix}-labels-idx1-ubyte.gz",
            "count": struct.unpack(">I", open(os.path.join(data, f"{prefix}-labels-idx1-ubyte"), "rb").read()[4:8])[0]}
training = {"version": digest(lazy), "train": set_of("train"), "test": set_of("t10k"),
            "bytes": sum(os.path.getsize(os.path.join(site, f)) for f in lazy), "files": lazy}
models = sorted((f for f in files if f.startswith("models/")), key=lambda f: (not f.endswith(f"/{default}.gguf"), f))
listing = {
    "version": version.hexdigest()[:16],
    "models": [{"name": os.path.basename(f)[:-len(".gguf")], "file": f, "bytes": os.path.getsize(os.path.join(site, f))}
               for f in models],
    "digits": {"images": f"test-digits/t10k-images-{count}.idx", "labels": f"test-digits/t10k-labels-{count}.idx", "count": count},
    "training": training,
    "files": ["./"] + [f for f in files if f not in lazy] + ["site.js"],
}
with open(os.path.join(site, "site.js"), "w") as f:
    f.write("// Written by scripts/build_web.sh: what this folder holds (the page, its worker and the\n"
            "// service worker read it).\nself.SITE = " + json.dumps(listing, indent=1) + ";\n")
PY
rm -rf "$SITE"
mv "$SITE.new" "$SITE"

# Sizes, as served plainly and gzipped (as static hosts compress them).
report() {  # NAME FILE...
  local bytes=0 gzipped=0 f
  for f in "${@:2}"; do
    bytes=$((bytes + $(stat -c %s "$f")))
    gzipped=$((gzipped + $(gzip -9c "$f" | wc -c)))
  done
  printf '  %-28s %9d bytes %9d gzipped\n' "$1" "$bytes" "$gzipped"
}
echo "build_web: built $SITE"
cd "$SITE"
report mnist-engine.wasm mnist-engine.wasm
report mnist-engine.js mnist-engine.js
for f in models/*.gguf; do report "$f" "$f"; done
mapfile -t page < <(find . -maxdepth 1 -type f ! -name 'mnist-engine.*' -printf '%P\n' | sort)
report "the page (${#page[@]} files)" "${page[@]}"
report "test digits ($DIGITS)" test-digits/*
report "training data (train-data/)" train-data/*
mapfile -t all < <(find . -type f | sort)
report "all ${#all[@]} files" "${all[@]}"
echo "open it: python3 -m http.server -d $SITE 8000   (http://127.0.0.1:8000/), or: build/mnist serve"
