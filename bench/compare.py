#!/usr/bin/env python3
"""Whole jobs, mnist.cpp against PyTorch on the same machine, same threads, same recipe.

Runs each job for both, alternating, --runs times, and prints a Markdown table of medians with
the ratio (PyTorch time / mnist.cpp time) and the issue's target. Needs a Release build
(scripts/build.sh), the data (scripts/fetch_data.sh) and Debian's python3-torch; run it with
/usr/bin/python3. Training jobs take minutes each: pick jobs with --jobs.

  /usr/bin/python3 bench/compare.py                      # everything, 3 runs of eval jobs, 1 of training
  /usr/bin/python3 bench/compare.py --jobs fc-eval,fc-latency --runs 5
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
PY = "/usr/bin/python3"


def run(cmd):
    """Runs cmd and returns its standard output; a failure stops the benchmark."""
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stdout}\n{p.stderr}")
    return p.stdout


def grab(pattern, text, what):
    m = re.search(pattern, text)
    if not m:
        sys.exit(f"could not find {what} in:\n{text}")
    return float(m.group(1))


class Env:
    def __init__(self, a):
        self.a = a
        self.bin = os.path.join(ROOT, "build", "mnist")
        self.data = os.path.join(ROOT, "data", "mnist")
        self.tmp = tempfile.mkdtemp(prefix="mnist-bench.")
        self.t = str(a.threads)
        self.images = os.path.join(self.data, "t10k-images-idx3-ubyte")
        self.labels = os.path.join(self.data, "t10k-labels-idx1-ubyte")
        self.small_cnn = None

    def ours_eval(self, model, batch):
        out = run([self.bin, "eval", model, self.images, self.labels, "--batch", str(batch), "--threads", self.t,
                         "--index", "0"])
        return grab(r"evaluated [0-9]+ images in ([0-9.]+) ms", out, "eval time"), grab(r"accuracy: ([0-9.]+)%", out, "accuracy"), out

    def torch_eval(self, model, batch):
        out = run([PY, os.path.join(ROOT, "bench", "torch_jobs.py"), "eval", model, self.data, "--batch", str(batch),
                         "--threads", self.t])
        return grab(r"ms=([0-9.]+)", out, "ms"), grab(r"acc=([0-9.]+)", out, "acc")

    def ours_latency(self, model):
        out = run([self.bin, "eval", model, self.images, self.labels, "--batch", "1", "--threads", self.t, "--index", "0"])
        return grab(r"\(([0-9.]+) us/image", out, "latency")

    def torch_latency(self, model):
        out = run([PY, os.path.join(ROOT, "bench", "torch_jobs.py"), "latency", model, self.data, "--threads", self.t])
        return grab(r"us=([0-9.]+)", out, "us")

    def ours_train(self, args, name):
        out_file = os.path.join(self.tmp, name + ".gguf")
        out = run([self.bin, "train", *args, out_file, "--data", self.data, "--threads", self.t])
        return grab(r"trained in ([0-9.]+) s", out, "train time"), grab(r"test: accuracy ([0-9.]+)%", out, "accuracy"), out_file

    def torch_train(self, script, args):
        out_file = os.path.join(self.tmp, "torch.state_dict")
        out = run([PY, os.path.join(ROOT, "tools", script), out_file, "--data", self.data, "--threads", self.t, *args])
        return grab(r"trained in ([0-9.]+) s", out, "train time"), grab(r"trained in [0-9.]+ s; test accuracy ([0-9.]+)%", out, "accuracy")

    def peak_mb(self, model):
        p = subprocess.run(["/usr/bin/time", "-f", "%M", self.bin, "eval", model, self.images, self.labels, "--threads",
                            self.t, "--index", "0"], capture_output=True, text=True)
        return int(p.stderr.strip().splitlines()[-1]) / 1024.0


# job name -> (description, unit, target for mnist.cpp, runner)
def jobs(env, runs, train_runs):
    fc = os.path.join(ROOT, "models", "mnist-fc-f32.gguf")
    cnn = os.path.join(ROOT, "models", "mnist-cnn-f32.gguf")

    def alternate(n, ours, theirs):
        o, t = [], []
        for _ in range(n):
            o.append(ours())
            t.append(theirs() if theirs else None)
        return o, t

    def small_cnn_model():
        if not env.small_cnn:
            # an untimed, short run: eval speed does not depend on how well the weights are trained
            _, _, env.small_cnn = env.ours_train(["mnist-cnn", "--preset", "ggml", "--epochs", "3", "--batch", "500"], "small")
        return env.small_cnn

    return {
        "fc-eval": ("FC eval, 10,000 test images (batch 500)", "ms", 45,
                    lambda: alternate(runs, lambda: env.ours_eval(fc, 500)[:2], lambda: env.torch_eval(fc, 500))),
        "fc-latency": ("FC, one image (latency)", "µs", 10,
                       lambda: alternate(runs, lambda: (env.ours_latency(fc), None), lambda: (env.torch_latency(fc), None))),
        "fc-train": ("FC training, 30 epochs, batch 1000, Adam", "s", 20,
                     lambda: alternate(train_runs,
                                       lambda: env.ours_train(["mnist-fc", "--epochs", "30", "--batch", "1000", "--val-split", "0"], "fc")[:2],
                                       lambda: env.torch_train("train_fc.py", ["--epochs", "30", "--batch", "1000"]))),
        "cnn-small-eval": ("small CNN (ggml's 8/16 net) eval, 10,000 images", "ms", 60,
                           lambda: alternate(runs, lambda: env.ours_eval(small_cnn_model(), 500)[:2],
                                             lambda: env.torch_eval(small_cnn_model(), 500))),
        "cnn-small-train": ("small CNN training, 30 epochs, batch 1000", "s", 40,
                            lambda: alternate(train_runs,
                                              lambda: env.ours_train(["mnist-cnn", "--preset", "ggml", "--epochs", "30", "--batch", "1000", "--val-split", "0"], "small30")[:2],
                                              lambda: env.torch_train("train_cnn.py", ["--preset", "ggml", "--epochs", "30", "--batch", "1000", "--val-split", "0"]))),
        "cnn-eval": ("seeds' CNN (32/64, dropout) eval, 10,000 images", "ms", 400,
                     lambda: alternate(runs, lambda: env.ours_eval(cnn, 500)[:2], lambda: env.torch_eval(cnn, 500))),
        "cnn-latency": ("seeds' CNN, one image (latency)", "µs", 100,
                        lambda: alternate(runs, lambda: (env.ours_latency(cnn), None), lambda: (env.torch_latency(cnn), None))),
        "cnn-train": ("seeds' CNN training, 15 epochs, batch 128, Adam", "s", 117,
                      lambda: alternate(train_runs,
                                        lambda: env.ours_train(["mnist-cnn", "--epochs", "15", "--batch", "128"], "cnn")[:2],
                                        lambda: env.torch_train("train_cnn.py", ["--epochs", "15", "--batch", "128"]))),
        "fc-memory": ("peak memory, FC eval of the test set", "MB", 15,
                      lambda: alternate(runs, lambda: (env.peak_mb(fc), None), None)),
    }


def fmt(x, unit):
    if x is None:
        return "—"
    return f"{x:,.1f} {unit}" if x < 100 else f"{x:,.0f} {unit}"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=3, help="runs of each eval job (alternating)")
    p.add_argument("--train-runs", type=int, default=1, help="runs of each training job")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--jobs", default="", help="comma-separated subset of: " + ", ".join(jobs(None, 0, 0)))
    a = p.parse_args()
    env = Env(a)
    table = jobs(env, a.runs, a.train_runs)
    chosen = [j for j in (a.jobs.split(",") if a.jobs else table) if j]
    for j in chosen:
        if j not in table:
            sys.exit(f"unknown job {j}")
    rows = []
    for j in chosen:
        desc, unit, target, runner = table[j]
        print(f"running {j} ...", file=sys.stderr, flush=True)
        ours, theirs = runner()
        o = statistics.median(r[0] for r in ours)
        o_acc = ours[0][1]
        t = statistics.median(r[0] for r in theirs) if theirs and theirs[0] else None
        t_acc = theirs[0][1] if theirs and theirs[0] else None
        ratio = f"{t / o:.1f}x" if t else "—"
        met = "yes" if o <= target else "**no**"
        acc = lambda x: f" ({x:.2f}%)" if x is not None else ""
        rows.append(f"| {desc} | {fmt(o, unit)}{acc(o_acc)} | {fmt(t, unit)}{acc(t_acc)} | {ratio} | ≤ {target} {unit} | {met} |")
    print(f"\n{len(rows)} jobs, {a.threads} threads, medians of {a.runs} runs (training: {a.train_runs}); "
          f"ratio = PyTorch time / mnist.cpp time\n")
    print("| job | mnist.cpp | PyTorch | ratio | target | met |")
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
