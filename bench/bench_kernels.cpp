// Kernel benchmarks at the models' shapes: our GEMM at each SIMD level against OpenBLAS's
// cblas_sgemm (the ceiling), both with the same thread count; and our direct convolution (the
// op the CNNs run) against OpenBLAS on the same layer as one GEMM over a ready-made im2col
// matrix (the im2col itself not timed); and, per level, the Winograd convolution against the
// direct one on 3x3 layers followed by pooling (which inference picks where). Reports GFLOP/s
// (the convolution-and-pooling pairs: times).
//   build/bench/bench_kernels --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true
// bench/gemm.py runs it with OpenBLAS at its best and makes the README's tables.
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <random>
#include <string>
#include <vector>

#include "engine/allocator.h"
#include "engine/context.h"
#include "engine/executor.h"
#include "engine/ops.h"
#include "io/idx.h"
#include "kernels/kernels.h"

extern "C" void openblas_set_num_threads(int);
extern "C" char* openblas_get_corename();
extern "C" char* openblas_get_config();

namespace {

struct Shape {
    int64_t m, n, k;
    const char* what;
};

// mul_mat shapes of the models: rows m (output features), columns n (images or pixels), depth k.
const Shape kShapes[] = {
    {500, 500, 784, "fc1 batch 500"},
    {500, 10000, 784, "fc1 whole test set"},
    {10, 500, 500, "fc2 batch 500"},
    {32, 676 * 128, 9, "seeds conv1 batch 128"},
    {64, 121 * 128, 288, "seeds conv2 batch 128"},
    {8, 784 * 500, 9, "ggml conv1 batch 500"},
    {16, 196 * 500, 72, "ggml conv2 batch 500"},
    {1024, 1024, 1024, "square 1024"},
};

std::vector<float> random_vector(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> d(-1, 1);
    std::vector<float> v(n);
    for (float& x : v) x = d(rng);
    return v;
}

void set_flops(benchmark::State& state, const Shape& s) {
    state.counters["GFLOP/s"] = benchmark::Counter(2.0 * double(s.m) * double(s.n) * double(s.k) * double(state.iterations()),
                                                   benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
    state.SetLabel(std::to_string(s.m) + " x " + std::to_string(s.n) + " x " + std::to_string(s.k) + ", " + s.what);
}

// Times the graph ending in `out` through the real executor (allocation, threads, dispatch).
void time_graph(benchmark::State& state, mn::Tensor* out, int threads) {
    out->flags |= mn::kFlagOutput;
    mn::Graph graph;
    graph.build_forward(out);
    mn::GraphAllocator alloc;
    alloc.allocate(graph);
    mn::Executor ex(threads);
    for (auto _ : state) {
        ex.compute(graph);
        benchmark::DoNotOptimize(out->data);
    }
}

// Runs the kernels of `level` from here on (the benchmark puts the detected one back), or marks
// the benchmark skipped where the CPU lacks it.
bool use_level(benchmark::State& state, mn::CpuLevel level) {
    if (!mn::cpu_level_supported(level)) {
        state.SkipWithError("CPU level not supported here");
        return false;
    }
    mn::set_cpu_level(level);
    return true;
}

// Our mul_mat through the real executor (packing, threading, dispatch), as the models use it.
void BM_mul_mat(benchmark::State& state, mn::CpuLevel level, int threads) {
    const Shape& s = kShapes[state.range(0)];
    if (!use_level(state, level)) return;
    const int64_t a_ne[] = {s.k, s.m}, b_ne[] = {s.k, s.n};
    mn::Context w(mn::Context::tensor_arena_bytes(mn::DType::F32, 2, a_ne) +
                  mn::Context::tensor_arena_bytes(mn::DType::F32, 2, b_ne));
    mn::Tensor* a = w.new_tensor(mn::DType::F32, {s.k, s.m});
    mn::Tensor* b = w.new_tensor(mn::DType::F32, {s.k, s.n});
    auto av = random_vector(size_t(s.k * s.m), 1), bv = random_vector(size_t(s.k * s.n), 2);
    std::copy(av.begin(), av.end(), a->f32());
    std::copy(bv.begin(), bv.end(), b->f32());
    mn::Context g;
    time_graph(state, mn::mul_mat(g, a, b), threads);
    set_flops(state, s);
    mn::set_cpu_level(mn::detect_cpu_level());
}

// The CNNs' convolution layers, stride 1, 3x3: shape index (into kShapes) of the same layer as
// a GEMM, input channels, image size, padding and batch.
struct ConvLayer {
    int shape;
    int64_t c, w;
    int pad;
    int64_t batch;
};
const ConvLayer kConvLayers[] = {
    {3, 1, 28, 0, 128},   // seeds conv1
    {4, 32, 13, 0, 128},  // seeds conv2
    {5, 1, 28, 1, 500},   // ggml conv1
    {6, 8, 14, 1, 500},   // ggml conv2
};

// conv_2d through the executor, as the models run it (the direct convolution kernel).
void BM_conv_2d(benchmark::State& state, int threads) {
    const ConvLayer& l = kConvLayers[state.range(0)];
    const Shape& s = kShapes[l.shape];
    mn::Context w(size_t(4 * (9 * l.c * s.m + l.c * l.w * l.w * l.batch)) + (1 << 16));
    mn::Tensor* kernel = w.new_tensor(mn::DType::F32, {3, 3, l.c, s.m});
    mn::Tensor* x = w.new_tensor(mn::DType::F32, {l.c, l.w, l.w, l.batch});
    auto kv = random_vector(size_t(kernel->nelements()), 1), xv = random_vector(size_t(x->nelements()), 2);
    std::copy(kv.begin(), kv.end(), kernel->f32());
    std::copy(xv.begin(), xv.end(), x->f32());
    mn::Context g;
    time_graph(state, mn::conv_2d(g, kernel, x, 1, l.pad), threads);
    set_flops(state, s);
}

// A 3x3 convolution + relu + 2x2 max pooling as inference runs it, one thread, by the direct
// kernel (winograd = false) or by Winograd's F(2x2, 3x3) (kernels/conv_winograd_impl.h): the
// measurement behind winograd_suits. Layers: kConvLayers' second layers, plus one between them.
struct PoolLayer {
    int64_t c, w;
    int pad;
    int64_t m, batch;
    const char* what;
};
const PoolLayer kPoolLayers[] = {
    {32, 13, 0, 64, 128, "seeds conv2 batch 128"},
    {16, 14, 1, 32, 500, "16 -> 32 channels, 14x14, batch 500"},
    {8, 14, 1, 16, 500, "ggml conv2 batch 500"},
};

void BM_conv_pool(benchmark::State& state, mn::CpuLevel level, bool winograd) {
    const PoolLayer& l = kPoolLayers[state.range(0)];
    if (!use_level(state, level)) return;
    const mn::KernelTable& kt = mn::kernels();
    const auto kernel = random_vector(size_t(9 * l.c * l.m), 1), x = random_vector(size_t(l.c * l.w * l.w * l.batch), 2),
               bias = random_vector(size_t(l.m), 3);
    mn::ConvArgs args;
    mn::ConvGather& g = args.in;
    g.x = x.data();
    g.c = l.c;
    g.w = g.h = l.w;
    g.sx = l.c;
    g.sy = l.c * l.w;
    g.sn = l.c * l.w * l.w;
    g.ow = g.oh = l.w + 2 * l.pad - 2;
    g.kw = g.kh = 3;
    g.pad = l.pad;
    const int64_t pw = g.ow / 2, ph = g.oh / 2;
    std::vector<float> packed, scratch(size_t(2 * g.ow * l.m)), y(size_t(l.m * pw * ph * l.batch));
    if (winograd) {
        packed.resize(kt.winograd_packed_floats(l.c, l.m));
        kt.pack_winograd_weights(kernel.data(), l.c, l.m, packed.data());
        args.winograd = packed.data();
    } else {
        packed.resize(kt.conv_packed_floats(l.c, l.m, 3, 3));
        kt.pack_conv_weights(kernel.data(), 3, 3, l.c, l.m, false, packed.data());
        args.weights = packed.data();
        args.scratch = scratch.data();
    }
    std::vector<char> ws(winograd ? kt.winograd_workspace(g, l.m) : kt.conv_workspace(g));
    args.m = l.m;
    args.y = y.data();
    args.ldy = l.m;
    args.bias = bias.data();
    args.relu = true;
    args.pool = 2;
    args.row_begin = 0;
    args.row_end = ph * l.batch;
    for (auto _ : state) {
        kt.conv(args, ws.data());
        benchmark::DoNotOptimize(y.data());
    }
    state.SetLabel(l.what);
    mn::set_cpu_level(mn::detect_cpu_level());
}

// The first FC layer's two big products on real MNIST test images (81% zero pixels), where the
// GEMM skips the steps of the depth whose values are all zero (kernels/zero_mask_impl.h):
// 0: forward, weights x images; 1: weight gradient, imagesᵀ x (dense) output gradient.
// Same FLOP count as the dense product, so GFLOP/s here are "effective".
constexpr int64_t kImagesBatch = 1000, kPixels = 784, kHidden = 500;

// The first kImagesBatch MNIST test images as floats in [0, 1], image after image; empty if the
// data is not there.
std::vector<float> test_images() {
    std::vector<float> x;
    try {
        const mn::IdxImages images = mn::read_idx_images(MNIST_DATA_DIR "/t10k-images-idx3-ubyte");
        x.resize(size_t(kPixels * kImagesBatch));
        for (size_t i = 0; i < x.size(); ++i) x[i] = float(images.data()[i]) / 255.0f;
    } catch (const std::exception&) {
    }
    return x;
}

Shape images_shape(bool forward) {
    return forward ? Shape{kHidden, kImagesBatch, kPixels, "fc1 forward, 1000 test images"}
                   : Shape{kPixels, kHidden, kImagesBatch, "fc1 weight gradient, 1000 test images"};
}

void BM_mul_mat_images(benchmark::State& state, int threads) {
    const int64_t batch = kImagesBatch, pixels = kPixels, hidden = kHidden;
    const std::vector<float> xv = test_images();
    if (xv.empty()) {
        state.SkipWithError("no MNIST test images: run scripts/fetch_data.sh");
        return;
    }
    mn::Context w(size_t(4 * (pixels * batch + pixels * hidden + hidden * batch)) + (1 << 16));
    mn::Tensor* x = w.new_tensor(mn::DType::F32, {pixels, batch});
    std::copy(xv.begin(), xv.end(), x->f32());
    mn::Tensor* weights = w.new_tensor(mn::DType::F32, {pixels, hidden});
    mn::Tensor* grad = w.new_tensor(mn::DType::F32, {hidden, batch});
    auto wv = random_vector(size_t(weights->nelements()), 1), gv = random_vector(size_t(grad->nelements()), 2);
    std::copy(wv.begin(), wv.end(), weights->f32());
    std::copy(gv.begin(), gv.end(), grad->f32());
    mn::Context g;
    const bool forward = state.range(0) == 0;
    time_graph(state, forward ? mn::mul_mat(g, weights, x) : mn::mul_mat(g, mn::transpose(g, x), mn::transpose(g, grad)),
               threads);
    set_flops(state, images_shape(forward));
}

// The same two products in OpenBLAS, which multiplies the zeros like any other value.
void BM_openblas_images(benchmark::State& state, int threads) {
    const std::vector<float> x = test_images();
    if (x.empty()) {
        state.SkipWithError("no MNIST test images: run scripts/fetch_data.sh");
        return;
    }
    openblas_set_num_threads(threads);
    const auto weights = random_vector(size_t(kPixels * kHidden), 1), grad = random_vector(size_t(kHidden * kImagesBatch), 2);
    std::vector<float> c(size_t(kPixels * std::max(kHidden, kImagesBatch)));
    const bool forward = state.range(0) == 0;
    for (auto _ : state) {
        if (forward)  // C (images x hidden) = X (images x pixels) · Wᵀ
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(kImagesBatch), int(kHidden), int(kPixels), 1.0f,
                        x.data(), int(kPixels), weights.data(), int(kPixels), 0.0f, c.data(), int(kHidden));
        else  // C (hidden x pixels) = Gᵀ (hidden x images) · X (images x pixels)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, int(kHidden), int(kPixels), int(kImagesBatch), 1.0f,
                        grad.data(), int(kHidden), x.data(), int(kPixels), 0.0f, c.data(), int(kPixels));
        benchmark::DoNotOptimize(c.data());
    }
    set_flops(state, images_shape(forward));
}

void conv_layers(benchmark::internal::Benchmark* b) {
    for (int i = 0; i < int(sizeof(kConvLayers) / sizeof(kConvLayers[0])); ++i) b->Arg(i);
    b->Unit(benchmark::kMillisecond)->UseRealTime();
}

void BM_openblas(benchmark::State& state, int threads) {
    const Shape& s = kShapes[state.range(0)];
    openblas_set_num_threads(threads);
    auto a = random_vector(size_t(s.k * s.m), 1), b = random_vector(size_t(s.k * s.n), 2);
    std::vector<float> c(size_t(s.m * s.n));
    for (auto _ : state) {
        // Same layout as mul_mat: C (n x m, row-major) = B (n x k) · Aᵀ (k x m).
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(s.n), int(s.m), int(s.k), 1.0f, b.data(), int(s.k),
                    a.data(), int(s.k), 0.0f, c.data(), int(s.m));
        benchmark::DoNotOptimize(c.data());
    }
    set_flops(state, s);
}

void shapes(benchmark::internal::Benchmark* b) {
    for (int i = 0; i < int(sizeof(kShapes) / sizeof(kShapes[0])); ++i) b->Arg(i);
    b->Unit(benchmark::kMillisecond)->UseRealTime();
}

BENCHMARK_CAPTURE(BM_openblas, threads2, 2)->Apply(shapes);
BENCHMARK_CAPTURE(BM_mul_mat, avx512_threads2, mn::CpuLevel::Avx512, 2)->Apply(shapes);
BENCHMARK_CAPTURE(BM_mul_mat, avx2_threads2, mn::CpuLevel::Avx2, 2)->Apply(shapes);
BENCHMARK_CAPTURE(BM_openblas, threads1, 1)->Apply(shapes);
BENCHMARK_CAPTURE(BM_mul_mat, avx512_threads1, mn::CpuLevel::Avx512, 1)->Apply(shapes);
BENCHMARK_CAPTURE(BM_mul_mat, avx2_threads1, mn::CpuLevel::Avx2, 1)->Apply(shapes);
BENCHMARK_CAPTURE(BM_conv_2d, threads2, 2)->Apply(conv_layers);
BENCHMARK_CAPTURE(BM_conv_pool, avx512_direct, mn::CpuLevel::Avx512, false)->DenseRange(0, 2)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_conv_pool, avx512_winograd, mn::CpuLevel::Avx512, true)->DenseRange(0, 2)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_conv_pool, avx2_direct, mn::CpuLevel::Avx2, false)->DenseRange(0, 2)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_conv_pool, avx2_winograd, mn::CpuLevel::Avx2, true)->DenseRange(0, 2)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_mul_mat_images, threads2, 2)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_openblas_images, threads2, 2)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

// Google Benchmark's main, with the BLAS and the caches our blocking reads in the context (the
// JSON output's "context", read by bench/gemm.py).
int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::AddCustomContext("openblas_core", openblas_get_corename());
    benchmark::AddCustomContext("openblas_config", openblas_get_config());
    benchmark::AddCustomContext("mnist_kernels", mn::kernels().name);
    const mn::CacheSizes& c = mn::cpu_caches();
    benchmark::AddCustomContext("mnist_caches", "L1d " + std::to_string(c.l1d >> 10) + " KB, L2 " +
                                                    std::to_string(c.l2 >> 10) + " KB");
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
