#include "kernels/kernels.h"

#include <unistd.h>

#include <algorithm>

#include "engine/error.h"

namespace mn {

namespace {
const KernelTable* table_for(CpuLevel level) {
    switch (level) {
#if defined(MN_HAVE_X86_KERNELS)
        case CpuLevel::Avx512: return &kernels_avx512::table();
        case CpuLevel::Avx2: return &kernels_avx2::table();
#else
        case CpuLevel::Avx512:
        case CpuLevel::Avx2: return nullptr;
#endif
        case CpuLevel::Scalar: return &kernels_scalar::table();
        case CpuLevel::WasmSimd:
#if defined(MN_HAVE_WASM_SIMD)
            return &kernels_wasm_simd::table();
#else
            return nullptr;
#endif
    }
    return nullptr;
}

const KernelTable*& active() {
    static const KernelTable* t = table_for(detect_cpu_level());
    return t;
}
}  // namespace

const CacheSizes& cpu_caches() {
    static const CacheSizes caches = [] {
        // Where the OS does not say: a 32 KB L1 and a 512 KB L2, common to the x86 machines of
        // the last decade (and a fair guess for the machine under a browser).
        CacheSizes c{32 << 10, 512 << 10};
#if defined(_SC_LEVEL1_DCACHE_SIZE) && defined(_SC_LEVEL2_CACHE_SIZE)
        const auto read = [](int name, int64_t fallback, int64_t lo, int64_t hi) {
            const long v = sysconf(name);  // glibc reads these from CPUID
            return v > 0 ? std::clamp<int64_t>(v, lo, hi) : fallback;
        };
        c.l1d = read(_SC_LEVEL1_DCACHE_SIZE, c.l1d, 16 << 10, 256 << 10);
        c.l2 = read(_SC_LEVEL2_CACHE_SIZE, c.l2, 128 << 10, 8 << 20);
#endif
        return c;
    }();
    return caches;
}

bool cpu_level_supported(CpuLevel level) {
    if (level == CpuLevel::Scalar) return true;
    if (level == CpuLevel::WasmSimd) {
#if defined(MN_HAVE_WASM_SIMD)
        return true;  // a module built with SIMD only loads where the engine has it
#else
        return false;
#endif
    }
#if defined(MN_HAVE_X86_KERNELS)
    __builtin_cpu_init();
    const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (level == CpuLevel::Avx2) return avx2;
    return avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
#else
    return false;
#endif
}

CpuLevel detect_cpu_level() {
    if (cpu_level_supported(CpuLevel::WasmSimd)) return CpuLevel::WasmSimd;
    if (cpu_level_supported(CpuLevel::Avx512)) return CpuLevel::Avx512;
    if (cpu_level_supported(CpuLevel::Avx2)) return CpuLevel::Avx2;
    return CpuLevel::Scalar;
}

const KernelTable& kernels() { return *active(); }

void set_cpu_level(CpuLevel level) {
    check(cpu_level_supported(level),
          std::string("this CPU or build does not support --cpu ") + cpu_level_name(level));
    active() = table_for(level);
}

CpuLevel parse_cpu_level(const std::string& name) {
    if (name == "scalar") return CpuLevel::Scalar;
    if (name == "avx2") return CpuLevel::Avx2;
    if (name == "avx512") return CpuLevel::Avx512;
    if (name == "wasm-simd") return CpuLevel::WasmSimd;
    throw Error("unknown CPU level '" + printable(name) + "' (expected scalar, avx2, avx512 or wasm-simd)");
}

const char* cpu_level_name(CpuLevel level) {
    switch (level) {
        case CpuLevel::Scalar: return "scalar";
        case CpuLevel::Avx2: return "avx2";
        case CpuLevel::Avx512: return "avx512";
        case CpuLevel::WasmSimd: return "wasm-simd";
    }
    return "?";
}

}  // namespace mn
