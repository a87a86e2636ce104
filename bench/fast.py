#!/usr/bin/env python3
"""99% in seconds: `mnist train mnist-cnn --preset fast` over several seeds, timed from the
command's start to the model file written (data loading included), beside the seeds' recipe
(`mnist train mnist-cnn`, 15 epochs) and the same fast recipe in PyTorch (tools/train_cnn.py
--preset fast, on OpenBLAS at its best), alternating. Prints the README's table.

  /usr/bin/python3 bench/fast.py                      # 5 seeds, the seeds' recipe once, PyTorch twice
  /usr/bin/python3 bench/fast.py --seeds 1 --no-peers # one quick run
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


def run(cmd, env=None):
    start = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stdout}\n{p.stderr}")
    return p.stdout, time.perf_counter() - start


def grab(pattern, text):
    m = re.search(pattern, text)
    if not m:
        sys.exit(f"could not find {pattern!r} in:\n{text}")
    return float(m.group(1))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--torch-runs", type=int, default=2)
    p.add_argument("--no-peers", action="store_true", help="only the fast runs (no seeds' recipe, no PyTorch)")
    p.add_argument("--mnist-bin", default=os.path.join(ROOT, "build", "mnist"))
    a = p.parse_args()
    data = os.path.join(ROOT, "data", "mnist")
    tmp = tempfile.mkdtemp(prefix="mnist-fast.")
    t = str(a.threads)
    print(f"machine: {machine.cpu()}", flush=True)

    fast = []  # (seed, seconds to the file, trainer's seconds, accuracy)
    torch_runs, seeds_recipe = [], None
    for i in range(a.seeds):
        seed = 42 + i
        out, _ = run([a.mnist_bin, "train", "mnist-cnn", os.path.join(tmp, f"fast{seed}.gguf"), "--preset", "fast",
                      "--seed", str(seed), "--data", data, "--threads", t])
        fast.append((seed, grab(r"written ([0-9.]+) s after the start", out), grab(r"trained in ([0-9.]+) s", out),
                     grab(r"test: accuracy ([0-9.]+)%", out)))
        print(f"fast seed {seed}: {fast[-1][1]:.1f} s, {fast[-1][3]:.2f}%", flush=True)
        if a.no_peers:
            continue
        if i < a.torch_runs:
            out, wall = run(["/usr/bin/python3", os.path.join(ROOT, "tools", "train_cnn.py"), os.path.join(tmp, "t.sd"),
                             "--preset", "fast", "--seed", str(seed), "--data", data, "--threads", t], machine.peer_env())
            torch_runs.append((wall, grab(r"trained in ([0-9.]+) s", out), grab(r"test accuracy ([0-9.]+)%", out)))
            print(f"PyTorch fast seed {seed}: {wall:.1f} s, {torch_runs[-1][2]:.2f}%", flush=True)
        if i == 0:
            out, _ = run([a.mnist_bin, "train", "mnist-cnn", os.path.join(tmp, "seeds.gguf"), "--data", data,
                          "--threads", t])
            seeds_recipe = (grab(r"written ([0-9.]+) s after the start", out), grab(r"test: accuracy ([0-9.]+)%", out))
            print(f"seeds' recipe: {seeds_recipe[0]:.1f} s, {seeds_recipe[1]:.2f}%", flush=True)

    print(f"\n{a.threads} threads; time = from the command's start to the model file written (data loading included)\n")
    print("| seed | time | of which training | test accuracy |")
    print("|---|---|---|---|")
    for seed, wall, train, acc in fast:
        print(f"| {seed} | {wall:.2f} s | {train:.2f} s | {acc:.2f}% |")
    accs = [f[3] for f in fast]
    mean_time = statistics.mean(f[1] for f in fast)
    print(f"| mean | {mean_time:.2f} s | {statistics.mean(f[2] for f in fast):.2f} s | {statistics.mean(accs):.2f}% "
          f"(lowest {min(accs):.2f}%) |")
    if seeds_recipe:
        print(f"\nthe seeds' recipe in the same run: {seeds_recipe[0]:.1f} s ({seeds_recipe[1]:.2f}%): the fast preset takes "
              f"{mean_time / seeds_recipe[0]:.3f} of its time")
    if torch_runs:
        tw = statistics.median(r[0] for r in torch_runs)
        print(f"the same fast recipe in PyTorch (process, median of {len(torch_runs)}): {tw:.1f} s "
              f"({', '.join(f'{r[2]:.2f}%' for r in torch_runs)}): {tw / mean_time:.1f}x our time")


if __name__ == "__main__":
    main()
