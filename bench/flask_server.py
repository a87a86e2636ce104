#!/usr/bin/python3
"""The Python peer of `mnist serve` in bench/serve_throughput.sh: the same GGUF weights in
PyTorch behind Flask, served the way a Python user would (Flask's own threaded server).

usage: flask_server.py [--port P] [--threads T] MODEL.gguf...      (--port 0: a free port)

--threads sets PyTorch's threads per request (default 1). Flask's server starts a thread per
request, and a new thread with PyTorch using 2 threads took ~17 ms to predict one image here
(0.2 ms on a thread that already ran one; 1.9 ms with 1 thread), so 1 is the Python peer's
best setting, not a handicap.

POST /api/predict[?model=NAME]: 784 raw bytes (28x28, 0 = background) or a PNG (decoded with
PIL, made gray and 28x28); answers {"digit", "probabilities", "model"} as mnist serve does.
GET /healthz. NAME is the file name without extension; the first model is the default.
"""
import argparse
import io
import os
import socket
import sys

import numpy as np
import torch
from flask import Flask, jsonify, request
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_jobs import build, read_gguf  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("models", nargs="+")
p.add_argument("--port", type=int, default=8081)
p.add_argument("--threads", type=int, default=1)
a = p.parse_args()
torch.set_num_threads(a.threads)
models = {}
for path in a.models:
    meta, tensors = read_gguf(path)
    models[os.path.splitext(os.path.basename(path))[0]] = build(meta, tensors)
default = os.path.splitext(os.path.basename(a.models[0]))[0]
app = Flask(__name__)


@app.get("/healthz")
def healthz():
    return jsonify(status="ok")


@app.post("/api/predict")
def predict():
    name = request.args.get("model", default)
    if name not in models:
        return jsonify(error=f"no model '{name}'"), 404
    body = request.get_data()
    if body.startswith(b"\x89PNG"):
        img = Image.open(io.BytesIO(body)).convert("L").resize((28, 28))
        pixels = np.asarray(img, dtype=np.uint8)
    elif len(body) == 784:
        pixels = np.frombuffer(body, dtype=np.uint8)
    else:
        return jsonify(error="expected 784 raw bytes or a PNG"), 400
    x = torch.from_numpy(pixels.reshape(1, 784).astype(np.float32) / 255.0)
    with torch.no_grad():
        probs = torch.softmax(models[name](x), dim=1)[0]
    return jsonify(digit=int(probs.argmax()), probabilities=probs.tolist(), model=name)


if __name__ == "__main__":
    port = a.port
    if port == 0:  # a free port, asked of the kernel
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    print(f"flask_server: listening on http://127.0.0.1:{port}/", flush=True)
    app.run(host="127.0.0.1", port=port, threaded=True)
