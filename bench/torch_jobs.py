#!/usr/bin/env python3
"""PyTorch side of bench/compare.py: evaluates the same GGUF weights as mnist.cpp.

usage: torch_jobs.py eval MODEL.gguf DATA_DIR --batch B --threads T     -> "ms=<total> acc=<percent>"
       torch_jobs.py latency MODEL.gguf DATA_DIR --threads T [--images N] -> "us=<per image>"
Reads GGUF v3 with a few lines of struct (f32 tensors), builds the network the file describes
(mnist-fc, or mnist-cnn with its channels and padding) and runs it under torch.no_grad().
"""
import argparse
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
from train_fc import read_idx  # noqa: E402

SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


def read_gguf(path):
    b = open(path, "rb").read()
    _, _, n_tensors, n_kv = struct.unpack_from("<4sIQQ", b, 0)
    o, meta = 24, {}

    def string(o):
        n, = struct.unpack_from("<Q", b, o)
        return b[o + 8:o + 8 + n].decode(), o + 8 + n

    def value(o, t):
        if t == 8:
            return string(o)
        if t == 9:
            et, n = struct.unpack_from("<IQ", b, o)
            o += 12
            items = []
            for _ in range(n):
                v, o = value(o, et)
                items.append(v)
            return items, o
        v, = struct.unpack_from(SCALAR[t], b, o)
        return v, o + struct.calcsize(SCALAR[t])

    for _ in range(n_kv):
        k, o = string(o)
        t, = struct.unpack_from("<I", b, o)
        meta[k], o = value(o + 4, t)
    infos = []
    for _ in range(n_tensors):
        name, o = string(o)
        nd, = struct.unpack_from("<I", b, o)
        dims = struct.unpack_from("<%dQ" % nd, b, o + 4)
        typ, off = struct.unpack_from("<IQ", b, o + 4 + 8 * nd)
        o += 4 + 8 * nd + 12
        assert typ == 0, "f32 tensors only"
        infos.append((name, dims, off))
    align = meta.get("general.alignment", 32)
    start = (o + align - 1) // align * align
    tensors = {}
    for name, dims, off in infos:
        n = int(np.prod(dims))
        arr = np.frombuffer(b, dtype=np.float32, count=n, offset=start + off)
        tensors[name] = torch.from_numpy(arr.reshape(tuple(reversed(dims))).copy())  # PyTorch order
    return meta, tensors


def build(meta, t):
    """A forward function of images [N, 784] in [0, 1] -> logits [N, 10]."""
    arch = meta["general.architecture"]
    if arch == "mnist-fc":
        return lambda x: F.linear(F.relu(F.linear(x, t["fc1.weight"], t["fc1.bias"])), t["fc2.weight"], t["fc2.bias"])
    pad = meta.get("mnist-cnn.padding")
    if pad is None:  # files without our keys: same padding iff the dense layer is 7*7*C wide
        pad = 1 if t["dense.weight"].shape[1] == 49 * t["conv2.kernel"].shape[0] else 0
    convs = []
    for i in range(1, 9):
        if f"conv{i}.kernel" not in t:
            break
        convs.append((t[f"conv{i}.kernel"], t[f"conv{i}.bias"].reshape(-1)))

    def forward(x):
        x = x.reshape(-1, 1, 28, 28)
        for k, bias in convs:
            x = F.max_pool2d(F.relu(F.conv2d(x, k, bias, padding=pad)), 2)
        x = x.permute(0, 2, 3, 1).flatten(1)  # channel fastest, as our files store dense.weight
        return F.linear(x, t["dense.weight"], t["dense.bias"])
    return forward


def main():
    p = argparse.ArgumentParser()
    p.add_argument("job", choices=["eval", "latency"])
    p.add_argument("model")
    p.add_argument("data")
    p.add_argument("--batch", type=int, default=500)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--images", type=int, default=2000)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    meta, t = read_gguf(a.model)
    f = build(meta, t)
    images = np.array(read_idx(os.path.join(a.data, "t10k-images-idx3-ubyte")))  # writable
    labels = torch.from_numpy(read_idx(os.path.join(a.data, "t10k-labels-idx1-ubyte")).astype(np.int64))
    with torch.no_grad():
        if a.job == "eval":
            start = time.perf_counter()
            correct = 0
            for i in range(0, len(images), a.batch):
                # uint8 -> float per batch, as mnist.cpp does
                x = torch.from_numpy(images[i:i + a.batch].reshape(-1, 784)).float().div_(255.0)
                correct += (f(x).argmax(1) == labels[i:i + a.batch]).sum().item()
            ms = 1000 * (time.perf_counter() - start)
            print(f"ms={ms:.2f} acc={100 * correct / len(images):.2f}")
        else:
            x_all = torch.from_numpy(images[:a.images].reshape(-1, 784)).float().div_(255.0)
            f(x_all[:1])  # warm up
            start = time.perf_counter()
            for i in range(a.images):
                f(x_all[i:i + 1]).argmax(1)
            print(f"us={1e6 * (time.perf_counter() - start) / a.images:.2f}")


if __name__ == "__main__":
    main()
