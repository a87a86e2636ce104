#!/usr/bin/python3
"""Writes the seed corpus of every fuzz target: runs fuzz/make_seeds (our formats, written by
our own writers), then adds what Python's standard library writes around them: gzip and zlib
streams of our IDX files, and the zip, pickle and state_dict seeds from the stand-in archives
of tests/fixtures/make_state_dict.py (the archive layout torch.save writes, without torch).

usage: make_seeds.py MAKE_SEEDS_BINARY DATA_DIR OUT_DIR

OUT_DIR/<target>/ gets the seeds of fuzz_<target>. Everything is generated: no downloaded file.
"""

import gzip
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "tests", "fixtures")


def put(out, target, name, data, prefix=None):
    os.makedirs(os.path.join(out, target), exist_ok=True)
    with open(os.path.join(out, target, name), "wb") as f:
        if prefix is not None:
            f.write(bytes([prefix]))
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def streams(out, raw):
    images, labels = read(os.path.join(raw, "images.idx")), read(os.path.join(raw, "labels.idx"))
    # IDX files gzip-compressed, as MNIST is distributed (fuzz_idx: first byte 0 images, 1 labels)
    put(out, "idx", "images.gz", gzip.compress(images, 9, mtime=0), 0)
    put(out, "idx", "labels.gz", gzip.compress(labels, 9, mtime=0), 1)
    put(out, "idx", "images-two-members.gz", gzip.compress(images[:400], 1, mtime=0) + gzip.compress(images[400:], 6, mtime=0), 0)
    # fuzz_train: images then labels, after the images' length (4 bytes, little-endian); plain,
    # gzip, and labels that do not match
    for name, im, lb in (("plain", images, labels), ("gzip", gzip.compress(images, 9, mtime=0), gzip.compress(labels, 9, mtime=0)),
                         ("one-label-short", images, labels[:8] + labels[9:])):
        put(out, "train", name, struct.pack("<I", len(im)) + im + lb)
    # fuzz_inflate: first byte 0 raw DEFLATE, 1 zlib, 2 gzip
    text = b"the quick brown fox jumps over the lazy dog " * 20
    for level in (0, 1, 9):
        c = zlib.compressobj(level, zlib.DEFLATED, -15)
        put(out, "inflate", f"raw-{level}", c.compress(images) + c.flush(), 0)
        put(out, "inflate", f"zlib-{level}", zlib.compress(text, level), 1)
    put(out, "inflate", "gzip", gzip.compress(labels + text, 9, mtime=0), 2)
    # a gzip member with a name, a comment, an extra field and a header CRC
    header = b"\x1f\x8b\x08\x1e" + b"\0\0\0\0\0\x03" + struct.pack("<H", 4) + b"abcd" + b"name\0" + b"comment\0"
    header += struct.pack("<H", zlib.crc32(header) & 0xFFFF)
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    body = c.compress(text) + c.flush()
    put(out, "inflate", "gzip-header-fields", header + body + struct.pack("<II", zlib.crc32(text), len(text)), 2)


def archives(out, raw, scratch):
    subprocess.run(["/usr/bin/python3", os.path.join(FIXTURES, "make_state_dict.py"), scratch, "--no-torch"],
                   check=True, stdout=subprocess.DEVNULL)
    for name in sorted(os.listdir(scratch)):
        if not name.endswith(".state_dict"):
            continue
        data = read(os.path.join(scratch, name))
        put(out, "zip", name, data)
        try:
            z = zipfile.ZipFile(os.path.join(scratch, name))
            pkl = next(n for n in z.namelist() if n.endswith("/data.pkl"))
            pickle = z.read(pkl)
            top = pkl[: -len("/data.pkl")]
            storages = []
            while f"{top}/data/{len(storages)}" in z.namelist():
                storages.append(z.read(f"{top}/data/{len(storages)}"))
        except (zipfile.BadZipFile, StopIteration, zlib.error, NotImplementedError):
            continue
        put(out, "pickle", name.replace(".state_dict", ".pkl"), pickle)
        # fuzz_state_dict: u16 pickle length, pickle, then u16 length + bytes per storage
        if len(pickle) < 65536 and all(len(s) < 65536 for s in storages):
            put(out, "state_dict", name.replace(".state_dict", ""),
                b"".join(struct.pack("<H", len(p)) + p for p in [pickle] + storages))
    # The tiny FC model of make_seeds as a state_dict, for fuzz_c_api (PyTorch shapes).
    shapes = {"fc1.weight": "2x784", "fc1.bias": "2", "fc2.weight": "10x2", "fc2.bias": "10"}
    fc = os.path.join(scratch, "fc.state_dict")
    subprocess.run(["/usr/bin/python3", os.path.join(FIXTURES, "make_named_state_dict.py"), fc] +
                   [f"{n}={s}={os.path.join(raw, n + '.f32')}" for n, s in shapes.items()], check=True)
    put(out, "c_api", "fc.state_dict", read(fc))


def main():
    if len(sys.argv) != 4:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    tool, data_dir, out = sys.argv[1:]
    os.makedirs(out, exist_ok=True)
    subprocess.run([tool, data_dir, out], check=True)
    raw = os.path.join(out, "_raw")
    with tempfile.TemporaryDirectory() as scratch:
        streams(out, raw)
        archives(out, raw, scratch)
    shutil.rmtree(raw)
    return 0


if __name__ == "__main__":
    sys.exit(main())
