#!/usr/bin/env python3
"""PyTorch side of bench/compare.py: evaluates the same GGUF weights as mnist.cpp.

usage: torch_jobs.py eval MODEL.gguf DATA_DIR --batch B --threads T [--passes P]
           -> "first_ms=<first pass> steady_ms=<median of P passes after it> acc=<percent>"
       torch_jobs.py latency MODEL.gguf DATA_DIR --threads T [--images N]
           -> "us=<per image, median of 5 blocks of N images after a warm-up block>"
       torch_jobs.py blas
           -> "torch=<version> blas=<library file> kind=<openblas|reference|mkl|other> core=<OpenBLAS kernel>
              threads=<OpenBLAS's threading: openmp|pthreads|none>"
Reads GGUF v3 with a few lines of struct (f32 tensors), builds the network the file describes
(mnist-fc, or mnist-cnn with its channels and padding) and runs it under torch.no_grad().
"""
import argparse
import ctypes
import os
import statistics
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


class _DlInfo(ctypes.Structure):
    _fields_ = [("dli_fname", ctypes.c_char_p), ("dli_fbase", ctypes.c_void_p), ("dli_sname", ctypes.c_char_p),
                ("dli_saddr", ctypes.c_void_p)]


def blas_in_use():
    """The library PyTorch's matrix products run in: the one its sgemm_ resolves to in this process
    (Debian's PyTorch calls the BLAS through libblas.so.3, which the alternatives system points at
    OpenBLAS or at the reference BLAS), and for OpenBLAS the kernel it chose for this CPU."""
    a = torch.randn(64, 64)
    (a @ a).sum().item()  # the BLAS is loaded and initialised
    torch_lib = next(line.split()[-1] for line in open("/proc/self/maps") if "libtorch_cpu" in line)
    handle = ctypes.CDLL(torch_lib, mode=4 | os.RTLD_GLOBAL)  # RTLD_NOLOAD: the copy already loaded
    info = _DlInfo()
    libc = ctypes.CDLL(None)
    libc.dladdr.argtypes = [ctypes.c_void_p, ctypes.POINTER(_DlInfo)]
    libc.dladdr(ctypes.cast(handle.sgemm_, ctypes.c_void_p), ctypes.byref(info))
    path = os.path.realpath(info.dli_fname.decode())
    kind, core, threads = "other", "-", "-"
    try:
        lib = ctypes.CDLL(path)
        lib.openblas_get_corename.restype = ctypes.c_char_p
        kind, core = "openblas", lib.openblas_get_corename().decode()
        # how the build threads (its pthread build starts threads of its own beside PyTorch's)
        threads = {0: "none", 1: "pthreads", 2: "openmp"}.get(lib.openblas_get_parallel(), "?")
    except AttributeError:
        if "/blas/" in path:
            kind = "reference"  # Debian's netlib libblas3
        elif "mkl" in path:
            kind = "mkl"
    return f"torch={torch.__version__} blas={path} kind={kind} core={core} threads={threads}"


def fastest_backend(timed):
    """Leaves on whichever of PyTorch's convolution paths is faster here, oneDNN (mkldnn) or its
    own (im2col + BLAS): neither wins everywhere (with one input channel, as in every MNIST CNN's
    first layer, its own path was 5x faster at batch 500 on this project's machine). Returns 'on'
    or 'off'. No effect on the FC network, which has no convolution."""
    times = {}
    for on in (True, False):
        torch.backends.mkldnn.enabled = on
        timed()  # the first call on a path sets it up
        times[on] = min(timed() for _ in range(2))
    torch.backends.mkldnn.enabled = min(times, key=times.get)
    return "on" if torch.backends.mkldnn.enabled else "off"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("job", choices=["eval", "latency", "blas"])
    p.add_argument("model", nargs="?")
    p.add_argument("data", nargs="?")
    p.add_argument("--batch", type=int, default=500)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--images", type=int, default=2000)
    p.add_argument("--passes", type=int, default=5, help="eval: timed passes after the first")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    if a.job == "blas":
        print(blas_in_use())
        return
    meta, t = read_gguf(a.model)
    f = build(meta, t)
    images = np.array(read_idx(os.path.join(a.data, "t10k-images-idx3-ubyte")))  # writable
    labels = torch.from_numpy(read_idx(os.path.join(a.data, "t10k-labels-idx1-ubyte")).astype(np.int64))
    with torch.no_grad():
        if a.job == "eval":
            def one_pass():
                start = time.perf_counter()
                correct = 0
                for i in range(0, len(images), a.batch):
                    # uint8 -> float per batch, as mnist.cpp does
                    x = torch.from_numpy(images[i:i + a.batch].reshape(-1, 784)).float().div_(255.0)
                    correct += (f(x).argmax(1) == labels[i:i + a.batch]).sum().item()
                return 1000 * (time.perf_counter() - start), correct
            first, correct = one_pass()  # pays PyTorch's one-time start-up costs
            mkldnn = fastest_backend(lambda: one_pass()[0])
            steady = statistics.median(one_pass()[0] for _ in range(a.passes))
            print(f"first_ms={first:.2f} steady_ms={steady:.2f} acc={100 * correct / len(images):.2f} mkldnn={mkldnn}")
        else:
            x_all = torch.from_numpy(images[:a.images].reshape(-1, 784)).float().div_(255.0)

            def block():
                start = time.perf_counter()
                for i in range(a.images):
                    f(x_all[i:i + 1]).argmax(1)
                return 1e6 * (time.perf_counter() - start) / a.images
            block()  # warm-up
            mkldnn = fastest_backend(block)
            print(f"us={statistics.median(block() for _ in range(5)):.2f} mkldnn={mkldnn}")


if __name__ == "__main__":
    main()
