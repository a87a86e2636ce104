#!/usr/bin/env python3
"""Train mnist-cnn in PyTorch with the recipes of `mnist train mnist-cnn --preset NAME` and save
its state_dict.

seeds (default): the seeds' network and recipe (a Keras example): conv 3x3x32 valid + relu, max
pool 2, conv 3x3x64 valid + relu, max pool 2, flatten, dropout 0.5, dense 10; Adam (lr 1e-3),
batch 128, 15 epochs, the last 10% of the training images held out for validation; like `mnist
train`, it moves each training image by a random shift of up to one pixel (--augment 0 turns
that off). ggml: ggml's 8/16 net, 30 epochs of 500. fast: convolutions of 8 and 32 channels with batch
normalisation instead of biases and dropout, 2 epochs of 128 with a one-cycle rate (peak 2.5e-2),
label smoothing 0.1 and shifts of one pixel. Layers are named as in our GGUF files (conv1,
conv2, dense; conv1.conv, conv1.bn with batch norm) and the flatten is channels-last (channel
fastest, as in Keras and ggml), so `mnist convert OUT.state_dict OUT.gguf` needs no weight
shuffling.
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


PRESETS = {  # as `mnist train mnist-cnn --preset NAME`, with the recipe's defaults
    "seeds": dict(net=dict(channels=(32, 64), padding=0, dropout=0.5), epochs=15, batch=128, lr=1e-3, val_split=0.1,
                  augment=1, schedule="none", warmup=0.0, label_smoothing=0.0),
    "ggml": dict(net=dict(channels=(8, 16), padding=1, dropout=0.0), epochs=30, batch=500, lr=1e-3, val_split=0.05,
                 augment=0, schedule="none", warmup=0.0, label_smoothing=0.0),
    "fast": dict(net=dict(channels=(8, 32), padding=0, dropout=0.0, batch_norm=True), epochs=2, batch=128, lr=2.5e-2,
                 val_split=0.0, augment=1, schedule="onecycle", warmup=0.2, label_smoothing=0.1),
}


class ConvBn(nn.Module):
    """conv (no bias) + batch norm, named as our files: convN.conv.weight, convN.bn.*"""

    def __init__(self, cin, cout, padding):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return self.bn(self.conv(x))


class MnistCnn(nn.Module):
    def __init__(self, channels=(32, 64), padding=0, dropout=0.5, batch_norm=False, n_classes=10):
        super().__init__()
        layer = (lambda i, o: ConvBn(i, o, padding)) if batch_norm else (lambda i, o: nn.Conv2d(i, o, 3, padding=padding))
        self.conv1 = layer(1, channels[0])
        self.conv2 = layer(channels[0], channels[1])
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
    p.add_argument("--epochs", type=int, help="default: the preset's (seeds 15, ggml 30, fast 2)")
    p.add_argument("--batch", type=int, help="default: the preset's (seeds 128, ggml 500, fast 128)")
    p.add_argument("--lr", type=float, help="default: the preset's (1e-3; fast: the peak, 2.5e-2)")
    p.add_argument("--val-split", type=float, help="default: the preset's (seeds 0.1, ggml 0.05, fast 0)")
    p.add_argument("--augment", type=int, help="random shifts of up to N pixels (default: seeds 1, ggml 0, fast 1)")
    p.add_argument("--schedule", choices=["none", "onecycle"], help="default: the preset's (fast: onecycle)")
    p.add_argument("--warmup", type=float, help="onecycle: the share of steps the rate rises over (fast: 0.2)")
    p.add_argument("--label-smoothing", type=float, help="default: the preset's (fast: 0.1)")
    p.add_argument("--limit", type=int, default=0, help="use only the first N training images")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    args = p.parse_args()
    preset = PRESETS[args.preset]
    for key in ("epochs", "batch", "lr", "val_split", "augment", "schedule", "warmup", "label_smoothing"):
        if getattr(args, key) is None:
            setattr(args, key, preset[key])

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

    model = MnistCnn(**preset["net"])
    augment = args.augment
    gen = torch.Generator().manual_seed(args.seed)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    steps = args.epochs * ((n_train + args.batch - 1) // args.batch)
    sched = (torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=steps, pct_start=args.warmup,
                                                 div_factor=25, final_div_factor=1e4, cycle_momentum=False)
             if args.schedule == "onecycle" else None)
    start = time.time()
    for epoch in range(args.epochs):
        model.train()
        t0 = time.time()
        perm = torch.randperm(n_train)
        for i in range(0, n_train, args.batch):
            idx = perm[i:i + args.batch]
            opt.zero_grad()
            F.cross_entropy(model(shift_batch(x_train[idx], augment, gen)), y_train[idx],
                            label_smoothing=args.label_smoothing).backward()
            opt.step()
            if sched:
                sched.step()
        if len(x_val):
            val_loss, val_acc = evaluate(model, x_val, y_val)
            val = f"val loss {val_loss:.4f}, val accuracy {100 * val_acc:.2f}%"
        else:
            val = "no validation set"
        print(f"epoch {epoch + 1:2d}/{args.epochs}: {val} ({time.time() - t0:.1f} s)", flush=True)
    elapsed = time.time() - start
    test_loss, test_acc = evaluate(model, x_test, y_test)
    save_state_dict(model, args.out)
    print(f"trained in {elapsed:.1f} s; test accuracy {100 * test_acc:.2f}%, loss {test_loss:.4f}; saved {args.out}")


if __name__ == "__main__":
    main()
