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

// y(i, ox, oy, n) of a stride-1 convolution with weights a(i, c + C*(kx + K*ky)), in double.
std::vector<double> reference_conv(const ConvCase& cc, const std::vector<float>& x, const std::vector<float>& a,
                                   const std::vector<float>& bias, bool relu, int64_t ow, int64_t oh) {
    const int64_t k = cc.c * cc.k * cc.k;
    std::vector<double> y(static_cast<size_t>(cc.m * ow * oh * cc.n));
    for (int64_t n = 0; n < cc.n; ++n)
        for (int64_t oy = 0; oy < oh; ++oy)
            for (int64_t ox = 0; ox < ow; ++ox)
                for (int64_t i = 0; i < cc.m; ++i) {
                    double s = bias[i];
                    for (int ky = 0; ky < cc.k; ++ky)
                        for (int kx = 0; kx < cc.k; ++kx) {
                            const int64_t ix = ox + kx - cc.pad, iy = oy + ky - cc.pad;
                            if (ix < 0 || ix >= cc.w || iy < 0 || iy >= cc.h) continue;
                            for (int64_t c = 0; c < cc.c; ++c)
                                s += double(a[i * k + c + cc.c * (kx + cc.k * ky)]) *
                                     x[((n * cc.h + iy) * cc.w + ix) * cc.c + c];
                        }
                    y[((n * oh + oy) * ow + ox) * cc.m + i] = relu && s < 0 ? 0.0 : s;
                }
    return y;
}

TEST(ConvKernels, DirectConvolutionMatchesReferenceOnEveryLevel) {
    LevelGuard guard;
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> u(-1, 1);
    const ConvCase cases[] = {
        {1, 28, 28, 2, 8, 3, 1},    // ggml's small CNN, first layer
        {8, 14, 14, 2, 16, 3, 1},   // and second
        {1, 28, 28, 2, 32, 3, 0},   // the seeds' CNN, first layer
        {32, 13, 13, 2, 64, 3, 0},  // and second
        {3, 31, 5, 3, 24, 3, 1},    // a row of 31 pixels; 24 channels = 3 half vectors
        {5, 4, 6, 2, 48, 3, 0},     // rows narrower than any tile
        {2, 9, 9, 1, 8, 5, 2},      // 5x5 kernel, padding 2
        {7, 33, 3, 2, 16, 1, 0},    // 1x1 kernel
    };
    for (CpuLevel level : supported_levels()) {
        set_cpu_level(level);
        const KernelTable& kt = kernels();
        for (const ConvCase& cc : cases) {
            ASSERT_TRUE(kt.conv_supported(cc.m)) << cpu_level_name(level) << " m=" << cc.m;
            const int64_t k = cc.c * cc.k * cc.k, ow = cc.w + 2 * cc.pad - cc.k + 1, oh = cc.h + 2 * cc.pad - cc.k + 1;
            std::vector<float> x(static_cast<size_t>(cc.c * cc.w * cc.h * cc.n)), a(static_cast<size_t>(cc.m * k)),
                bias(static_cast<size_t>(cc.m));
            for (auto* v : {&x, &a, &bias})
                for (float& f : *v) f = u(rng);
            ConvGather g;
            g.x = x.data();
            g.c = cc.c;
            g.w = cc.w;
            g.h = cc.h;
            g.sx = cc.c;
            g.sy = cc.c * cc.w;
            g.sn = cc.c * cc.w * cc.h;
            g.ow = ow;
            g.oh = oh;
            g.kw = g.kh = cc.k;
            g.pad = cc.pad;
            for (int variant = 0; variant < 3; ++variant) {  // plain; weights packed ahead; transposed A, no relu
                const bool relu = variant != 2;
                const std::vector<double> want = reference_conv(cc, x, a, bias, relu, ow, oh);
                std::vector<float> a_t(a.size()), packed(kt.conv_packed_a_floats(cc.m, k));
                for (int64_t i = 0; i < cc.m; ++i)
                    for (int64_t p = 0; p < k; ++p) a_t[p * cc.m + i] = a[i * k + p];
                ConvArgs args;
                args.in = g;
                args.m = cc.m;
                args.a = variant == 2 ? a_t.data() : a.data();
                args.lda = variant == 2 ? cc.m : k;
                args.a_trans = variant == 2;
                if (variant == 1) {
                    kt.pack_conv_a(a.data(), k, false, cc.m, k, packed.data());
                    args.a_packed = packed.data();
                }
                std::vector<float> y(want.size(), NAN);
                args.y = y.data();
                args.ldy = cc.m;
                args.bias = bias.data();
                args.relu = relu;
                std::vector<char> ws(kt.conv_workspace(g, cc.m));
                // Two calls splitting the rows unevenly, as two threads would.
                const int64_t rows = oh * cc.n, split = rows / 3;
                for (auto [b, e] : {std::pair<int64_t, int64_t>{0, split}, {split, rows}}) {
                    args.row_begin = b;
                    args.row_end = e;
                    kt.conv(args, ws.data());
                }
                for (size_t i = 0; i < want.size(); ++i)
                    ASSERT_NEAR(y[i], want[i], 1e-4 * (1 + std::sqrt(double(k))))
                        << cpu_level_name(level) << " c=" << cc.c << " w=" << cc.w << " m=" << cc.m << " variant "
                        << variant << " at " << i;
            }
        }
    }
}

TEST(ConvKernels, DirectConvolutionDeclinesChannelCountsItCannotTile) {
    for (CpuLevel level : supported_levels()) {
        const KernelTable& t = level == CpuLevel::Scalar ? kernels_scalar::table()
                               : level == CpuLevel::Avx2 ? kernels_avx2::table()
                                                         : kernels_avx512::table();
        EXPECT_FALSE(t.conv_supported(0));
        EXPECT_TRUE(t.conv_supported(16));
        EXPECT_EQ(t.conv_supported(5), level == CpuLevel::Scalar) << cpu_level_name(level);
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

}  // namespace
}  // namespace mn
