#pragma once
// The low-level numeric kernels, one table per SIMD level. The engine's ops call them through
// kernels(), which picks the best level this CPU supports (or the one forced with --cpu).
// Kernels are single-threaded; the ops split work across the thread pool before calling them.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mn {

enum class CpuLevel { Scalar = 0, Avx2 = 1, Avx512 = 2, WasmSimd = 3 };

// A 64-bit hash of z (SplitMix64's finaliser), for counter-based random numbers: the dropout
// kernel's masks and the trainer's shuffles and keys.
constexpr uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// C = A·Bᵀ in the layout of ggml's mul_mat, all f32:
//   c(i, j) = sum_p a(i, p) * b(j, p) [+ bias[i]] [then relu], with
//   a(i, p) = a[i*lda + p], b(j, p) = b[j*ldb + p], c(i, j) = c[j*ldc + i],  i < m, j < n, p < k,
// or, with a_trans / b_trans, a(i, p) = a[p*lda + i] / b(j, p) = b[p*ldb + j] (the backward pass
// multiplies by transposed views without copying them).
// B read straight out of a [C, W, H, N] image as im2col would lay it out (implicit GEMM):
//   b(j, p) = x(c, ox*stride + kx - pad, oy*stride + ky - pad, n), 0 outside the image, with
//   j = ox + OW*(oy + OH*n) and p = c + C*(kx + KW*ky) (the patch order of the im2col op).
// Convolutions use it so the im2col matrix (9x larger than the image) is never written.
struct ConvGather {
    const float* x = nullptr;
    int64_t c = 0, w = 0, h = 0;            // input channels and size
    int64_t sx = 0, sy = 0, sn = 0;          // strides in floats along x, y, n (channels are dense)
    int64_t ow = 0, oh = 0;                  // output size
    int kw = 0, kh = 0, stride = 1, pad = 0;
};

struct GemmArgs {
    int64_t m = 0, n = 0, k = 0;
    const float* a = nullptr;
    int64_t lda = 0;
    const float* b = nullptr;
    int64_t ldb = 0;
    float* c = nullptr;
    int64_t ldc = 0;
    const float* bias = nullptr;  // m values, or null
    bool relu = false;
    bool a_trans = false;
    bool b_trans = false;
    const ConvGather* b_gather = nullptr;  // if set, B comes from an image (b, ldb, b_trans unused)
    const float* a_packed = nullptr;       // if set, all of A already packed by KernelTable::pack_a
    int64_t a_packed_m = 0;                // rows of the packed matrix (0: m); this call's rows start at
    int64_t a_packed_row = 0;              // row a_packed_row of it (a multiple of pack_a_grain)
    int64_t b_first_column = 0;            // with b_gather: column j of this call is image column j + this
    // If set, last of all c(i, j) = 0 where gate[j*ldgate + i] <= 0: the gradient through a relu
    // whose output is the gate (relu_backward in the product's pass).
    const float* gate = nullptr;
    int64_t ldgate = 0;
};

// Direct convolution at stride 1 (kernels/conv_direct_impl.h): output rows [row_begin, row_end),
// row r = oy + OH*n, with
//   y(i, ox, r) = y[(r*OW + ox)*ldy + i] = [relu](bias[i] + sum_p a(i, p) * b(ox + OW*r, p))
// where b is the implicit im2col matrix of `in` (in.stride must be 1) and a the kernel, packed
// by KernelTable::pack_conv_weights.
struct ConvArgs {
    ConvGather in;
    int64_t m = 0;                   // output channels
    const float* weights = nullptr;  // packed
    float* y = nullptr;
    int64_t ldy = 0;
    const float* bias = nullptr;
    bool relu = false;
    int64_t row_begin = 0, row_end = 0;
    // With pool > 1, max pooling over pool x pool windows (stride pool) follows in the same pass,
    // and rows are pooled rows (OH/pool of them per image, each OW/pool pixels of m floats).
    // Without `pooled`, y receives the pooled rows and `scratch` holds the window's conv rows
    // (pool * OW * m floats) on their way; with it, y receives every conv row (ldy = m) and
    // `pooled` the pooled rows (training, where the pooling's gradient reads the conv rows).
    int pool = 0;
    float* scratch = nullptr;
    float* pooled = nullptr;
    // If set, a 3x3 kernel with pool 2 and no `pooled` (inference) runs by Winograd's F(2x2, 3x3)
    // (kernels/conv_winograd_impl.h) on these weights (pack_winograd_weights), not `weights`.
    const float* winograd = nullptr;
};

// The kernel's gradient of a stride-1 convolution (kernels/conv_weight_grad_impl.h), summed over
// images [image_begin, image_end) and added to dw[p * m + o], p = c + C*(kx + KW*ky):
//   dw(p, o) += sum over pixels j of dy[j*m + o] * b(j, p), b the implicit im2col matrix of `in`.
struct ConvWeightGradArgs {
    ConvGather in;
    int64_t m = 0;               // output channels
    const float* dy = nullptr;   // [m, OW, OH, N], dense
    float* dw = nullptr;
    int64_t image_begin = 0, image_end = 0;
};

struct KernelTable {
    CpuLevel level;
    const char* name;
    // Scratch bytes one gemm call needs for packing (per thread).
    size_t (*gemm_workspace)(int64_t m, int64_t n, int64_t k);
    void (*gemm)(const GemmArgs& args, void* workspace);
    // All of an m x k matrix A packed once in the layout the GEMM reads (weights that do not
    // change between evaluations): size in floats, and the packing.
    size_t (*packed_a_floats)(int64_t m, int64_t k);
    // Rows [row_begin, row_end) of it (row_begin a multiple of pack_a_grain(m); all rows: 0, m),
    // so that threads can share the packing of one A.
    void (*pack_a)(const float* a, int64_t lda, bool trans, int64_t m, int64_t k, int64_t row_begin, int64_t row_end,
                   float* dst);
    int64_t (*pack_a_grain)(int64_t m);
    // Convolution kernels in ggml's layout [KW, KH, C, M] packed for conv(): as they are, or
    // flipped and transposed (flip) to convolve an output gradient into the input's gradient.
    size_t (*conv_packed_floats)(int64_t c, int64_t m, int kw, int kh);
    void (*pack_conv_weights)(const float* kernel, int kw, int kh, int64_t c, int64_t m, bool flip, float* dst);
    // Scratch bytes per thread for conv() and conv_weight_grad() on images like `in`.
    size_t (*conv_workspace)(const ConvGather& in);
    void (*conv)(const ConvArgs& args, void* workspace);
    // A 3x3 kernel [3, 3, C, M] transformed for the Winograd convolution (ConvArgs::winograd),
    // and the scratch per thread that conv() then needs.
    size_t (*winograd_packed_floats)(int64_t c, int64_t m);
    void (*pack_winograd_weights)(const float* kernel, int64_t c, int64_t m, float* dst);
    size_t (*winograd_workspace)(const ConvGather& in, int64_t m);
    // Whether a convolution of kw x kh kernels, c channels in, m out, then pooling by `pool`,
    // runs faster by Winograd than directly at this level (conv_winograd_impl.h says why).
    bool (*winograd_suits)(int kw, int kh, int64_t c, int64_t m, int pool);
    void (*conv_weight_grad)(const ConvWeightGradArgs& args, void* workspace);
    // Max pooling of one output row of dense [C, W, H, N] activations: x points at the first of
    // the k input rows of its windows (rows of w pixels), y receives ow pixels; window k, stride s.
    void (*max_pool_row)(const float* x, int64_t w, int64_t c, float* y, int64_t ow, int k, int s);
    // Its gradient for disjoint windows (k == s), one output row: dy (ow pixels) goes to the
    // first maximum of each window of x, 0 elsewhere (also where the maximum is <= 0 when
    // positive_only: a relu before the pooling); writes all k rows of dx under the windows.
    void (*max_pool_backward_row)(const float* x, int64_t w, int64_t c, const float* dy, float* dx, int64_t ow, int k,
                                  bool positive_only);
    // acc[i] += sum over r < rows of x[r*c + i] (x dense): column sums, as a bias gradient.
    void (*sum_rows)(const float* x, int64_t rows, int64_t c, double* acc);
    // Batch normalisation over dense [c, pixels] activations: per-channel sums added to acc,
    // acc[0, c) sum x, [c, 2c) sum x^2 and, with dy, [2c, 3c) sum dy, [3c, 4c) sum dy * x; and
    // y = a * u + b (+ k * w when w is given) with a, b, k per channel, clamped at 0 with relu.
    void (*channel_moments)(const float* x, const float* dy, int64_t pixels, int64_t c, double* acc);
    void (*channel_affine)(float* y, const float* u, const float* w, const float* a, const float* b, const float* k,
                           int64_t pixels, int64_t c, bool relu);
    void (*add)(float* y, const float* a, const float* b, int64_t n);
    void (*relu)(float* y, const float* x, int64_t n);
    // y[i] = x[i] * scale if hash(key, first + i) >> 40 >= threshold, else 0 (engine/ops.h: dropout).
    void (*dropout)(const float* x, float* y, int64_t n, uint64_t key, uint64_t first, uint64_t threshold, float scale);
};

// A weight matrix packed for one kernel level (see KernelTable::pack_a).
struct PackedMatrix {
    CpuLevel level;
    std::vector<float> data;
    std::vector<float> winograd;  // a convolution kernel that suits it: also transformed for Winograd
};

// The data caches of this CPU in bytes, as the OS reports them (sensible defaults where it does
// not, and in WebAssembly): the GEMM's cache blocking is computed from them.
struct CacheSizes {
    int64_t l1d, l2;  // per core
};
const CacheSizes& cpu_caches();

const KernelTable& kernels();          // the active table
CpuLevel detect_cpu_level();           // best level this CPU and build support
bool cpu_level_supported(CpuLevel level);
// Forces a level (throws Error if this CPU or build lacks it).
void set_cpu_level(CpuLevel level);
CpuLevel parse_cpu_level(const std::string& name);  // "scalar" | "avx2" | "avx512" | "wasm-simd"
const char* cpu_level_name(CpuLevel level);

// The per-level tables (defined in kernels_<level>.cpp; absent levels are null).
namespace kernels_scalar { const KernelTable& table(); }
namespace kernels_avx2 { const KernelTable& table(); }
namespace kernels_avx512 { const KernelTable& table(); }
namespace kernels_wasm_simd { const KernelTable& table(); }

}  // namespace mn
