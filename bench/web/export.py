#!/usr/bin/env python3
"""The browser benchmark's peer models: our GGUF files' weights in PyTorch (the networks of
tools/train_fc.py and tools/train_cnn.py), exported to ONNX for ONNX Runtime Web, written raw
for TensorFlow.js, and PyTorch's own predictions on the first test digits (every library's
argmax is checked against them).
usage: export.py OUT_DIR MNIST_DIR MODEL.gguf...   (runs under Debian's python3-torch)"""
import json
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))
from train_cnn import MnistCnn  # noqa: E402
from train_fc import MnistFc, read_idx  # noqa: E402

CHECKED = 100  # test digits whose argmax every library must match


def read_gguf(path):
    """{name: float32 array} of a GGUF v3 file, shapes in PyTorch's order (ggml's ne reversed)."""
    b = open(path, "rb").read()
    magic, version, n_tensors, n_kv = struct.unpack_from("<4sIQQ", b, 0)
    assert magic == b"GGUF" and version == 3, f"{path}: not a GGUF v3 file"
    scalar = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
    o, align = 24, 32

    def string(o):
        n, = struct.unpack_from("<Q", b, o)
        return b[o + 8:o + 8 + n].decode(), o + 8 + n

    def skip(o, t):
        if t == 8:
            return string(o)[1]
        if t == 9:
            et, n = struct.unpack_from("<IQ", b, o)
            o += 12
            for _ in range(n):
                o = skip(o, et)
            return o
        return o + scalar[t]

    for _ in range(n_kv):
        key, o = string(o)
        t, = struct.unpack_from("<I", b, o)
        if key == "general.alignment":
            align, = struct.unpack_from("<I", b, o + 4)
        o = skip(o + 4, t)
    infos = []
    for _ in range(n_tensors):
        name, o = string(o)
        nd, = struct.unpack_from("<I", b, o)
        ne = struct.unpack_from(f"<{nd}Q", b, o + 4)
        typ, off = struct.unpack_from("<IQ", b, o + 4 + 8 * nd)
        assert typ == 0, f"{path}: {name} is not f32"
        o += 4 + 8 * nd + 12
        infos.append((name, ne, off))
    start = (o + align - 1) // align * align
    return {name: np.frombuffer(b, np.float32, int(np.prod(ne)), start + off).reshape(ne[::-1]).copy()
            for name, ne, off in infos}


def torch_model(t):
    """The PyTorch network holding these tensors, in eval mode, ending in a softmax."""
    if "fc1.weight" in t:
        net = MnistFc(t["fc1.weight"].shape[1], t["fc1.weight"].shape[0], t["fc2.weight"].shape[0])
        state = {k: t[k] for k in ("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias")}
    else:
        c1, c2, flat = t["conv1.kernel"].shape[0], t["conv2.kernel"].shape[0], t["dense.weight"].shape[1]
        padding = next(p for p in (0, 1) if (((28 + 2 * p - 2) // 2 + 2 * p - 2) // 2) ** 2 * c2 == flat)
        net = MnistCnn((c1, c2), padding, 0.0, n_classes=t["dense.weight"].shape[0])
        state = {"conv1.weight": t["conv1.kernel"], "conv1.bias": t["conv1.bias"].reshape(-1),
                 "conv2.weight": t["conv2.kernel"], "conv2.bias": t["conv2.bias"].reshape(-1),
                 "dense.weight": t["dense.weight"], "dense.bias": t["dense.bias"]}
    net.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    return torch.nn.Sequential(net, torch.nn.Softmax(dim=1)).eval(), "fc1.weight" in t


def main(out, data, models):
    os.makedirs(out, exist_ok=True)
    x = torch.from_numpy(read_idx(os.path.join(data, "t10k-images-idx3-ubyte"))[:CHECKED].astype(np.float32) / 255.0)
    labels = read_idx(os.path.join(data, "t10k-labels-idx1-ubyte"))[:CHECKED]
    manifest = {}
    for path in models:
        stem = os.path.basename(path)[:-len(".gguf")]
        tensors = read_gguf(path)
        net, is_fc = torch_model(tensors)
        example = x.reshape(-1, 784) if is_fc else x.reshape(-1, 1, 28, 28)
        torch.onnx.export(net, example, os.path.join(out, f"{stem}.onnx"), input_names=["x"], output_names=["probs"],
                          dynamic_axes={"x": {0: "batch"}, "probs": {0: "batch"}}, opset_version=13)
        # TensorFlow.js: dense weights transposed to [in, out] (its wasm backend's fused matMul
        # with transposeB gave wrong products here), conv
        # kernels in its [kh, kw, in, out] order.
        weights, offset, blob = [], 0, bytearray()
        for name, a in tensors.items():
            if a.ndim == 4:
                a = a.transpose(2, 3, 1, 0)
            elif a.ndim == 2:
                a = a.T
            a = np.ascontiguousarray(a.reshape(-1) if "bias" in name else a)
            weights.append({"name": name, "shape": list(a.shape), "offset": offset})
            blob += a.tobytes()
            offset += a.size
        open(os.path.join(out, f"{stem}.weights.bin"), "wb").write(bytes(blob))
        with torch.no_grad():
            argmax = net(example).argmax(1).tolist()
        manifest[stem] = {"arch": "mnist-fc" if is_fc else "mnist-cnn", "onnx": f"{stem}.onnx",
                          "weights": f"{stem}.weights.bin", "tensors": weights, "torch_argmax": argmax}
        print(f"export: {stem}: ONNX and weights written; PyTorch {torch.__version__} reads "
              f"{sum(int(a == b) for a, b in zip(argmax, labels))} of the first {CHECKED} test digits right")
    json.dump(manifest, open(os.path.join(out, "models.json"), "w"), indent=1)


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
