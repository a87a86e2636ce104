#!/usr/bin/env python3
"""Train the seeds' fully connected network (784-500-10) in PyTorch and save its state_dict.

The recipe is the seeds': Adam, learning rate 1e-3, batch 1000, 30 epochs, images scaled to
[0, 1]. `mnist convert OUT.state_dict OUT.gguf` then turns the result into our model file.
Runs under Debian's python3-torch: /usr/bin/python3 tools/train_fc.py --help
"""
import argparse
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(path):
    """An IDX file as a numpy uint8 array (images: N x rows x cols, labels: N)."""
    import gzip
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    magic, = struct.unpack(">I", raw[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        sys.exit(f"error: {path}: size does not match the header")
    return data.reshape(dims)


def save_state_dict(model, path):
    """torch.save to a temporary name, then rename: a crash never leaves half a file."""
    tmp = path + ".tmp"
    torch.save(model.state_dict(), tmp)
    os.replace(tmp, path)


class MnistFc(nn.Module):
    def __init__(self, n_input=784, n_hidden=500, n_classes=10):
        super().__init__()
        self.fc1 = nn.Linear(n_input, n_hidden)
        self.fc2 = nn.Linear(n_hidden, n_classes)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


def evaluate(model, x, y):
    model.eval()
    with torch.no_grad():
        logits = model(x)
        loss = F.cross_entropy(logits, y).item()
        acc = (logits.argmax(1) == y).float().mean().item()
    return loss, acc


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", help="state_dict file to write")
    p.add_argument("--data", default="data/mnist", help="folder with the four MNIST IDX files")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    args = p.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    load = lambda name: read_idx(os.path.join(args.data, name))
    x_train = torch.from_numpy(load("train-images-idx3-ubyte").reshape(-1, 784).astype(np.float32) / 255.0)
    y_train = torch.from_numpy(load("train-labels-idx1-ubyte").astype(np.int64))
    x_test = torch.from_numpy(load("t10k-images-idx3-ubyte").reshape(-1, 784).astype(np.float32) / 255.0)
    y_test = torch.from_numpy(load("t10k-labels-idx1-ubyte").astype(np.int64))

    model = MnistFc()
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    start = time.time()
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(x_train))
        for i in range(0, len(x_train), args.batch):
            idx = perm[i:i + args.batch]
            opt.zero_grad()
            loss = F.cross_entropy(model(x_train[idx]), y_train[idx])
            loss.backward()
            opt.step()
        test_loss, test_acc = evaluate(model, x_test, y_test)
        print(f"epoch {epoch + 1:2d}/{args.epochs}: train loss {loss.item():.4f}, "
              f"test loss {test_loss:.4f}, test accuracy {100 * test_acc:.2f}%", flush=True)
    elapsed = time.time() - start
    test_loss, test_acc = evaluate(model, x_test, y_test)
    save_state_dict(model, args.out)
    print(f"trained in {elapsed:.1f} s; test accuracy {100 * test_acc:.2f}%, loss {test_loss:.4f}; saved {args.out}")


if __name__ == "__main__":
    main()
