#!/usr/bin/env python3
"""Test helper: trains a small mnist-fc in PyTorch (1 epoch on 6,000 images, seeded), saves its
state_dict, and writes PyTorch's own prediction for each of the 10,000 test images, one per line.
usage: torch_fc_reference.py DATA_DIR OUT.state_dict OUT.predictions"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from train_fc import MnistFc, read_idx  # noqa: E402

data, out_model, out_pred = sys.argv[1:4]
torch.manual_seed(0)
torch.set_num_threads(1)
x = torch.from_numpy(read_idx(f"{data}/train-images-idx3-ubyte")[:6000].reshape(-1, 784) / 255.0).float()
y = torch.from_numpy(read_idx(f"{data}/train-labels-idx1-ubyte")[:6000].astype("int64"))
model = MnistFc()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
for i in range(0, 6000, 100):
    opt.zero_grad()
    F.cross_entropy(model(x[i:i + 100]), y[i:i + 100]).backward()
    opt.step()
torch.save(model.state_dict(), out_model)
x_test = torch.from_numpy(read_idx(f"{data}/t10k-images-idx3-ubyte").reshape(-1, 784) / 255.0).float()
with torch.no_grad():
    pred = model(x_test).argmax(1)
with open(out_pred, "w") as f:
    f.write("".join(f"{int(p)}\n" for p in pred))
