// The GEMM skips steps of the depth where a packed panel of A or B is all zero
// (kernels/zero_mask_impl.h). Products of mostly-zero operands, shaped like MNIST images and relu
// outputs, against a double reference on every level: through mul_mat (packing, threads) and
// through a packed A times one column (the single-image path).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "engine/allocator.h"
#include "engine/executor.h"
#include "engine/ops.h"
#include "kernels/kernels.h"
#include "test_support.h"

namespace mn {
namespace {

// Values in [-1, 1]; whole steps p (a pixel in every image) are zero with probability
// zero_steps, single values with probability zero_values, and some zeros are -0.0.
std::vector<float> sparse_values(int64_t rows, int64_t k, double zero_steps, double zero_values, std::mt19937& rng) {
    std::uniform_real_distribution<float> d(-1, 1);
    std::bernoulli_distribution step_zero(zero_steps), value_zero(zero_values), negative(0.3);
    std::vector<bool> blank(static_cast<size_t>(k));
    for (int64_t p = 0; p < k; ++p) blank[static_cast<size_t>(p)] = step_zero(rng);
    std::vector<float> v(static_cast<size_t>(rows * k));
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t p = 0; p < k; ++p) {
            const bool zero = blank[static_cast<size_t>(p)] || value_zero(rng);
            v[static_cast<size_t>(r * k + p)] = zero ? (negative(rng) ? -0.0f : 0.0f) : d(rng);
        }
    return v;
}

// c(i, j) = sum_p a(i, p) b(j, p), rows of k values.
double reference(const std::vector<float>& a, const std::vector<float>& b, int64_t k, int64_t i, int64_t j) {
    double s = 0;
    for (int64_t p = 0; p < k; ++p) s += double(a[static_cast<size_t>(i * k + p)]) * b[static_cast<size_t>(j * k + p)];
    return s;
}

struct Sparsity {
    double steps, values;
};
const Sparsity kPatterns[] = {{0, 0}, {0.5, 0}, {0.2, 0.75}, {0.9, 0.5}, {1, 0}};

TEST(ZeroSkipping, SparseOperandsMatchReferenceOnEveryLevel) {
    test::LevelGuard guard;
    std::mt19937 rng(21);
    struct Shape {
        int64_t m, n, k;
    };
    for (CpuLevel level : test::supported_levels()) {
        set_cpu_level(level);
        for (Shape s : {Shape{33, 37, 300}, Shape{500, 40, 784}, Shape{8, 100, 72}, Shape{100, 24, 1000}})
            for (const Sparsity& sa : kPatterns)
                for (const Sparsity& sb : kPatterns) {
                    // Either A or B sparse, or both: weights and images, or images and gradients.
                    if (sa.steps > 0 && sb.steps > 0 && sa.steps != sb.steps) continue;
                    const auto av = sparse_values(s.m, s.k, sa.steps, sa.values, rng);
                    const auto bv = sparse_values(s.n, s.k, sb.steps, sb.values, rng);
                    Context w(size_t(4 * (av.size() + bv.size())) + 4096);
                    Tensor* a = w.new_tensor(DType::F32, {s.k, s.m});
                    Tensor* b = w.new_tensor(DType::F32, {s.k, s.n});
                    std::copy(av.begin(), av.end(), a->f32());
                    std::copy(bv.begin(), bv.end(), b->f32());
                    for (int threads : {1, 2}) {
                        Context g;
                        Tensor* c = mul_mat(g, a, b);
                        c->flags |= kFlagOutput;
                        Graph graph;
                        graph.build_forward(c);
                        GraphAllocator alloc;
                        alloc.allocate(graph);
                        Executor(threads).compute(graph);
                        for (int64_t j = 0; j < s.n; ++j)
                            for (int64_t i = 0; i < s.m; ++i)
                                ASSERT_NEAR(c->f32()[j * s.m + i], reference(av, bv, s.k, i, j), 1e-4 * std::sqrt(double(s.k)))
                                    << cpu_level_name(level) << " m=" << s.m << " n=" << s.n << " k=" << s.k
                                    << " zero steps of A " << sa.steps << ", of B " << sb.steps << ", threads " << threads;
                    }
                }
    }
}

// Image-like columns times packed weights, with bias and relu, on every level, over depths of
// one k block and of several (784: partial sums kept in C, whose old values are ignored). One
// column is the single-image path; a batch of 100 sparse columns goes column by column where
// that pays (levels without FMA: gemm_impl.h, columns_apart_pay), else through the tile.
TEST(ZeroSkipping, SparseColumnsTimesPackedWeightsMatchReference) {
    test::LevelGuard guard;
    std::mt19937 rng(22);
    std::uniform_real_distribution<float> d(-1, 1);
    for (CpuLevel level : test::supported_levels()) {
        set_cpu_level(level);
        const KernelTable& kt = kernels();
        for (int64_t m : {10, 33, 500})
            for (int64_t k : {7, 300, 784})
                for (int64_t n : {1, 100})
                for (const Sparsity& sb : kPatterns) {
                    if (n > 1 && m * k > 33 * 784 && sb.values == 0) continue;  // (time: dense, or alike in every column)
                    std::vector<float> a(static_cast<size_t>(m * k)), bias(static_cast<size_t>(m));
                    for (auto* v : {&a, &bias})
                        for (float& x : *v) x = d(rng);
                    const auto b = sparse_values(n, k, sb.steps, sb.values, rng);
                    std::vector<float> packed(kt.packed_a_floats(m, k));
                    kt.pack_a(a.data(), k, false, m, k, 0, m, packed.data());
                    std::vector<float> c(static_cast<size_t>(m * n), NAN);
                    std::vector<uint8_t> ws(kt.gemm_workspace(m, n, k));
                    GemmArgs g{m, n, k, a.data(), k, b.data(), k, c.data(), m, bias.data(), true};
                    g.a_packed = packed.data();
                    kt.gemm(g, ws.data());
                    for (int64_t j = 0; j < n; ++j)
                        for (int64_t i = 0; i < m; ++i)
                            ASSERT_NEAR(c[static_cast<size_t>(j * m + i)],
                                        std::max(bias[static_cast<size_t>(i)] + reference(a, b, k, i, j), 0.0),
                                        1e-4 * std::sqrt(double(k)))
                                << cpu_level_name(level) << " m=" << m << " n=" << n << " k=" << k << " zero steps "
                                << sb.steps << " zero values " << sb.values;
                }
    }
}

// A NaN among zeros is not skipped: it reaches every output it touches, on both paths.
TEST(ZeroSkipping, NaNAmongZerosStillPropagates) {
    test::LevelGuard guard;
    for (CpuLevel level : test::supported_levels()) {
        set_cpu_level(level);
        const KernelTable& kt = kernels();
        const int64_t m = 50, k = 300;
        for (int64_t n : {1, 20}) {
            std::vector<float> a(static_cast<size_t>(m * k), 0.5f), b(static_cast<size_t>(n * k), 0.0f);
            b[static_cast<size_t>(k - 1)] = NAN;  // column 0, last step
            std::vector<float> packed(kt.packed_a_floats(m, k));
            kt.pack_a(a.data(), k, false, m, k, 0, m, packed.data());
            for (bool pre_packed : {false, true}) {
                std::vector<float> c(static_cast<size_t>(m * n), 1.0f);
                std::vector<uint8_t> ws(kt.gemm_workspace(m, n, k));
                GemmArgs g{m, n, k, a.data(), k, b.data(), k, c.data(), m};
                if (pre_packed) g.a_packed = packed.data();
                kt.gemm(g, ws.data());
                for (int64_t i = 0; i < m; ++i) {
                    ASSERT_TRUE(std::isnan(c[static_cast<size_t>(i)])) << cpu_level_name(level) << " n=" << n;
                    for (int64_t j = 1; j < n; ++j) ASSERT_EQ(c[static_cast<size_t>(j * m + i)], 0.0f);
                }
            }
        }
    }
}

}  // namespace
}  // namespace mn
