// The direct convolution and max-pooling kernels against naive double-precision references, on
// every SIMD level this CPU runs, at the models' shapes and at odd ones (widths that split into
// uneven register tiles, rows narrower than a tile, channel counts of half a vector, padding 2).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/kernels.h"
#include "test_support.h"

namespace mn {
namespace {

using test::LevelGuard;
using test::supported_levels;

struct ConvCase {
    int64_t c, w, h, n, m;
    int k, pad;
};

// The models' layers and odd shapes: rows that split into uneven register tiles, rows narrower
// than any tile, channel counts of half a vector or of no vector at all, 5x5 and 1x1 kernels.
const ConvCase kCases[] = {
    {1, 28, 28, 2, 8, 3, 1},    // ggml's small CNN, first layer
    {8, 14, 14, 2, 16, 3, 1},   // and second
    {1, 28, 28, 2, 32, 3, 0},   // the seeds' CNN, first layer
    {32, 13, 13, 2, 64, 3, 0},  // and second
    {3, 31, 5, 3, 24, 3, 1},    // a row of 31 pixels; 24 channels = 3 half vectors
    {5, 4, 6, 2, 48, 3, 0},     // rows narrower than any tile
    {2, 9, 9, 1, 5, 5, 2},      // 5x5 kernel, padding 2, 5 channels (no vector divides them)
    {7, 33, 3, 2, 16, 1, 0},    // 1x1 kernel
};

struct ConvData {
    ConvCase cc;
    int64_t ow, oh;
    std::vector<float> x, kernel, bias, dy;  // kernel in ggml's layout [K, K, C, M]
    float w(int kx, int ky, int64_t c, int64_t o) const { return kernel[((o * cc.c + c) * cc.k + ky) * cc.k + kx]; }
    float at(const std::vector<float>& img, int64_t ch, int64_t channels, int64_t x0, int64_t y0, int64_t n, int64_t wd,
             int64_t ht) const {
        if (x0 < 0 || x0 >= wd || y0 < 0 || y0 >= ht) return 0.0f;
        return img[((n * ht + y0) * wd + x0) * channels + ch];
    }
    // The reference convolution (with bias) at output (o, ox, oy, n), in double.
    double conv_at(int64_t n, int64_t ox, int64_t oy, int64_t o) const {
        double s = bias[o];
        for (int ky = 0; ky < cc.k; ++ky)
            for (int kx = 0; kx < cc.k; ++kx)
                for (int64_t c = 0; c < cc.c; ++c)
                    s += double(w(kx, ky, c, o)) * at(x, c, cc.c, ox + kx - cc.pad, oy + ky - cc.pad, n, cc.w, cc.h);
        return s;
    }
    // The reference max over the pool x pool window at pooled pixel (px, py), clamped at 0 with relu.
    double pooled_at(int64_t n, int64_t px, int64_t py, int64_t o, int pool, bool relu) const {
        double best = -1e30;
        for (int wy = 0; wy < pool; ++wy)
            for (int wx = 0; wx < pool; ++wx) best = std::max(best, conv_at(n, px * pool + wx, py * pool + wy, o));
        return relu ? std::max(best, 0.0) : best;
    }
};

ConvData make_data(const ConvCase& cc, std::mt19937& rng) {
    std::uniform_real_distribution<float> u(-1, 1);
    ConvData d{cc, cc.w + 2 * cc.pad - cc.k + 1, cc.h + 2 * cc.pad - cc.k + 1, {}, {}, {}, {}};
    d.x.resize(static_cast<size_t>(cc.c * cc.w * cc.h * cc.n));
    d.kernel.resize(static_cast<size_t>(cc.k * cc.k * cc.c * cc.m));
    d.bias.resize(static_cast<size_t>(cc.m));
    d.dy.resize(static_cast<size_t>(cc.m * d.ow * d.oh * cc.n));
    for (auto* v : {&d.x, &d.kernel, &d.bias, &d.dy})
        for (float& f : *v) f = u(rng);
    return d;
}

// A dense [C, W, H, N] image read by a k x k kernel at stride 1.
ConvGather gather(const float* x, int64_t c, int64_t w, int64_t h, int64_t ow, int64_t oh, int k, int pad) {
    ConvGather g;
    g.x = x;
    g.c = c;
    g.w = w;
    g.h = h;
    g.sx = c;
    g.sy = c * w;
    g.sn = c * w * h;
    g.ow = ow;
    g.oh = oh;
    g.kw = g.kh = k;
    g.pad = pad;
    return g;
}

double tolerance(int64_t depth) { return 1e-4 * (1 + std::sqrt(double(depth))); }

// conv() over rows [0, rows), in two calls splitting them unevenly as two threads would.
void conv_in_two_calls(const KernelTable& kt, ConvArgs args, int64_t rows) {
    std::vector<char> ws(args.winograd ? kt.winograd_workspace(args.in, args.m) : kt.conv_workspace(args.in));
    for (auto [b, e] : {std::pair<int64_t, int64_t>{0, rows / 3}, {rows / 3, rows}}) {
        args.row_begin = b;
        args.row_end = e;
        kt.conv(args, ws.data());
    }
}

TEST(ConvKernels, DirectConvolutionMatchesReferenceOnEveryLevel) {
    LevelGuard guard;
    std::mt19937 rng(3);
    for (CpuLevel level : supported_levels()) {
        set_cpu_level(level);
        const KernelTable& kt = kernels();
        for (const ConvCase& cc : kCases) {
            const ConvData d = make_data(cc, rng);
            std::vector<float> packed(kt.conv_packed_floats(cc.c, cc.m, cc.k, cc.k));
            kt.pack_conv_weights(d.kernel.data(), cc.k, cc.k, cc.c, cc.m, false, packed.data());
            for (bool relu : {false, true}) {
                ConvArgs args;
                args.in = gather(d.x.data(), cc.c, cc.w, cc.h, d.ow, d.oh, cc.k, cc.pad);
                args.m = cc.m;
                args.weights = packed.data();
                std::vector<float> y(static_cast<size_t>(cc.m * d.ow * d.oh * cc.n), NAN);
                args.y = y.data();
                args.ldy = cc.m;
                args.bias = d.bias.data();
                args.relu = relu;
                conv_in_two_calls(kt, args, d.oh * cc.n);
                for (int64_t n = 0; n < cc.n; ++n)
                    for (int64_t oy = 0; oy < d.oh; ++oy)
                        for (int64_t ox = 0; ox < d.ow; ++ox)
                            for (int64_t o = 0; o < cc.m; ++o) {
                                double s = d.conv_at(n, ox, oy, o);
                                if (relu && s < 0) s = 0;
                                ASSERT_NEAR(y[((n * d.oh + oy) * d.ow + ox) * cc.m + o], s, tolerance(cc.c * cc.k * cc.k))
                                    << cpu_level_name(level) << " c=" << cc.c << " w=" << cc.w << " m=" << cc.m;
                            }
            }
        }
    }
}

// With pool = 2 (and 3), the kernel max-pools its conv rows as it goes: the result must be the
// reference convolution (bias, relu) followed by max pooling with disjoint windows, the rows
// and columns past the last whole window dropped.
TEST(ConvKernels, PoolingConvolutionMatchesConvolutionThenPoolOnEveryLevel) {
    LevelGuard guard;
    std::mt19937 rng(4);
    for (CpuLevel level : supported_levels()) {
        set_cpu_level(level);
        const KernelTable& kt = kernels();
        for (const ConvCase& cc : kCases)
            for (int pool : {2, 3}) {
                const ConvData d = make_data(cc, rng);
                const int64_t pw = d.ow / pool, ph = d.oh / pool;
                if (pw < 1 || ph < 1) continue;
                std::vector<float> packed(kt.conv_packed_floats(cc.c, cc.m, cc.k, cc.k));
                kt.pack_conv_weights(d.kernel.data(), cc.k, cc.k, cc.c, cc.m, false, packed.data());
                ConvArgs args;
                args.in = gather(d.x.data(), cc.c, cc.w, cc.h, d.ow, d.oh, cc.k, cc.pad);
                args.m = cc.m;
                args.weights = packed.data();
                std::vector<float> y(static_cast<size_t>(cc.m * pw * ph * cc.n), NAN), scratch(size_t(pool * d.ow * cc.m));
                args.y = y.data();
                args.ldy = cc.m;
                args.bias = d.bias.data();
                args.relu = true;
                args.pool = pool;
                args.scratch = scratch.data();
                conv_in_two_calls(kt, args, ph * cc.n);
                for (int64_t n = 0; n < cc.n; ++n)
                    for (int64_t py = 0; py < ph; ++py)
                        for (int64_t px = 0; px < pw; ++px)
                            for (int64_t o = 0; o < cc.m; ++o) {
                                ASSERT_NEAR(y[((n * ph + py) * pw + px) * cc.m + o], d.pooled_at(n, px, py, o, pool, true),
                                            tolerance(cc.c * cc.k * cc.k))
                                    << cpu_level_name(level) << " c=" << cc.c << " w=" << cc.w << " m=" << cc.m
                                    << " pool=" << pool;
                            }
            }
    }
}

// The Winograd kernel (3x3, pool 2, inference) against the same reference: the models' layers
// that suit it, odd widths (the last conv column and row dropped by the pooling), padding, channel
// counts of no whole vector, blocks of tiles that span rows, and more tiles than one block holds.
TEST(ConvKernels, WinogradConvolutionMatchesConvolutionThenPoolOnEveryLevel) {
    const ConvCase cases[] = {
        {8, 14, 14, 2, 16, 3, 1},   // ggml's small CNN, second layer
        {32, 13, 13, 2, 64, 3, 0},  // the seeds' CNN, second layer
        {5, 10, 7, 3, 12, 3, 0},    // 5 channels in, 12 out
        {4, 9, 12, 1, 6, 3, 1},     // 6 channels out: no vector of 4 or more divides them
        {7, 33, 21, 2, 24, 3, 1},   // 16 x 10 tiles per image: several blocks
    };
    LevelGuard guard;
    std::mt19937 rng(5);
    for (CpuLevel level : supported_levels()) {
        set_cpu_level(level);
        const KernelTable& kt = kernels();
        for (const ConvCase& cc : cases) {
            const ConvData d = make_data(cc, rng);
            const int64_t pw = d.ow / 2, ph = d.oh / 2;
            std::vector<float> packed(kt.winograd_packed_floats(cc.c, cc.m));
            kt.pack_winograd_weights(d.kernel.data(), cc.c, cc.m, packed.data());
            for (bool relu : {false, true}) {
                ConvArgs args;
                args.in = gather(d.x.data(), cc.c, cc.w, cc.h, d.ow, d.oh, cc.k, cc.pad);
                args.m = cc.m;
                args.winograd = packed.data();
                std::vector<float> y(static_cast<size_t>(cc.m * pw * ph * cc.n), NAN);
                args.y = y.data();
                args.ldy = cc.m;
                args.bias = d.bias.data();
                args.relu = relu;
                args.pool = 2;
                conv_in_two_calls(kt, args, ph * cc.n);
                for (int64_t n = 0; n < cc.n; ++n)
                    for (int64_t py = 0; py < ph; ++py)
                        for (int64_t px = 0; px < pw; ++px)
                            for (int64_t o = 0; o < cc.m; ++o) {
                                ASSERT_NEAR(y[((n * ph + py) * pw + px) * cc.m + o], d.pooled_at(n, px, py, o, 2, relu),
                                            tolerance(cc.c * cc.k * cc.k))
                                    << cpu_level_name(level) << " c=" << cc.c << " w=" << cc.w << " m=" << cc.m;
                            }
            }
        }
    }
}

// The input's gradient: dx(c, x, y) = sum over o, kx, ky of w(kx, ky, c, o) * dy(o, x+pad-kx, y+pad-ky),
// computed by conv() on dy with the flipped kernel.
// Where inference runs Winograd: the seeds' second layer (32 -> 64) on every level; never a
// kernel other than 3x3, a pooling other than 2, one input channel (the first layers), or one
// vector of output channels (ggml's 8 -> 16 under AVX-512, where it measured slower).
TEST(ConvKernels, WinogradSuitsThreeByThreeLayersWithTwoVectorsOfOutputsOrMore) {
    LevelGuard guard;
    for (CpuLevel level : supported_levels()) {
        set_cpu_level(level);
        const KernelTable& kt = kernels();
        EXPECT_TRUE(kt.winograd_suits(3, 3, 32, 64, 2)) << cpu_level_name(level);
        EXPECT_FALSE(kt.winograd_suits(5, 5, 32, 64, 2)) << cpu_level_name(level);
        EXPECT_FALSE(kt.winograd_suits(3, 3, 32, 64, 3)) << cpu_level_name(level);
        EXPECT_FALSE(kt.winograd_suits(3, 3, 32, 64, 0)) << cpu_level_name(level);
        EXPECT_FALSE(kt.winograd_suits(3, 3, 1, 64, 2)) << cpu_level_name(level);
        if (level == CpuLevel::Avx512) EXPECT_FALSE(kt.winograd_suits(3, 3, 8, 16, 2));
        if (level == CpuLevel::Avx2) EXPECT_TRUE(kt.winograd_suits(3, 3, 8, 16, 2));
    }
}

TEST(ConvKernels, FlippedKernelGivesTheInputGradientOnEveryLevel) {
    LevelGuard guard;
    std::mt19937 rng(5);
    for (CpuLevel level : supported_levels()) {
        set_cpu_level(level);
        const KernelTable& kt = kernels();
        for (const ConvCase& cc : kCases) {
            if (cc.pad > cc.k - 1) continue;
            const ConvData d = make_data(cc, rng);
            std::vector<float> packed(kt.conv_packed_floats(cc.c, cc.m, cc.k, cc.k));
            kt.pack_conv_weights(d.kernel.data(), cc.k, cc.k, cc.c, cc.m, true, packed.data());
            ConvArgs args;
            args.in = gather(d.dy.data(), cc.m, d.ow, d.oh, cc.w, cc.h, cc.k, cc.k - 1 - cc.pad);
            args.m = cc.c;
            args.weights = packed.data();
            std::vector<float> dx(d.x.size(), NAN);
            args.y = dx.data();
            args.ldy = cc.c;
            conv_in_two_calls(kt, args, cc.h * cc.n);
            for (int64_t n = 0; n < cc.n; ++n)
                for (int64_t y = 0; y < cc.h; ++y)
                    for (int64_t x = 0; x < cc.w; ++x)
                        for (int64_t c = 0; c < cc.c; ++c) {
                            double s = 0;
                            for (int ky = 0; ky < cc.k; ++ky)
                                for (int kx = 0; kx < cc.k; ++kx)
                                    for (int64_t o = 0; o < cc.m; ++o)
                                        s += double(d.w(kx, ky, c, o)) *
                                             d.at(d.dy, o, cc.m, x + cc.pad - kx, y + cc.pad - ky, n, d.ow, d.oh);
                            ASSERT_NEAR(dx[((n * cc.h + y) * cc.w + x) * cc.c + c], s, tolerance(cc.m * cc.k * cc.k))
                                << cpu_level_name(level) << " c=" << cc.c << " w=" << cc.w << " m=" << cc.m;
                        }
        }
    }
}

// The kernel's gradient, summed over images given in two calls (as two threads' shares).
TEST(ConvKernels, WeightGradientMatchesReferenceOnEveryLevel) {
    LevelGuard guard;
    std::mt19937 rng(7);
    for (CpuLevel level : supported_levels()) {
        set_cpu_level(level);
        const KernelTable& kt = kernels();
        for (const ConvCase& cc : kCases) {
            const ConvData d = make_data(cc, rng);
            const int64_t taps = cc.c * cc.k * cc.k;
            ConvWeightGradArgs args;
            args.in = gather(d.x.data(), cc.c, cc.w, cc.h, d.ow, d.oh, cc.k, cc.pad);
            args.m = cc.m;
            args.dy = d.dy.data();
            std::vector<float> dw(static_cast<size_t>(taps * cc.m), 0.0f);
            args.dw = dw.data();
            std::vector<char> ws(kt.conv_workspace(args.in));
            for (auto [b, e] : {std::pair<int64_t, int64_t>{0, cc.n / 2}, {cc.n / 2, cc.n}}) {
                args.image_begin = b;
                args.image_end = e;
                kt.conv_weight_grad(args, ws.data());
            }
            for (int ky = 0; ky < cc.k; ++ky)
                for (int kx = 0; kx < cc.k; ++kx)
                    for (int64_t c = 0; c < cc.c; ++c)
                        for (int64_t o = 0; o < cc.m; ++o) {
                            double s = 0;
                            for (int64_t n = 0; n < cc.n; ++n)
                                for (int64_t oy = 0; oy < d.oh; ++oy)
                                    for (int64_t ox = 0; ox < d.ow; ++ox)
                                        s += double(d.dy[((n * d.oh + oy) * d.ow + ox) * cc.m + o]) *
                                             d.at(d.x, c, cc.c, ox + kx - cc.pad, oy + ky - cc.pad, n, cc.w, cc.h);
                            ASSERT_NEAR(dw[(c + cc.c * (kx + cc.k * ky)) * cc.m + o], s,
                                        tolerance(d.ow * d.oh * cc.n))
                                << cpu_level_name(level) << " c=" << cc.c << " w=" << cc.w << " m=" << cc.m;
                        }
        }
    }
}

TEST(ConvKernels, MaxPoolRowMatchesReferenceOnEveryLevel) {
    LevelGuard guard;
    std::mt19937 rng(4);
    std::uniform_real_distribution<float> u(-1, 1);
    struct Case {
        int64_t c, w;
        int k, s;
    };
    for (CpuLevel level : supported_levels()) {
        set_cpu_level(level);
        for (const Case& pc : {Case{1, 28, 2, 2}, Case{8, 28, 2, 2}, Case{16, 14, 2, 2}, Case{32, 26, 2, 2},
                               Case{64, 11, 2, 2}, Case{3, 9, 3, 1}, Case{24, 7, 3, 2}}) {
            const int64_t ow = (pc.w - pc.k) / pc.s + 1;
            std::vector<float> x(static_cast<size_t>(pc.c * pc.w * pc.k)), y(static_cast<size_t>(pc.c * ow), NAN);
            for (float& f : x) f = u(rng);
            kernels().max_pool_row(x.data(), pc.w, pc.c, y.data(), ow, pc.k, pc.s);
            for (int64_t ox = 0; ox < ow; ++ox)
                for (int64_t c = 0; c < pc.c; ++c) {
                    float best = -INFINITY;
                    for (int ky = 0; ky < pc.k; ++ky)
                        for (int kx = 0; kx < pc.k; ++kx)
                            best = std::max(best, x[(ky * pc.w + ox * pc.s + kx) * pc.c + c]);
                    ASSERT_EQ(y[ox * pc.c + c], best) << cpu_level_name(level) << " c=" << pc.c << " ox=" << ox;
                }
        }
    }
}

// The gradient of disjoint windows (k == s), k = 2 (the unrolled kernel) and 3: dy at each
// window's first maximum, 0 elsewhere and right of the last window; with positive_only, 0 where
// the maximum is not above 0. Ties are made on purpose (values on a coarse grid).
TEST(ConvKernels, MaxPoolBackwardRowMatchesReferenceOnEveryLevel) {
    LevelGuard guard;
    std::mt19937 rng(5);
    std::uniform_int_distribution<int> grid(-4, 4);
    struct Case {
        int64_t c, w;
        int k;
    };
    for (CpuLevel level : supported_levels()) {
        set_cpu_level(level);
        for (const Case& pc : {Case{1, 28, 2}, Case{8, 27, 2}, Case{16, 14, 2}, Case{32, 26, 2}, Case{3, 10, 3}, Case{24, 7, 3}})
            for (bool positive_only : {false, true}) {
                const int64_t ow = pc.w / pc.k;
                std::vector<float> x(static_cast<size_t>(pc.c * pc.w * pc.k)), dy(static_cast<size_t>(pc.c * ow));
                std::vector<float> dx(x.size(), NAN);
                for (float& f : x) f = 0.25f * float(grid(rng));
                for (float& f : dy) f = 1.0f + float(grid(rng) + 4);
                kernels().max_pool_backward_row(x.data(), pc.w, pc.c, dy.data(), dx.data(), ow, pc.k, positive_only);
                std::vector<float> ref(x.size(), 0.0f);
                for (int64_t ox = 0; ox < ow; ++ox)
                    for (int64_t c = 0; c < pc.c; ++c) {
                        int64_t at = -1;
                        for (int ky = 0; ky < pc.k; ++ky)
                            for (int kx = 0; kx < pc.k; ++kx) {
                                const int64_t i = (ky * pc.w + ox * pc.k + kx) * pc.c + c;
                                if (at < 0 || x[i] > x[at]) at = i;
                            }
                        if (!positive_only || x[at] > 0.0f) ref[at] = dy[ox * pc.c + c];
                    }
                for (size_t i = 0; i < ref.size(); ++i)
                    ASSERT_EQ(dx[i], ref[i]) << cpu_level_name(level) << " c=" << pc.c << " k=" << pc.k << " i=" << i;
            }
    }
}

}  // namespace
}  // namespace mn
