// A 3x3 convolution followed by 2x2 max pooling, in inference, by Winograd's minimal filtering
// F(2x2, 3x3) (Lavin and Gray, 2015); part of kernels_impl.h, after conv_direct_impl.h, whose
// image copy and register tiles it uses.
//
// Each 2x2 block of conv outputs is one pooling window, and comes from a 4x4 patch d of the
// image (per input channel). With g the 3x3 kernel of one (output, input) channel pair:
//   Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A          Y: 2x2, ⊙ elementwise over the 16 positions ξ
//   Bᵀ = | 1  0 -1  0 |    G = | 1    0    0  |    Aᵀ = | 1  1  1  0 |
//        | 0  1  1  0 |        | 1/2  1/2  1/2|         | 0  1 -1 -1 |
//        | 0 -1  1  0 |        | 1/2 -1/2  1/2|
//        | 0  1  0 -1 |        | 0    0    1  |
// Summed over input channels, the 16 products ⊙ become 16 matrix products, one per ξ:
//   M_ξ[tile][o] = sum over c of V_ξ[tile][c] · U_ξ[o][c],   V = Bᵀ d B,  U = G g Gᵀ (packed once)
// which are 1x1 convolutions over a row of tiles, run by the direct convolution's register
// tiles. 16 · C · M multiplies per window instead of 36 · C · M: 2.25x fewer, for two cheap
// transforms (additions only) whose cost is over C and M, not over C · M. The pooled value is
// relu(max of Y + bias): bias is per channel and relu is monotone, so both commute with max.

// Whether a convolution suits this kernel: 3x3, followed by 2x2 max pooling (each 2x2 tile of
// outputs is one pooling window), 4 channels in or more, and two vectors of channels out or more.
// The last is measured (bench_kernels' BM_conv_pool, Zen 5, one thread, 2026-12-03): with one
// vector (8 -> 16 channels under AVX-512) the 16 products, of depth 8 and one vector wide, do not
// pay for the transforms (1.38 ms against the direct kernel's 1.30); with two (the same layer
// under AVX2: 1.70 against 2.20; 16 -> 32 under AVX-512: 3.04 against 4.00) or more (the seeds'
// 32 -> 64: 1.23 against 2.19) they do.
bool winograd_suits(int kw, int kh, int64_t c, int64_t m, int pool) {
    return kw == 3 && kh == 3 && pool == 2 && c >= 4 && m >= 2 * W;
}

// Transformed weights: 16 matrices [m x c], each packed as the kernel of a 1x1 convolution
// (pack_conv_weights: panels of MR output channels over the depth c).
size_t winograd_packed_floats(int64_t c, int64_t m) { return static_cast<size_t>(16 * c * m); }

void pack_winograd_weights(const float* kernel, int64_t c, int64_t m, float* dst) {
    static constexpr double G[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
    const int mr = conv_shape(m).mr();
    for (int64_t o = 0; o < m; ++o)
        for (int64_t ch = 0; ch < c; ++ch) {
            const float* g = kernel + (o * c + ch) * 9;  // ggml's [3, 3, C, M]: g[ky * 3 + kx]
            double gk[4][3];  // G g: 4 x 3
            for (int i = 0; i < 4; ++i)
                for (int kx = 0; kx < 3; ++kx)
                    gk[i][kx] = G[i][0] * g[kx] + G[i][1] * g[3 + kx] + G[i][2] * g[6 + kx];
            for (int i = 0; i < 4; ++i)
                for (int j = 0; j < 4; ++j) {
                    const double u = gk[i][0] * G[j][0] + gk[i][1] * G[j][1] + gk[i][2] * G[j][2];
                    dst[(i * 4 + j) * m * c + (o / mr) * mr * c + ch * mr + o % mr] = static_cast<float>(u);
                }
        }
}

namespace winograd {

// Tiles transformed together: V and M of a block stay in half of L2 (16 · tiles · (c + m) floats).
int64_t block_tiles(int64_t c, int64_t m) {
    const int64_t fit = cpu_caches().l2 / 2 / (16 * (c + m) * int64_t(sizeof(float)));
    return std::clamp<int64_t>(fit, 4, 64);
}

// f.operator()<VW>(i) over channels [i, n) in vectors of the level's width W, then of halves of
// it down to 4 floats, then one float at a time: 8 channels under AVX-512 still go 8 at once.
template <int VW = W, class F>
inline void over_channels(int64_t n, F&& f, int64_t i = 0) {
    for (; i + VW <= n; i += VW) f.template operator()<VW>(i);
    if constexpr (VW > 4)
        over_channels<VW / 2>(n, f, i);
    else if constexpr (VW > 1)
        for (; i < n; ++i) f.template operator()<1>(i);
}

// V_ξ[tile][i..] = (Bᵀ d B)_ξ for channels [i, i + VW) of the 4x4 patch at p (rows sy apart,
// pixels c apart); v points at V_0[tile][0], the 16 matrices vstride floats apart.
template <int VW>
inline void transform_patch(const float* p, int64_t sy, int64_t c, int64_t i, float* v, int64_t vstride) {
    using U = Vec<VW>;
    U t[4][4];
    for (int x = 0; x < 4; ++x) {  // Bᵀ d: along y
        const U d0 = load_vec<VW>(p + x * c + i), d1 = load_vec<VW>(p + sy + x * c + i),
                d2 = load_vec<VW>(p + 2 * sy + x * c + i), d3 = load_vec<VW>(p + 3 * sy + x * c + i);
        t[0][x] = d0 - d2;
        t[1][x] = d1 + d2;
        t[2][x] = d2 - d1;
        t[3][x] = d1 - d3;
    }
    for (int r = 0; r < 4; ++r) {  // (Bᵀ d) B: along x
        float* out = v + r * 4 * vstride + i;
        store_vec<VW>(out, t[r][0] - t[r][2]);
        store_vec<VW>(out + vstride, t[r][1] + t[r][2]);
        store_vec<VW>(out + 2 * vstride, t[r][2] - t[r][1]);
        store_vec<VW>(out + 3 * vstride, t[r][1] - t[r][3]);
    }
}

// The pooled output of channels [o, o + VW) of one tile from its M_ξ (mstride floats apart):
// relu(max over the window of Aᵀ M A + bias).
template <int VW>
inline void pool_tile(const float* mt, int64_t mstride, int64_t o, const float* bias, bool relu, float* y) {
    using U = Vec<VW>;
    U s0[4], s1[4];
    for (int x = 0; x < 4; ++x) {  // Aᵀ M: along y
        const U m0 = load_vec<VW>(mt + x * mstride + o), m1 = load_vec<VW>(mt + (4 + x) * mstride + o),
                m2 = load_vec<VW>(mt + (8 + x) * mstride + o), m3 = load_vec<VW>(mt + (12 + x) * mstride + o);
        s0[x] = m0 + m1 + m2;
        s1[x] = m1 - m2 - m3;
    }
    const U y00 = s0[0] + s0[1] + s0[2], y01 = s0[1] - s0[2] - s0[3];  // (Aᵀ M) A: along x
    const U y10 = s1[0] + s1[1] + s1[2], y11 = s1[1] - s1[2] - s1[3];
    const U top = y00 > y01 ? y00 : y01, bottom = y10 > y11 ? y10 : y11;
    U best = top > bottom ? top : bottom;
    if (bias) best += load_vec<VW>(bias + o);
    if (relu) best = relu_vec<VW>(best);
    store_vec<VW>(y + o, best);
}

}  // namespace winograd

// Scratch for one thread of conv() with args.winograd: the padded image copy (whole cache
// lines, so that V after it stays aligned), V and M of a block.
int64_t winograd_image_floats(const ConvGather& g) { return (static_cast<int64_t>(conv_image_floats(g)) + 15) / 16 * 16; }
size_t winograd_workspace(const ConvGather& g, int64_t m) {
    return static_cast<size_t>(winograd_image_floats(g) + 16 * winograd::block_tiles(g.c, m) * (g.c + m)) * sizeof(float) +
           64;
}

// Pooled rows [row_begin, row_end) of a 3x3 convolution + relu + 2x2 max pooling (args.pool == 2,
// no `pooled`): for each block of tiles of one image, V, the 16 products, then the pooled outputs.
void conv_winograd(const ConvArgs& args, void* workspace) {
    const ConvGather& g = args.in;
    const int64_t c = g.c, m = args.m, pw = g.ow / 2, ph = g.oh / 2;
    const int64_t nt_max = winograd::block_tiles(c, m);
    float* image_ws = aligned_workspace(workspace);
    float* v = image_ws + winograd_image_floats(g);
    float* mx = v + 16 * nt_max * c;
    clear_padding(g, image_ws);

    const ConvShape shape = conv_shape(m);
    const auto tiles = tiles_for<ConvTileKernel>(shape);
    ConvArgs product;  // one ξ: [tiles x c] · [c x m] as a 1x1 convolution over a row of tiles
    product.in.c = c;
    product.in.kw = product.in.kh = 1;
    product.m = m;
    product.ldy = m;

    for (int64_t row = args.row_begin; row < args.row_end;) {
        const int64_t n = row / ph, ty0 = row % ph;
        const int64_t rows_here = std::min(args.row_end - row, ph - ty0);  // this image's rows
        const float* image = nullptr;
        const int64_t sy = conv_image(g, n, image_ws, image);
        const int64_t first = ty0 * pw, last = (ty0 + rows_here) * pw;  // tiles of this image
        for (int64_t t0 = first; t0 < last; t0 += nt_max) {
            const int64_t nt = std::min(nt_max, last - t0);
            for (int64_t j = 0; j < nt; ++j) {
                const int64_t ty = (t0 + j) / pw, tx = (t0 + j) % pw;
                const float* p = image + 2 * ty * sy + 2 * tx * c;
                winograd::over_channels(c, [&]<int VW>(int64_t i) { winograd::transform_patch<VW>(p, sy, c, i, v + j * c, nt * c); });
            }
            product.in.ow = nt;
            const TileSplit split(nt, max_tile_columns(shape.mv));
            for (int xi = 0; xi < 16; ++xi) {
                product.weights = args.winograd + xi * m * c;
                conv_row(product, tiles, split, shape.mr(), v + xi * nt * c, 0, 0, mx + xi * nt * m);
            }
            for (int64_t j = 0; j < nt; ++j) {
                float* y = args.y + (n * ph * pw + t0 + j) * m;
                winograd::over_channels(m, [&]<int VW>(int64_t o) { winograd::pool_tile<VW>(mx + j * m, nt * m, o, args.bias, args.relu, y); });
            }
        }
        row += rows_here;
    }
}

// The table's convolution: Winograd where the caller packed its weights (args.winograd), else direct.
void conv(const ConvArgs& args, void* workspace) {
    if (args.winograd)
        conv_winograd(args, workspace);
    else
        conv_direct(args, workspace);
}
