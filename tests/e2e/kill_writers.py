#!/usr/bin/python3
"""Nothing lost when a writer dies (tests/e2e/test_kill_writers.sh runs this):

  train    SIGKILL of `mnist train` at random moments, half of them anywhere in the run and half
           aimed at one of its writes (a checkpoint after each epoch, the model at the end):
           every time, the model file is the old one or the finished new one, the checkpoint
           (when one was written) resumes to the very file an uninterrupted run writes, and no
           temporary file is left behind;
  convert  SIGKILL of `mnist convert` while it writes a 38 MB GGUF or legacy .bin over an old
           file: the old file is intact, nothing is left behind;
  fsize    a file-size limit (RLIMIT_FSIZE, as `ulimit -f`) during `mnist convert` and during
           `mnist train`'s checkpoint: exit 1 with "write failed: File too large", old files
           intact.

A write is seen as the writer's open file in the output folder (/proc/PID/fd: an unnamed
O_TMPFILE file, or a named temporary one).

usage: kill_writers.py MNIST_BIN DATA_DIR TMP_DIR [--trials N] [--seed S]
"""

import argparse
import os
import random
import resource
import shutil
import signal
import struct
import subprocess
import sys
import time

p = argparse.ArgumentParser()
p.add_argument("bin")
p.add_argument("data")
p.add_argument("tmp")
p.add_argument("--trials", type=int, default=24)
p.add_argument("--seed", type=int, default=12)
args = p.parse_args()
rng = random.Random(args.seed)
EPOCHS = 4
TRAIN = ["train", "mnist-fc", "--data", args.data, "--limit", "4000", "--epochs", str(EPOCHS), "--batch", "100",
         "--threads", "2"]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)
    return cond


def same(a, b):
    with open(a, "rb") as f, open(b, "rb") as g:
        return f.read() == g.read()


def mnist(*cmd, **kw):
    return subprocess.run([args.bin, *cmd], capture_output=True, text=True, timeout=300, **kw)


def writing(pid, folder):
    """True while the process holds a file open in `folder`: a writer's temporary file."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}").startswith(folder + "/"):
                return True
        except OSError:
            pass
    return False


def kill_during(cmd, folder, write, delay, log):
    """Runs the command; SIGKILLs it `delay` s after the start of its `write`-th write (or, with
    write 0, `delay` s after it starts). Returns whether the kill landed during a write."""
    proc = subprocess.Popen([args.bin, *cmd], stdout=log, stderr=subprocess.STDOUT)
    start, seen, was = time.monotonic(), 0, False
    while proc.poll() is None:
        if write == 0:
            if time.monotonic() - start >= delay:
                break
            time.sleep(0.0005)
            continue
        now = writing(proc.pid, folder)
        if now and not was:
            seen += 1
            if seen == write:
                time.sleep(delay)
                break
        was = now
    mid_write = proc.poll() is None and writing(proc.pid, folder)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return mid_write


def leftovers(folder, allowed):
    return sorted(set(os.listdir(folder)) - set(allowed))


# ---- train -----------------------------------------------------------------------------------
ref = os.path.join(args.tmp, "ref")
os.makedirs(ref)
t0 = time.monotonic()
r = mnist(*TRAIN, os.path.join(ref, "model.gguf"))
run_seconds = time.monotonic() - t0
if r.returncode != 0:
    sys.exit(f"the reference run failed: {r.stdout}{r.stderr}")
old = os.path.join(args.tmp, "old.gguf")
shutil.copy(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "models", "mnist-fc-f32.gguf"), old)

mid_writes = resumed = fresh = 0
epochs_seen = set()
for trial in range(args.trials):
    folder = os.path.join(args.tmp, f"train{trial}")
    os.makedirs(folder)
    out, ckpt = os.path.join(folder, "model.gguf"), os.path.join(folder, "model.gguf.ckpt")
    shutil.copy(old, out)  # a model from before, which the run must not lose
    if trial % 2 == 0:  # anywhere in the run
        write, delay = 0, rng.uniform(0, run_seconds)
    else:  # aimed at a write: the checkpoints of epochs 1..EPOCHS, then the model
        write, delay = 1 + (trial // 2) % (EPOCHS + 1), rng.uniform(0, 0.004)
    with open(os.path.join(args.tmp, f"train{trial}.log"), "w") as log:
        mid_writes += kill_during([*TRAIN, out], folder, write, delay, log)
    printed = open(os.path.join(args.tmp, f"train{trial}.log")).read()
    epochs_seen.add(sum(line.startswith("epoch ") for line in printed.splitlines()))
    what = f"train trial {trial} (write {write}, {delay:.4f} s)"
    check(same(out, old) or same(out, os.path.join(ref, "model.gguf")), f"{what}: the model file is neither old nor new")
    check(not leftovers(folder, ["model.gguf", "model.gguf.ckpt"]), f"{what}: left {leftovers(folder, ['model.gguf', 'model.gguf.ckpt'])}")
    if os.path.exists(ckpt):
        r = mnist(*TRAIN, out, "--resume", ckpt)
        check(r.returncode == 0, f"{what}: the checkpoint does not resume: {r.stderr}")
        check(same(out, os.path.join(ref, "model.gguf")), f"{what}: resumed to a different model")
        resumed += 1
    else:
        fresh += 1  # killed before the first checkpoint was in place: a new run is all there is
print(f"train: {args.trials} SIGKILLs ({args.trials // 2} at random moments of a {run_seconds:.2f} s run, "
      f"{args.trials - args.trials // 2} aimed at its {EPOCHS + 1} writes; {mid_writes} landed mid-write; "
      f"after 0 to {max(epochs_seen)} of {EPOCHS} epochs): {resumed} resumed from their checkpoint to the "
      f"uninterrupted run's file, {fresh} had no checkpoint yet; the model file was always the old or the new one")

# ---- convert ---------------------------------------------------------------------------------
# A legacy .bin of mnist-fc with 12000 hidden units (38 MB), and the GGUF it converts to.
hidden = 12000
big = os.path.join(args.tmp, "big.bin")
with open(big, "wb") as f:
    f.write(struct.pack("<i", 0x67676d6c))
    for dims in ([784, hidden], [hidden], [hidden, 10], [10]):
        n = 1
        for d in dims:
            n *= d
        f.write(struct.pack("<i", len(dims)) + struct.pack(f"<{len(dims)}i", *dims))
        f.write(struct.pack("<f", 0.01) * n)
big_gguf = os.path.join(args.tmp, "big.gguf")
r = mnist("convert", big, big_gguf)
check(r.returncode == 0, f"convert: {r.stderr}")
old_bin = os.path.join(args.tmp, "old.bin")
check(mnist("convert", old, old_bin).returncode == 0, "convert old.gguf to .bin")

kills = convert_mid = 0
for trial in range(8):
    folder = os.path.join(args.tmp, f"convert{trial}")
    os.makedirs(folder)
    to_bin = trial % 2 == 1
    src, name, previous = (big_gguf, "out.bin", old_bin) if to_bin else (big, "out.gguf", old)
    out = os.path.join(folder, name)
    shutil.copy(previous, out)
    with open(os.path.join(args.tmp, f"convert{trial}.log"), "w") as log:
        convert_mid += kill_during(["convert", src, out], folder, 1, rng.uniform(0, 0.05), log)
    kills += 1
    check(same(out, previous) or (not to_bin and same(out, big_gguf)) or (to_bin and same(out, big)),
          f"convert trial {trial}: {name} is neither the old file nor the new one")
    check(not leftovers(folder, [name]), f"convert trial {trial}: left {leftovers(folder, [name])}")
print(f"convert: {kills} SIGKILLs while writing a 38 MB file over an old one ({convert_mid} mid-write): "
      f"the old file was intact every time, nothing left behind")

# ---- file-size limit -------------------------------------------------------------------------
def limited(n):
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (n, n))


folder = os.path.join(args.tmp, "fsize")
os.makedirs(folder)
out = os.path.join(folder, "out.gguf")
shutil.copy(old, out)
r = mnist("convert", big, out, preexec_fn=limited(1 << 20))
check(r.returncode == 1 and f"error: {out}: write failed: File too large" in r.stderr,
      f"convert past the file-size limit: exit {r.returncode}, {r.stderr!r}")
check(same(out, old) and not leftovers(folder, ["out.gguf"]), "convert past the file-size limit lost the old file")
ckpt = os.path.join(folder, "out.gguf.ckpt")
shutil.copy(old, ckpt)
r = mnist(*TRAIN, out, preexec_fn=limited(1 << 20))  # a checkpoint takes 4.8 MB
check(r.returncode == 1 and f"error: {ckpt}: write failed: File too large" in r.stderr,
      f"train past the file-size limit: exit {r.returncode}, {r.stderr!r}")
check(same(out, old) and same(ckpt, old) and not leftovers(folder, ["out.gguf", "out.gguf.ckpt"]),
      "train past the file-size limit lost a file")
print("file-size limit (1 MB): convert and train fail with 'write failed: File too large', old files intact")

sys.exit(1 if failures else 0)
