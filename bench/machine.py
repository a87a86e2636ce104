"""What the benchmarks print about where they ran, and the environment the peers run in.

A ratio measured on one machine says nothing about another (Zen 4 and Zen 5 differ by about 2x),
so every table starts with the CPU; and a peer is only measured at its best: OpenBLAS picks its
kernel for the CPU it finds unless OPENBLAS_CORETYPE forces one, and OPENBLAS_L2_SIZE overrides
the cache size it blocks for. peer_env() is the environment for a peer's process with both unset
(the rest of the environment, tests and CI included, stays as it is).
"""
import os
import subprocess

OPENBLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def peer_env(core=None):
    """os.environ without OpenBLAS's overrides; with `core`, OpenBLAS forced to that kernel."""
    env = {k: v for k, v in os.environ.items() if k not in OPENBLAS_OVERRIDES}
    if core:
        env["OPENBLAS_CORETYPE"] = core
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
