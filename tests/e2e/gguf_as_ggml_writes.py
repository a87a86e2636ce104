#!/usr/bin/env python3
"""Test helper: rewrites a GGUF file the way ggml's own mnist tools write theirs: the same
tensors, and no metadata but general.architecture. A small independent GGUF v3 reader/writer
(struct only), so the test does not trust our own writer.
usage: gguf_as_ggml_writes.py IN.gguf OUT.gguf"""
import struct
import sys

SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
TYPE_BYTES = {0: 4, 1: 2}  # f32, f16 (all our test files hold)


def read_string(b, o):
    n, = struct.unpack_from("<Q", b, o)
    return b[o + 8:o + 8 + n].decode(), o + 8 + n


def skip_value(b, o, t):
    if t == 8:
        return read_string(b, o)[1]
    if t == 9:
        et, n = struct.unpack_from("<IQ", b, o)
        o += 12
        for _ in range(n):
            o = skip_value(b, o, et)
        return o
    return o + SIZES[t]


def main(src, dst):
    b = open(src, "rb").read()
    magic, version, n_tensors, n_kv = struct.unpack_from("<4sIQQ", b, 0)
    assert magic == b"GGUF" and version == 3
    o, arch, align = 24, None, 32
    for _ in range(n_kv):
        key, o = read_string(b, o)
        t, = struct.unpack_from("<I", b, o)
        o += 4
        if key == "general.architecture":
            arch, _ = read_string(b, o)
        if key == "general.alignment":
            align, = struct.unpack_from("<I", b, o)
        o = skip_value(b, o, t)
    infos = []
    for _ in range(n_tensors):
        name, o = read_string(b, o)
        nd, = struct.unpack_from("<I", b, o)
        dims = struct.unpack_from("<%dQ" % nd, b, o + 4)
        typ, off = struct.unpack_from("<IQ", b, o + 4 + 8 * nd)
        o += 4 + 8 * nd + 12
        infos.append((name, dims, typ, off))
    data_start = (o + align - 1) // align * align
    out = bytearray(struct.pack("<4sIQQ", b"GGUF", 3, n_tensors, 1))
    key = b"general.architecture"
    out += struct.pack("<Q", len(key)) + key + struct.pack("<I", 8) + struct.pack("<Q", len(arch)) + arch.encode()
    blobs, offset = [], 0
    for name, dims, typ, off in infos:
        n = TYPE_BYTES[typ]
        for d in dims:
            n *= d
        out += struct.pack("<Q", len(name)) + name.encode() + struct.pack("<I", len(dims))
        out += struct.pack("<%dQ" % len(dims), *dims) + struct.pack("<IQ", typ, offset)
        blobs.append(b[data_start + off:data_start + off + n])
        offset += (n + 31) // 32 * 32
    out += b"\0" * ((-len(out)) % 32)
    for blob in blobs:
        out += blob + b"\0" * ((-len(blob)) % 32)
    open(dst, "wb").write(out)


if __name__ == "__main__":
    main(*sys.argv[1:3])
