// Every forward op against a naive double-precision reference, at odd sizes, on every SIMD level
// this CPU supports and with several thread counts.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <utility>
#include <vector>

#include "engine/allocator.h"
#include "engine/error.h"
#include "engine/executor.h"
#include "engine/ops.h"
#include "kernels/kernels.h"
#include "test_support.h"

namespace mn {
namespace {

void fill_random(Tensor* t, std::mt19937& rng, float scale = 1.0f) {
    std::uniform_real_distribution<float> d(-scale, scale);
    for (int64_t i = 0; i < t->nelements(); ++i) t->f32()[i] = d(rng);
}

// Evaluates the graph ending in `out` with a fresh allocator.
void run(Tensor* out, int threads) {
    out->flags |= kFlagOutput;
    Graph g;
    g.build_forward(out);
    static GraphAllocator alloc;
    alloc = GraphAllocator();
    alloc.allocate(g);
    Executor ex(threads);
    ex.compute(g);
}

using test::LevelGuard;
using test::supported_levels;

TEST(Ops, MulMatMatchesReferenceAtOddSizesOnEveryLevel) {
    LevelGuard guard;
    std::mt19937 rng(1);
    const int64_t sizes[] = {1, 7, 31, 33, 500, 784};
    for (CpuLevel level : supported_levels()) {
        set_cpu_level(level);
        for (int64_t k : {1, 7, 33, 300, 784})
            for (int64_t m : sizes)
                for (int64_t n : {1, 5, 7, 33, 100, 500, 1500}) {  // 1500: more than one block of B
                    if (m * n * k > 60'000'000) continue;
                    const int64_t a_ne[] = {k, m}, b_ne[] = {k, n};
                    Context w(Context::tensor_arena_bytes(DType::F32, 2, a_ne) +
                              Context::tensor_arena_bytes(DType::F32, 2, b_ne));
                    Tensor* a = w.new_tensor(DType::F32, {k, m});
                    Tensor* b = w.new_tensor(DType::F32, {k, n});
                    fill_random(a, rng);
                    fill_random(b, rng);
                    Context g;
                    Tensor* c = mul_mat(g, a, b);
                    run(c, 1 + static_cast<int>((m + n + k) % 3));
                    for (int64_t j = 0; j < n; ++j)
                        for (int64_t i = 0; i < m; ++i) {
                            double ref = 0;
                            for (int64_t p = 0; p < k; ++p) ref += double(a->f32()[i * k + p]) * b->f32()[j * k + p];
                            ASSERT_NEAR(c->f32()[j * m + i], ref, 1e-4 * (1 + std::sqrt(double(k))))
                                << cpu_level_name(level) << " m=" << m << " n=" << n << " k=" << k;
                        }
                }
    }
}

// Threads that share a product's columns (or rows) each get the scratch of the first, largest
// share (engine/forward_mul_mat.cpp), so no smaller share may need more. Blocks of equal size
// are not monotone in the total (one just past a block's room gets two half blocks); the
// workspace must be. Across the block boundaries of this CPU's caches, every level.
TEST(Ops, GemmWorkspaceNeverShrinksAsTheShapeGrows) {
    LevelGuard guard;
    for (CpuLevel level : supported_levels()) {
        set_cpu_level(level);
        const KernelTable& kt = kernels();
        for (int64_t k : {1, 9, 33, 300, 784, 4000}) {
            size_t previous = 0;
            for (int64_t n = 1; n <= 40'000; ++n) {
                const size_t bytes = kt.gemm_workspace(97, n, k);
                ASSERT_GE(bytes, previous) << cpu_level_name(level) << " n=" << n << " k=" << k;
                previous = bytes;
            }
            previous = 0;
            for (int64_t m = 1; m <= 5'000; ++m) {
                const size_t bytes = kt.gemm_workspace(m, 97, k);
                ASSERT_GE(bytes, previous) << cpu_level_name(level) << " m=" << m << " k=" << k;
                previous = bytes;
            }
        }
    }
}

// Whatever C held before is overwritten.
TEST(Ops, GemmEpilogueAddsBiasAndAppliesRelu) {
    LevelGuard guard;
    std::mt19937 rng(2);
    for (CpuLevel level : supported_levels()) {
        set_cpu_level(level);
        // (8 x 9, 5 x 20, 16 x 72: products of one row panel, whose B is not packed)
        for (auto [m, k] : {std::pair<int64_t, int64_t>{37, 300}, {8, 9}, {5, 20}, {16, 72}})
        for (int64_t n : {3, 40}) {
            std::vector<float> a(m * k), b(n * k), bias(m), c(m * n, 0.5f);
            std::uniform_real_distribution<float> d(-1, 1);
            for (auto* v : {&a, &b, &bias})
                for (float& x : *v) x = d(rng);
            std::vector<uint8_t> ws(kernels().gemm_workspace(m, n, k));
            GemmArgs g{m, n, k, a.data(), k, b.data(), k, c.data(), m, bias.data(), true};
            kernels().gemm(g, ws.data());
            for (int64_t j = 0; j < n; ++j)
                for (int64_t i = 0; i < m; ++i) {
                    double ref = bias[i];
                    for (int64_t p = 0; p < k; ++p) ref += double(a[i * k + p]) * b[j * k + p];
                    ASSERT_NEAR(c[j * m + i], std::max(ref, 0.0), 1e-4) << cpu_level_name(level) << " m=" << m << " n=" << n;
                }
        }
    }
}

// The relu_backward epilogue: C zeroed where the gate (a relu's output) is <= 0, after bias,
// on every path of the GEMM (tiled, few columns, packed A times few columns).
TEST(Ops, GemmEpilogueGatesByARelusOutput) {
    LevelGuard guard;
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> d(-1, 1);
    for (CpuLevel level : supported_levels()) {
        set_cpu_level(level);
        for (auto [m, k] : {std::pair<int64_t, int64_t>{53, 100}, {8, 9}, {13, 40}})
        for (int64_t n : {1, 3, 40})
            for (bool pre_packed : {false, true}) {
                const int64_t ldgate = m + 3;
                std::vector<float> a(m * k), b(n * k), bias(m), gate(ldgate * n), c(m * n);
                for (auto* v : {&a, &b, &bias, &gate})
                    for (float& x : *v) x = d(rng);
                for (int64_t i = 0; i < m; i += 5) gate[i] = 0.0f;  // exactly 0 gates too
                std::vector<float> packed(kernels().packed_a_floats(m, k));
                kernels().pack_a(a.data(), k, false, m, k, 0, m, packed.data());
                std::vector<uint8_t> ws(kernels().gemm_workspace(m, n, k));
                GemmArgs g{m, n, k, a.data(), k, b.data(), k, c.data(), m, bias.data()};
                g.gate = gate.data();
                g.ldgate = ldgate;
                if (pre_packed) g.a_packed = packed.data();
                kernels().gemm(g, ws.data());
                for (int64_t j = 0; j < n; ++j)
                    for (int64_t i = 0; i < m; ++i) {
                        double ref = bias[i];
                        for (int64_t p = 0; p < k; ++p) ref += double(a[i * k + p]) * b[j * k + p];
                        if (!(gate[j * ldgate + i] > 0.0f)) ref = 0.0;
                        ASSERT_NEAR(c[j * m + i], ref, 1e-4) << cpu_level_name(level) << " m=" << m << " n=" << n << " packed " << pre_packed;
                    }
            }
    }
}

TEST(Ops, MulMatBroadcastsOverBatchDimensions) {
    std::mt19937 rng(3);
    Context w(1 << 20);
    Tensor* a = w.new_tensor(DType::F32, {5, 3, 2});
    Tensor* b = w.new_tensor(DType::F32, {5, 4, 4});
    fill_random(a, rng);
    fill_random(b, rng);
    Context g;
    Tensor* c = mul_mat(g, a, b);
    run(c, 2);
    ASSERT_EQ(c->ne[0], 3);
    ASSERT_EQ(c->ne[1], 4);
    ASSERT_EQ(c->ne[2], 4);
    for (int64_t i2 = 0; i2 < 4; ++i2)
        for (int64_t j = 0; j < 4; ++j)
            for (int64_t i = 0; i < 3; ++i) {
                double ref = 0;
                for (int64_t p = 0; p < 5; ++p)
                    ref += double(*reinterpret_cast<float*>(a->at(p, i, i2 / 2))) * *reinterpret_cast<float*>(b->at(p, j, i2));
                EXPECT_NEAR(*reinterpret_cast<float*>(c->at(i, j, i2)), ref, 1e-5);
            }
}

TEST(Ops, AddBroadcastsEitherSide) {
    std::mt19937 rng(4);
    Context w(1 << 20);
    Tensor* a = w.new_tensor(DType::F32, {7, 1, 3});
    Tensor* b = w.new_tensor(DType::F32, {1, 5, 3});
    Tensor* bias = w.new_tensor(DType::F32, {7});
    fill_random(a, rng);
    fill_random(b, rng);
    fill_random(bias, rng);
    Context g;
    Tensor* c = add(g, add(g, a, b), bias);
    run(c, 3);
    ASSERT_EQ(c->ne[0], 7);
    ASSERT_EQ(c->ne[1], 5);
    ASSERT_EQ(c->ne[2], 3);
    for (int64_t i2 = 0; i2 < 3; ++i2)
        for (int64_t i1 = 0; i1 < 5; ++i1)
            for (int64_t i0 = 0; i0 < 7; ++i0) {
                const float ref = *reinterpret_cast<float*>(a->at(i0, 0, i2)) + *reinterpret_cast<float*>(b->at(0, i1, i2)) +
                                  bias->f32()[i0];
                EXPECT_FLOAT_EQ(*reinterpret_cast<float*>(c->at(i0, i1, i2)), ref);
            }
    Context bad;
    EXPECT_THROW(add(bad, a, w.new_tensor(DType::F32, {6})), Error);
}

TEST(Ops, SoftMaxIsStableForHugeLogits) {
    Context w(1 << 16);
    Tensor* x = w.new_tensor(DType::F32, {4, 3});
    const float rows[3][4] = {{1000.f, 1000.f, -1000.f, 999.f}, {-1e30f, 0.f, 1e30f, 3.f}, {0.1f, 0.2f, 0.3f, 0.4f}};
    for (int r = 0; r < 3; ++r)
        for (int i = 0; i < 4; ++i) x->f32()[r * 4 + i] = rows[r][i];
    Context g;
    Tensor* y = soft_max(g, x);
    run(y, 2);
    for (int r = 0; r < 3; ++r) {
        double mx = -1e300, sum = 0;
        for (int i = 0; i < 4; ++i) mx = std::max(mx, double(rows[r][i]));
        for (int i = 0; i < 4; ++i) sum += std::exp(double(rows[r][i]) - mx);
        for (int i = 0; i < 4; ++i) {
            const float v = y->f32()[r * 4 + i];
            ASSERT_TRUE(std::isfinite(v));
            EXPECT_NEAR(v, std::exp(double(rows[r][i]) - mx) / sum, 1e-6);
        }
    }
}

TEST(Ops, ArgmaxPicksFirstLargest) {
    Context w(1 << 16);
    Tensor* x = w.new_tensor(DType::F32, {3, 4});
    const float v[12] = {1, 5, 5, 9, 0, -1, -3, -2, -1, 0, 0, 0};
    std::copy(v, v + 12, x->f32());
    Context g;
    Tensor* am = argmax(g, x);
    run(am, 2);
    ASSERT_EQ(am->type, DType::I32);
    const int32_t* r = static_cast<int32_t*>(am->data);
    EXPECT_EQ(r[0], 1);
    EXPECT_EQ(r[1], 0);
    EXPECT_EQ(r[2], 2);
    EXPECT_EQ(r[3], 0);
}

TEST(Ops, PermuteContReshapeAndViewMoveTheRightElements) {
    std::mt19937 rng(5);
    Context w(1 << 16);
    Tensor* x = w.new_tensor(DType::F32, {2, 3, 4, 5});
    fill_random(x, rng);
    Context g;
    // Dimension i of x goes to position axes[i].
    Tensor* p = cont(g, permute(g, x, 2, 0, 3, 1));
    ASSERT_EQ(p->ne[0], 3);
    ASSERT_EQ(p->ne[1], 5);
    ASSERT_EQ(p->ne[2], 2);
    ASSERT_EQ(p->ne[3], 4);
    Tensor* r = reshape(g, p, {15, 8});
    Tensor* v = cont(g, view(g, r, {4, 8}, {r->nb[1]}, 3 * sizeof(float)));
    run(v, 2);
    for (int64_t i0 = 0; i0 < 2; ++i0)
        for (int64_t i1 = 0; i1 < 3; ++i1)
            for (int64_t i2 = 0; i2 < 4; ++i2)
                for (int64_t i3 = 0; i3 < 5; ++i3)
                    EXPECT_EQ(*reinterpret_cast<float*>(p->at(i1, i3, i0, i2)), *reinterpret_cast<float*>(x->at(i0, i1, i2, i3)));
    for (int64_t row = 0; row < 8; ++row)
        for (int64_t i = 0; i < 4; ++i) EXPECT_EQ(v->f32()[row * 4 + i], p->f32()[row * 15 + 3 + i]);
    EXPECT_THROW(reshape(g, permute(g, x, 1, 0, 2, 3), {6, 20}), Error);
    EXPECT_THROW(reshape(g, x, {7, 7}), Error);
}

TEST(Ops, AllocatorReusesMemoryWithoutCorruptingLiveValues) {
    // A long chain where each step reads the previous value and the original input: the
    // allocator must recycle dead activations and never hand out memory that is still read.
    std::mt19937 rng(6);
    Context w(1 << 20);
    Tensor* x = w.new_tensor(DType::F32, {1000});
    fill_random(x, rng);
    Context g;
    Tensor* cur = x;
    const int steps = 50;
    for (int i = 0; i < steps; ++i) cur = relu(g, add(g, cur, x));
    cur->flags |= kFlagOutput;
    Graph graph;
    graph.build_forward(cur);
    GraphAllocator alloc;
    alloc.allocate(graph);
    EXPECT_LE(alloc.buffer_bytes(), 3 * 4096u);  // far less than the 100 activations of 4000 bytes
    Executor(2).compute(graph);
    for (int64_t i = 0; i < 1000; ++i) {
        double ref = x->f32()[i];
        double c = ref;
        for (int s = 0; s < steps; ++s) c = std::max(0.0, c + ref);
        EXPECT_NEAR(cur->f32()[i], c, 1e-3);
    }
}

}  // namespace
}  // namespace mn

namespace mn {
namespace {

// A packed once by pack_a gives the same product as A packed inside every GEMM call, for both
// register tiles, odd sizes, and transposed A.
TEST(Ops, PrePackedWeightsGiveTheSameProduct) {
    LevelGuard guard;
    std::mt19937 rng(9);
    std::uniform_real_distribution<float> d(-1, 1);
    for (CpuLevel level : supported_levels()) {
        set_cpu_level(level);
        for (int64_t m : {1, 8, 10, 16, 33, 500})
            for (int64_t k : {7, 72, 300, 784})
                for (bool trans : {false, true}) {
                    const int64_t n = 37;
                    std::vector<float> a(m * k), b(n * k), bias(m);
                    for (auto* v : {&a, &b, &bias})
                        for (float& x : *v) x = d(rng);
                    std::vector<float> packed(kernels().packed_a_floats(m, k));
                    // In two calls, as two threads share it.
                    const int64_t grain = kernels().pack_a_grain(m), half = (m / 2 + grain - 1) / grain * grain;
                    kernels().pack_a(a.data(), trans ? m : k, trans, m, k, 0, std::min(half, m), packed.data());
                    kernels().pack_a(a.data(), trans ? m : k, trans, m, k, std::min(half, m), m, packed.data());
                    std::vector<uint8_t> ws(kernels().gemm_workspace(m, n, k));
                    std::vector<float> c1(m * n), c2(m * n);
                    GemmArgs g{m, n, k, a.data(), trans ? m : k, b.data(), k, c1.data(), m, bias.data(), true, trans};
                    kernels().gemm(g, ws.data());
                    g.c = c2.data();
                    g.a_packed = packed.data();
                    kernels().gemm(g, ws.data());
                    ASSERT_EQ(c1, c2) << cpu_level_name(level) << " m=" << m << " k=" << k << " trans=" << trans;
                }
    }
}

}  // namespace
}  // namespace mn

namespace mn {
namespace {

// A bias gradient: sum_to [C] of a dense [C, W, H, N] tensor, summed in two phases across threads
// (per-thread partial sums, then their sum), against a double reference on every level.
TEST(Ops, SumToColumnsMatchesReferenceOnEveryLevel) {
    test::LevelGuard guard;
    std::mt19937 rng(9);
    for (CpuLevel level : test::supported_levels()) {
        set_cpu_level(level);
        for (int64_t c : {1, 5, 8, 16, 24, 64})
            for (int threads : {1, 2, 3}) {
                Context w(1 << 22);
                Tensor* a = w.new_tensor(DType::F32, {c, 13, 11, 7});
                fill_random(a, rng);
                const int64_t like[kMaxDims] = {c, 1, 1, 1};
                Context g;
                Tensor* s = sum_to(g, a, like);
                run(s, threads);
                for (int64_t i = 0; i < c; ++i) {
                    double ref = 0;
                    for (int64_t r = 0; r < a->nelements() / c; ++r) ref += a->f32()[r * c + i];
                    ASSERT_NEAR(s->f32()[i], ref, 1e-4) << cpu_level_name(level) << " c=" << c << " threads " << threads;
                }
            }
    }
}

}  // namespace
}  // namespace mn

namespace mn {
namespace {

// A few columns (one image) times a packed A, whole or split by rows between two calls as two
// threads split it, against a double reference, with bias and relu, on every level.
TEST(Ops, PackedGemvMatchesReferenceOnEveryLevel) {
    test::LevelGuard guard;
    std::mt19937 rng(12);
    std::uniform_real_distribution<float> d(-1, 1);
    for (CpuLevel level : test::supported_levels()) {
        set_cpu_level(level);
        const KernelTable& kt = kernels();
        for (int64_t m : {1, 10, 16, 33, 100, 500})
            for (int64_t k : {7, 300, 784})
                for (int64_t n : {1, 3}) {
                    std::vector<float> a(m * k), b(n * k), bias(m);
                    for (auto* v : {&a, &b, &bias})
                        for (float& x : *v) x = d(rng);
                    std::vector<float> packed(kt.packed_a_floats(m, k));
                    kt.pack_a(a.data(), k, false, m, k, 0, m, packed.data());
                    const int64_t grain = kt.pack_a_grain(m);
                    const int64_t split = std::min(m, (m / 2 + grain - 1) / grain * grain);
                    std::vector<float> c(m * n, NAN);
                    std::vector<uint8_t> ws(kt.gemm_workspace(m, n, k));
                    for (auto [r0, r1] : {std::pair<int64_t, int64_t>{0, split}, {split, m}}) {
                        if (r0 == r1) continue;
                        GemmArgs g{r1 - r0, n, k, a.data() + r0 * k, k, b.data(), k, c.data() + r0, m, bias.data() + r0, true};
                        g.a_packed = packed.data();
                        g.a_packed_m = m;
                        g.a_packed_row = r0;
                        kt.gemm(g, ws.data());
                    }
                    for (int64_t j = 0; j < n; ++j)
                        for (int64_t i = 0; i < m; ++i) {
                            double ref = bias[i];
                            for (int64_t p = 0; p < k; ++p) ref += double(a[i * k + p]) * b[j * k + p];
                            ASSERT_NEAR(c[j * m + i], std::max(ref, 0.0), 1e-4 * (1 + std::sqrt(double(k))))
                                << cpu_level_name(level) << " m=" << m << " k=" << k << " n=" << n;
                        }
                }
    }
}

}  // namespace
}  // namespace mn
