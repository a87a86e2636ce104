#!/usr/bin/env python3
"""Whole jobs, mnist.cpp against PyTorch (and ggml's own MNIST tools) on the same machine, same
threads, same recipe, with every peer at its best.

Each job runs for every side, alternating, --runs times; the table gives medians and ratios
(peer time / mnist.cpp time). Two kinds of time:
  steady   the work itself, measured inside the process after warm-up: for eval jobs the median
           of --passes passes over the test set after a first pass (both sides), for latency
           the median per image after a warm-up, for training the trainer's own time (data
           loading excluded);
  process  the whole process from start to exit, as a user waits for it (start-up, imports,
           reading the model and the data included).
PyTorch's process runs with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (so OpenBLAS picks its
kernel for this CPU) and on OpenBLAS's OpenMP build (bench/machine.py), and the table says which
BLAS, kernel and threading it used. Against anything less (the reference BLAS, OpenBLAS's pthread
build) no ratio is printed: install libopenblas0-openmp (bench/run.sh and scripts/install_deps.sh do).

Needs a Release build (scripts/build.sh), the data (scripts/fetch_data.sh) and Debian's
python3-torch; run it with /usr/bin/python3. Training jobs take minutes each: pick jobs with --jobs.

  /usr/bin/python3 bench/compare.py                         # everything: 5 runs of eval jobs, 1 of training
  /usr/bin/python3 bench/compare.py --jobs fc-eval,fc-latency --runs 3
  /usr/bin/python3 bench/compare.py --ggml-bin ~/ggml/build/bin   # adds ggml's mnist-eval / mnist-train
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import machine  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
PY = "/usr/bin/python3"


def run(cmd, env=None):
    """Runs cmd; returns (standard output, wall seconds). A failure stops the benchmark."""
    start = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stdout}\n{p.stderr}")
    return p.stdout + p.stderr, wall


def grab(pattern, text, what):
    m = re.search(pattern, text)
    if not m:
        sys.exit(f"could not find {what} in:\n{text}")
    return float(m.group(1))


class Result:
    """One run of a job by one side: steady time, whole-process time, accuracy (or None)."""

    def __init__(self, steady, process, acc=None):
        self.steady, self.process, self.acc = steady, process, acc


class Sides:
    def __init__(self, a):
        self.a = a
        self.bin = a.mnist_bin
        self.data = os.path.join(ROOT, "data", "mnist")
        self.tmp = tempfile.mkdtemp(prefix="mnist-bench.")
        self.t = str(a.threads)
        self.images = os.path.join(self.data, "t10k-images-idx3-ubyte")
        self.labels = os.path.join(self.data, "t10k-labels-idx1-ubyte")
        self.train_images = os.path.join(self.data, "train-images-idx3-ubyte")
        self.train_labels = os.path.join(self.data, "train-labels-idx1-ubyte")
        self.peer = machine.peer_env()
        self.ggml = a.ggml_bin
        self.small_cnn = None

    # ---- mnist.cpp
    def ours_eval(self, model, batch):
        out, wall = run([self.bin, "eval", model, self.images, self.labels, "--batch", str(batch), "--threads", self.t,
                         "--index", "0", "--repeat", str(self.a.passes)])
        return Result(grab(r"steady: median ([0-9.]+) ms", out, "steady eval time"), wall,
                      grab(r"accuracy: ([0-9.]+)%", out, "accuracy"))

    def ours_latency(self, model):
        out, wall = run([self.bin, "eval", model, self.images, self.labels, "--batch", "1", "--threads", self.t,
                         "--index", "0", "--repeat", "3"])
        return Result(grab(r"steady: median [0-9.]+ ms \(([0-9.]+) us/image", out, "latency"), wall)

    def ours_train(self, args, name):
        out_file = os.path.join(self.tmp, name + ".gguf")
        out, wall = run([self.bin, "train", *args, out_file, "--data", self.data, "--threads", self.t])
        return Result(grab(r"trained in ([0-9.]+) s", out, "train time"), wall,
                      grab(r"test: accuracy ([0-9.]+)%", out, "accuracy")), out_file

    def ours_peak_mb(self, model):
        p = subprocess.run(["/usr/bin/time", "-f", "%M", self.bin, "eval", model, self.images, self.labels, "--threads",
                            self.t, "--index", "0"], capture_output=True, text=True)
        return int(p.stderr.strip().splitlines()[-1]) / 1024.0

    def ours_accuracy(self, model):
        out, _ = run([self.bin, "eval", model, self.images, self.labels, "--threads", self.t, "--index", "0"])
        return grab(r"accuracy: ([0-9.]+)%", out, "accuracy")

    # ---- PyTorch
    def torch_eval(self, model, batch):
        out, wall = run([PY, os.path.join(ROOT, "bench", "torch_jobs.py"), "eval", model, self.data, "--batch", str(batch),
                         "--threads", self.t, "--passes", str(self.a.passes)], self.peer)
        return Result(grab(r"steady_ms=([0-9.]+)", out, "ms"), wall, grab(r"acc=([0-9.]+)", out, "acc"))

    def torch_latency(self, model):
        out, wall = run([PY, os.path.join(ROOT, "bench", "torch_jobs.py"), "latency", model, self.data, "--threads", self.t],
                        self.peer)
        return Result(grab(r"us=([0-9.]+)", out, "us"), wall)

    def torch_train(self, script, args):
        out_file = os.path.join(self.tmp, "torch.state_dict")
        out, wall = run([PY, os.path.join(ROOT, "tools", script), out_file, "--data", self.data, "--threads", self.t, *args],
                        self.peer)
        return Result(grab(r"trained in ([0-9.]+) s", out, "train time"), wall,
                      grab(r"trained in [0-9.]+ s; test accuracy ([0-9.]+)%", out, "accuracy"))

    # ---- ggml's examples/mnist tools (they pick their own threads: min(cores, (cores + 4) / 2))
    def ggml_eval(self, model):
        out, wall = run([os.path.join(self.ggml, "mnist-eval"), model, self.images, self.labels], self.peer)
        return Result(grab(r"evaluation on [0-9]+ images took ([0-9.]+) ms", out, "ggml eval time"), wall,
                      grab(r"test_acc=([0-9.]+)", out, "ggml accuracy"))

    def ggml_train(self, arch, name):
        # ggml's recipe: 30 epochs, batch 1000 (in passes of 500), Adam, 5% held out.
        out_file = os.path.join(self.tmp, name + ".gguf")
        _, wall = run([os.path.join(self.ggml, "mnist-train"), arch, out_file, self.train_images, self.train_labels],
                      self.peer)
        return Result(None, wall, self.ours_accuracy(out_file))

    def small_cnn_model(self):
        if not self.small_cnn:
            # an untimed, short run: eval speed does not depend on how well the weights are trained
            _, self.small_cnn = self.ours_train(["mnist-cnn", "--preset", "ggml", "--epochs", "3", "--batch", "500"],
                                                "small")
        return self.small_cnn


# job -> (description, unit, target for mnist.cpp's steady time, {side: runner})
def jobs(s):
    fc = fc_model()
    cnn = os.path.join(ROOT, "models", "mnist-cnn-f32.gguf")
    small = lambda: s.small_cnn_model()  # noqa: E731
    table = {
        "fc-eval": ("FC eval, 10,000 test images (batch 500)", "ms", 45, {
            "mnist.cpp": lambda: s.ours_eval(fc, 500), "PyTorch": lambda: s.torch_eval(fc, 500),
            "ggml": lambda: s.ggml_eval(fc)}),
        "fc-latency": ("FC, one image (latency)", "µs", 10, {
            "mnist.cpp": lambda: s.ours_latency(fc), "PyTorch": lambda: s.torch_latency(fc)}),
        "fc-train": ("FC training, 30 epochs, batch 1000, Adam", "s", 20, {
            "mnist.cpp": lambda: s.ours_train(["mnist-fc", "--epochs", "30", "--batch", "1000", "--val-split", "0"], "fc")[0],
            "PyTorch": lambda: s.torch_train("train_fc.py", ["--epochs", "30", "--batch", "1000"]),
            "ggml": lambda: s.ggml_train("mnist-fc", "ggml-fc")}),
        "cnn-small-eval": ("small CNN (ggml's 8/16 net) eval, 10,000 images", "ms", 60, {
            "mnist.cpp": lambda: s.ours_eval(small(), 500), "PyTorch": lambda: s.torch_eval(small(), 500),
            "ggml": lambda: s.ggml_eval(small())}),
        "cnn-small-train": ("small CNN training, 30 epochs, batch 1000", "s", 40, {
            "mnist.cpp": lambda: s.ours_train(["mnist-cnn", "--preset", "ggml", "--epochs", "30", "--batch", "1000",
                                               "--val-split", "0"], "small30")[0],
            "PyTorch": lambda: s.torch_train("train_cnn.py", ["--preset", "ggml", "--epochs", "30", "--batch", "1000",
                                                              "--val-split", "0"]),
            "ggml": lambda: s.ggml_train("mnist-cnn", "ggml-cnn")}),
        "cnn-eval": ("seeds' CNN (32/64, dropout) eval, 10,000 images", "ms", 400, {
            "mnist.cpp": lambda: s.ours_eval(cnn, 500), "PyTorch": lambda: s.torch_eval(cnn, 500)}),
        "cnn-latency": ("seeds' CNN, one image (latency)", "µs", 100, {
            "mnist.cpp": lambda: s.ours_latency(cnn), "PyTorch": lambda: s.torch_latency(cnn)}),
        "cnn-train": ("seeds' CNN training, 15 epochs, batch 128, Adam", "s", 117, {
            "mnist.cpp": lambda: s.ours_train(["mnist-cnn", "--epochs", "15", "--batch", "128"], "cnn")[0],
            "PyTorch": lambda: s.torch_train("train_cnn.py", ["--epochs", "15", "--batch", "128"])}),
        # The fast preset's whole recipe (README: 99% in seconds); steady = the trainer's own time.
        "cnn-fast-train": ("fast CNN (batch norm, one-cycle) training, 2 epochs", "s", 10, {
            "mnist.cpp": lambda: s.ours_train(["mnist-cnn", "--preset", "fast"], "fast")[0],
            "PyTorch": lambda: s.torch_train("train_cnn.py", ["--preset", "fast"])}),
    }
    return table


def fmt(x, unit):
    if x is None:
        return "—"
    if unit == "s" and x >= 100 or x >= 1000:
        return f"{x:,.0f} {unit}"
    return f"{x:,.1f} {unit}" if x >= 10 else f"{x:,.2f} {unit}"


def ratio(theirs, ours, allowed):
    if theirs is None or ours is None or not allowed:
        return "—"
    return f"{theirs / ours:.1f}x"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=5, help="runs of each eval job (alternating sides)")
    p.add_argument("--train-runs", type=int, default=1, help="runs of each training job")
    p.add_argument("--passes", type=int, default=5, help="timed passes of an eval job in one process, after the first")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--mnist-bin", default=os.path.join(ROOT, "build", "mnist"), help="the mnist binary (Release build)")
    p.add_argument("--jobs", default="", help="comma-separated subset of: " + ", ".join(jobs(None)))
    p.add_argument("--ggml-bin", default="", help="folder with ggml's mnist-eval and mnist-train (built by you, "
                                                 "outside this repository): adds ggml to the table")
    a = p.parse_args()
    if a.ggml_bin and not all(os.access(os.path.join(a.ggml_bin, t), os.X_OK) for t in ("mnist-eval", "mnist-train")):
        sys.exit(f"--ggml-bin {a.ggml_bin}: no mnist-eval and mnist-train there")
    s = Sides(a)
    table = jobs(s)
    chosen = [j for j in (a.jobs.split(",") if a.jobs else table) if j]
    for j in chosen:
        if j not in table:
            sys.exit(f"unknown job {j}")
    sides = ["mnist.cpp", "PyTorch"] + (["ggml"] if a.ggml_bin else [])

    blas, _ = run([PY, os.path.join(ROOT, "bench", "torch_jobs.py"), "blas"], s.peer)
    kind = re.search(r"kind=(\S+)", blas).group(1)
    threads = re.search(r"threads=(\S+)", blas).group(1)
    # At its best: OpenBLAS's OpenMP build, which shares PyTorch's threads (bench/machine.py), or MKL.
    fair = kind == "mkl" or (kind == "openblas" and threads == "openmp")
    header = [f"machine: {machine.cpu()}",
              f"PyTorch: {blas.strip()} (OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset for its process; "
              f"glibc malloc keeping freed memory: {' '.join(k + '=' + v for k, v in machine.MALLOC_REUSE.items())}; "
              "eval and latency on the faster of its convolution paths, oneDNN or its own)"]
    if kind == "openblas" and not fair:
        header.append(f"PyTorch runs on OpenBLAS's build with threads={threads} here, not at its best (only the "
                      "OpenMP build shares PyTorch's threads; the pthread build's own threads oversubscribe the "
                      "cores): no ratios are printed against it "
                      "(install libopenblas0-openmp: bench/run.sh and scripts/install_deps.sh do)")
    elif not fair:
        header.append(f"PyTorch runs on the {kind} BLAS here, not at its best: no ratios are printed against it "
                      "(install libopenblas0-openmp: bench/run.sh and scripts/install_deps.sh do)")
    if a.ggml_bin:
        header.append(f"ggml: {a.ggml_bin} (its own thread choice; its eval time is the one pass it times itself)")
    print("\n".join(header), file=sys.stderr, flush=True)

    rows = []
    for j in chosen:
        desc, unit, target, runners = table[j]
        runners = {side: f for side, f in runners.items() if side in sides}
        n = a.train_runs if unit == "s" else a.runs
        print(f"running {j} ({', '.join(runners)}; {n} runs) ...", file=sys.stderr, flush=True)
        results = {side: [] for side in runners}
        for _ in range(n):
            for side, f in runners.items():
                results[side].append(f())
        med = {side: (statistics.median(r.steady for r in rs) if rs[0].steady is not None else None,
                      statistics.median(r.process for r in rs), rs[0].acc) for side, rs in results.items()}
        acc = lambda x: f" ({x:.2f}%)" if x is not None else ""  # noqa: E731
        o_steady, o_process, o_acc = med["mnist.cpp"]
        cells = [desc, fmt(o_steady, unit) + acc(o_acc)]
        for side in sides[1:]:
            if side not in med:
                cells += ["—", "—"]
                continue
            t_steady, _, t_acc = med[side]
            cells += [fmt(t_steady, unit) + acc(t_acc), ratio(t_steady, o_steady, fair or side != "PyTorch")]
        cells.append(f"{o_process:.2f} s")
        for side in sides[1:]:
            if side not in med:
                cells += ["—", "—"]
                continue
            t_process = med[side][1]
            cells += [f"{t_process:.2f} s", ratio(t_process, o_process, fair or side != "PyTorch")]
        cells += [f"≤ {target} {unit}", "yes" if o_steady <= target else "**no**"]
        rows.append("| " + " | ".join(cells) + " |")

    cols = ["job", "mnist.cpp"]
    for side in sides[1:]:
        cols += [side, "ratio"]
    cols.append("mnist.cpp process")
    for side in sides[1:]:
        cols += [f"{side} process", "ratio"]
    cols += ["target", "met"]
    print("\n" + "\n".join(header))
    print(f"{len(rows)} jobs, {a.threads} threads, medians of {a.runs} runs (training: {a.train_runs}); eval: median of "
          f"{a.passes} passes after a first; ratio = peer time / mnist.cpp time\n")
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    print("\n".join(rows))
    if "fc-eval" in chosen:
        print(f"\npeak memory (maximum resident set) of mnist.cpp's FC eval of the test set: {s.ours_peak_mb(fc_model()):.1f} MB")


def fc_model():
    return os.path.join(ROOT, "models", "mnist-fc-f32.gguf")


if __name__ == "__main__":
    main()
