#!/usr/bin/env python3
"""Train the seeds' convolutional network in PyTorch and save its state_dict.

The network and recipe are the seeds' (a Keras example): conv 3x3x32 valid + relu, max pool 2,
conv 3x3x64 valid + relu, max pool 2, flatten, dropout 0.5, dense 10; Adam (lr 1e-3), batch 128,
15 epochs, the last 10% of the training images held out for validation; like `mnist train`, it
moves each training image by a random shift of up to one pixel (--augment 0 turns that off). Layers are named as in
our GGUF files (conv1, conv2, dense) and the flatten is channels-last (channel fastest, as in
Keras and ggml), so `mnist convert OUT.state_dict OUT.gguf` needs no weight shuffling.
Runs under Debian's python3-torch: /usr/bin/python3 tools/train_cnn.py --help
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from train_fc import read_idx, save_state_dict  # noqa: E402


PRESETS = {  # as `mnist train mnist-cnn --preset NAME`
    "seeds": dict(channels=(32, 64), padding=0, dropout=0.5),
    "ggml": dict(channels=(8, 16), padding=1, dropout=0.0),
}


class MnistCnn(nn.Module):
    def __init__(self, channels=(32, 64), padding=0, dropout=0.5, n_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, channels[0], 3, padding=padding)
        self.conv2 = nn.Conv2d(channels[0], channels[1], 3, padding=padding)
        self.dropout = nn.Dropout(dropout)
        side = ((28 + 2 * padding - 2) // 2 + 2 * padding - 2) // 2
        self.dense = nn.Linear(side * side * channels[1], n_classes)

    def forward(self, x):  # x: [B, 1, 28, 28]
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.permute(0, 2, 3, 1).flatten(1)  # channels-last flatten: index = c + C*(x + W*y)
        return self.dense(self.dropout(x))


def shift_batch(x, pixels, gen):
    """Each image moved by a random whole number of pixels in [-pixels, pixels], zero-filled
    (as `mnist train --augment`)."""
    if pixels == 0:
        return x
    n, side = x.shape[0], x.shape[-1]
    padded = F.pad(x, (pixels,) * 4)
    dx = torch.randint(0, 2 * pixels + 1, (n, 1, 1), generator=gen)
    dy = torch.randint(0, 2 * pixels + 1, (n, 1, 1), generator=gen)
    rows = torch.arange(side).view(1, side, 1) + dy
    cols = torch.arange(side).view(1, 1, side) + dx
    return padded[torch.arange(n).view(n, 1, 1), 0, rows, cols].unsqueeze(1)


def evaluate(model, x, y, batch=1000):
    model.eval()
    loss, correct = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            logits = model(x[i:i + batch])
            loss += F.cross_entropy(logits, y[i:i + batch], reduction="sum").item()
            correct += (logits.argmax(1) == y[i:i + batch]).sum().item()
    return loss / len(x), correct / len(x)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", help="state_dict file to write")
    p.add_argument("--data", default="data/mnist", help="folder with the four MNIST IDX files")
    p.add_argument("--preset", choices=sorted(PRESETS), default="seeds")
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--val-split", type=float, default=0.1)
    p.add_argument("--augment", type=int, default=None, help="random shifts of up to N pixels (default: seeds 1, ggml 0)")
    p.add_argument("--limit", type=int, default=0, help="use only the first N training images")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    args = p.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    load = lambda name: read_idx(os.path.join(args.data, name))
    images = load("train-images-idx3-ubyte")
    labels = load("train-labels-idx1-ubyte")
    if args.limit:
        images, labels = images[:args.limit], labels[:args.limit]
    x_all = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    y_all = torch.from_numpy(labels.astype(np.int64))
    n_train = len(x_all) - int(len(x_all) * args.val_split)
    x_train, y_train, x_val, y_val = x_all[:n_train], y_all[:n_train], x_all[n_train:], y_all[n_train:]
    x_test = torch.from_numpy(load("t10k-images-idx3-ubyte").astype(np.float32) / 255.0).unsqueeze(1)
    y_test = torch.from_numpy(load("t10k-labels-idx1-ubyte").astype(np.int64))

    model = MnistCnn(**PRESETS[args.preset])
    augment = args.augment if args.augment is not None else (1 if args.preset == "seeds" else 0)
    gen = torch.Generator().manual_seed(args.seed)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    start = time.time()
    for epoch in range(args.epochs):
        model.train()
        t0 = time.time()
        perm = torch.randperm(n_train)
        for i in range(0, n_train, args.batch):
            idx = perm[i:i + args.batch]
            opt.zero_grad()
            F.cross_entropy(model(shift_batch(x_train[idx], augment, gen)), y_train[idx]).backward()
            opt.step()
        val_loss, val_acc = evaluate(model, x_val, y_val) if len(x_val) else (0.0, 0.0)
        print(f"epoch {epoch + 1:2d}/{args.epochs}: val loss {val_loss:.4f}, val accuracy {100 * val_acc:.2f}% "
              f"({time.time() - t0:.1f} s)", flush=True)
    elapsed = time.time() - start
    test_loss, test_acc = evaluate(model, x_test, y_test)
    save_state_dict(model, args.out)
    print(f"trained in {elapsed:.1f} s; test accuracy {100 * test_acc:.2f}%, loss {test_loss:.4f}; saved {args.out}")


if __name__ == "__main__":
    main()
