#!/usr/bin/env python3
"""Our GEMM against OpenBLAS at its best, as Markdown tables (build/bench/bench_kernels, Google
Benchmark; build it with scripts/build.sh -DMNIST_BUILD_BENCH=ON).

Two runs of the benchmark binary, each with OpenBLAS's overrides unset for its process only:
  1. OpenBLAS picks its kernel for this CPU; against our best level (AVX-512 where the CPU has it);
  2. OpenBLAS forced to its Haswell kernels (OPENBLAS_CORETYPE=Haswell); against our AVX2 level.
Both at 1 and 2 threads, medians of --repetitions runs, benchmarks in random order. Then the
first layer's products on real MNIST images and the direct convolutions (run 1's OpenBLAS).

  /usr/bin/python3 bench/gemm.py                 # the README's tables (about 5 minutes)
  /usr/bin/python3 bench/gemm.py --smoke         # one small shape, once: checks the pipeline
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import machine  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def run_bench(binary, regex, env, repetitions, min_time):
    cmd = [binary, f"--benchmark_filter={regex}", "--benchmark_format=json",
           f"--benchmark_repetitions={repetitions}", "--benchmark_enable_random_interleaving=true",
           f"--benchmark_min_time={min_time}"]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr}")
    out = json.loads(p.stdout)
    times, labels = {}, {}
    for b in out["benchmarks"]:
        if b.get("run_type") != "iteration" or b.get("error_occurred"):
            continue
        name = b["run_name"].replace("/real_time", "")
        times.setdefault(name, []).append(b["real_time"])  # ms
        labels[name] = b.get("label", "")
    return out["context"], {k: statistics.median(v) for k, v in times.items()}, labels



def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", default=os.path.join(ROOT, "build", "bench", "bench_kernels"))
    p.add_argument("--repetitions", type=int, default=8)
    p.add_argument("--min-time", type=float, default=0.2, help="seconds per benchmark run")
    p.add_argument("--smoke", action="store_true", help="fc2 only, one repetition, short runs")
    a = p.parse_args()
    if not os.access(a.bin, os.X_OK):
        sys.exit(f"{a.bin}: not built (scripts/build.sh -DMNIST_BUILD_BENCH=ON)")
    shapes = "2" if a.smoke else "[0-9]+"
    reps, min_time = (1, 0.01) if a.smoke else (a.repetitions, a.min_time)
    has_avx512 = " avx512f" in open("/proc/cpuinfo").read()
    best = "avx512" if has_avx512 else "avx2"

    print(f"machine: {machine.cpu()}")
    tables = []
    for level, core in ([(best, None)] + ([("avx2", "Haswell")] if has_avx512 else [])):
        ctx, t, labels = run_bench(a.bin, f"BM_openblas/threads[12]/{shapes}/|BM_mul_mat/{level}_threads[12]/{shapes}/",
                                   machine.peer_env(core, openmp=False), reps, min_time)
        forced = f"forced with OPENBLAS_CORETYPE={core}" if core else "chosen by OpenBLAS for this CPU"
        print(f"run {len(tables) + 1}: {ctx['openblas_config']}; kernel {ctx['openblas_core']} ({forced}); "
              f"ours: {level}, blocking from {ctx['mnist_caches']}")
        rows = []
        for name in sorted(t, key=lambda n: (int(n.rsplit("/", 1)[1]), n)):
            if not name.startswith("BM_mul_mat/"):
                continue
            threads = name.split("_threads")[1].split("/")[0]
            index = name.rsplit("/", 1)[1]
            ob = t.get(f"BM_openblas/threads{threads}/{index}")
            if ob is None:
                continue
            ours = t[name]
            rows.append(f"| {labels[name]} | {threads} | {ours:.3f} ms | {ob:.3f} ms | {100 * ob / ours:.0f}% |")
        tables.append((f"mnist.cpp {level} against OpenBLAS {ctx['openblas_core']}",
                       "| product | threads | mnist.cpp | OpenBLAS | ours / OpenBLAS throughput |\n|---|---|---|---|---|\n"
                       + "\n".join(rows)))
    if not a.smoke:
        _, t, labels = run_bench(a.bin, "BM_mul_mat_images|BM_openblas_images|BM_conv_2d|BM_openblas/threads2/[3-6]/",
                                 machine.peer_env(openmp=False), reps, min_time)
        rows = []
        for i in ("0", "1"):
            ours, ob = t.get(f"BM_mul_mat_images/threads2/{i}"), t.get(f"BM_openblas_images/threads2/{i}")
            if ours and ob:
                rows.append(f"| {labels[f'BM_mul_mat_images/threads2/{i}']} | {ours:.3f} ms | {ob:.3f} ms | {ob / ours:.2f}x |")
        tables.append(("first layer's products on real test images (zero skipping), 2 threads",
                       "| product | mnist.cpp | OpenBLAS | ratio |\n|---|---|---|---|\n" + "\n".join(rows) if rows else
                       "(not run: no MNIST test images in data/mnist; scripts/fetch_data.sh fetches them)"))
        rows = []
        for i, gemm_index in enumerate(("3", "4", "5", "6")):
            ours, ob = t.get(f"BM_conv_2d/threads2/{i}"), t.get(f"BM_openblas/threads2/{gemm_index}")
            if ours and ob:
                rows.append(f"| {labels[f'BM_openblas/threads2/{gemm_index}']} | {ours:.3f} ms | {ob:.3f} ms | {ob / ours:.1f}x |")
        tables.append(("direct conv_2d against OpenBLAS on the same layer as one GEMM (im2col not timed), 2 threads",
                       "| layer | direct conv_2d | OpenBLAS GEMM | ratio |\n|---|---|---|---|\n" + "\n".join(rows)))
    for title, body in tables:
        print(f"\n{title} (medians of {reps}):\n\n{body}")


if __name__ == "__main__":
    main()
