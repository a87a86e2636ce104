"""What the benchmarks print about where they ran, and the environment the peers run in.

A ratio measured on one machine says nothing about another (Zen 4 and Zen 5 differ by about 2x),
so every table starts with the CPU; and a peer is only measured at its best:
- OpenBLAS picks its kernel for the CPU it finds unless OPENBLAS_CORETYPE forces one, and
  OPENBLAS_L2_SIZE overrides the cache size it blocks for: both are unset for a peer;
- PyTorch runs its own OpenMP threads, and OpenBLAS's pthread build (Debian's default) then
  starts its own beside them, twice as many threads as cores; its OpenMP build shares
  PyTorch's pool (FC eval of the test set here: 33 ms against 83 ms). A peer gets it when
  libopenblas0-openmp is installed (bench/run.sh installs it).
peer_env() is that environment (the rest of it, tests and CI included, stays as it is);
`bench/machine.py run CMD...` runs a command in it.
"""
import os
import subprocess
import sys

OPENBLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
OPENBLAS_OPENMP = "/usr/lib/x86_64-linux-gnu/openblas-openmp"


# glibc's malloc serves blocks above its mmap threshold (32 MB at most) with fresh mappings and
# gives them back on free, so a PyTorch pass over a batch of 500 images page-faults its 43 MB
# activations in again every time; page faults are slow on this project's VMs (a relu over
# 500 x 32 x 26 x 26 floats: 88 ms with, 2 ms without). These keep freed memory in the heap for
# reuse, as a caching allocator would: PyTorch's seeds' CNN eval 5.3 s -> about 1 s, a training
# step of it 143 -> 25 ms. Our own process allocates its arenas once and is not affected.
MALLOC_REUSE = {"MALLOC_MMAP_THRESHOLD_": str(1 << 32), "MALLOC_TRIM_THRESHOLD_": str(1 << 36)}


def peer_env(core=None, openmp=True):
    """os.environ without OpenBLAS's overrides, with OpenBLAS's OpenMP build on the library path
    when it is installed (for PyTorch; openmp=False for our own benchmark binary, which has no
    OpenMP threads), and glibc's malloc keeping freed memory (MALLOC_REUSE); with `core`,
    OpenBLAS forced to that kernel."""
    env = {k: v for k, v in os.environ.items() if k not in OPENBLAS_OVERRIDES}
    env.update(MALLOC_REUSE)
    if core:
        env["OPENBLAS_CORETYPE"] = core
    if openmp and os.path.exists(os.path.join(OPENBLAS_OPENMP, "libblas.so.3")):
        # after the caller's own library path, if any: that one still wins
        env["LD_LIBRARY_PATH"] = ":".join(p for p in (env.get("LD_LIBRARY_PATH"), OPENBLAS_OPENMP) if p)
    return env


def _read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return ""


def cpu():
    """'AMD EPYC (AuthenticAMD family 26 model 2), 2 cores; L1d 48 KB, L2 1 MB, L3 32 MB'."""
    info = {}
    for line in _read("/proc/cpuinfo").splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key in ("vendor_id", "cpu family", "model", "model name") and key not in info:
            info[key] = value.strip()
    # As the library reads them (glibc's sysconf, from CPUID): getconf prints the same values.
    caches = []
    for name, var in (("L1d", "LEVEL1_DCACHE_SIZE"), ("L2", "LEVEL2_CACHE_SIZE"), ("L3", "LEVEL3_CACHE_SIZE")):
        try:
            size = int(subprocess.run(["getconf", var], capture_output=True, text=True).stdout.strip() or 0)
        except (OSError, ValueError):
            size = 0
        if size:
            caches.append(f"{name} {size // 1024} KB" if size < 1 << 20 else f"{name} {size / (1 << 20):g} MB")
    flags = _read("/proc/cpuinfo")
    simd = "AVX-512" if " avx512f" in flags else "AVX2" if " avx2" in flags else "no AVX2"
    return (f"{info.get('model name', '?')} ({info.get('vendor_id', '?')} family {info.get('cpu family', '?')} "
            f"model {info.get('model', '?')}, {simd}), {os.cpu_count()} cores; " + ", ".join(caches))


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] != "run":
        sys.exit("usage: machine.py run CMD [ARG...]   (runs CMD in the peers' environment)")
    os.execvpe(sys.argv[2], sys.argv[2:], peer_env())
