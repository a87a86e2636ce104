// The gradient of a stride-1 convolution with respect to its kernel, part of kernels_impl.h
// (after vec_impl.h and conv_direct_impl.h):
//   dW(p, o) += sum over pixels (ox, oy) of dy(o, ox, oy) * x(c, ox + kx - pad, oy + ky - pad),
// p = c + C*(kx + KW*ky), for the images [image_begin, image_end). It is a product whose depth
// is every pixel of the batch and whose result is tiny (the kernel's size), so threads take
// disjoint images into partial sums (the engine adds them up) and the registers hold a tile of
// the result for a whole image: R consecutive taps of one kernel row by MR output channels. Per
// pixel the tile loads MR gradient values and broadcasts R image values read in place.

struct WeightGradTile {
    const float* x;   // the (padded) image at row ky, patch value q0 of pixel (0, 0)
    int64_t sy;       // floats between image rows
    int64_t c;        // floats between pixels (the channels)
    const float* dy;  // the output gradient of the image, at channel o0 of pixel (0, 0)
    int64_t m;        // floats between its pixels (the output channels)
    int64_t ow, oh;
    float* out;       // the partial sums [p][M], at (p0, o0): tap r at out + r * m
};

template <int VW, int MV, int R>
struct WeightGradKernel {
    static void run(const WeightGradTile& t) {
        using V = Vec<VW>;
        V acc[R][MV];
#pragma GCC unroll 32
        for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
            for (int v = 0; v < MV; ++v) acc[r][v] = V{};
        for (int64_t oy = 0; oy < t.oh; ++oy) {
            const float* xs = t.x + oy * t.sy;
            const float* gs = t.dy + oy * t.ow * t.m;
            for (int64_t ox = 0; ox < t.ow; ++ox, xs += t.c, gs += t.m) {
                V g[MV];
#pragma GCC unroll 4
                for (int v = 0; v < MV; ++v) g[v] = load_vec<VW>(gs + v * VW);
#pragma GCC unroll 32
                for (int r = 0; r < R; ++r) {
                    const V b = splat_vec<VW>(xs[r]);
#pragma GCC unroll 4
                    for (int v = 0; v < MV; ++v) acc[r][v] += b * g[v];
                }
            }
        }
#pragma GCC unroll 32
        for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
            for (int v = 0; v < MV; ++v) {
                float* o = t.out + r * t.m + v * VW;
                store_vec<VW>(o, load_vec<VW>(o) + acc[r][v]);
            }
    }
};

void conv_weight_grad(const ConvWeightGradArgs& a, void* workspace) {
    const ConvGather& g = a.in;
    const ConvShape shape = conv_shape(a.m);
    const int64_t mr = shape.mr(), row_len = g.kw * g.c;
    const auto tiles = tiles_for<WeightGradKernel>(shape);
    const TileSplit split(row_len, max_tile_columns(shape.mv));
    float* ws = aligned_workspace(workspace);
    clear_padding(g, ws);
    for (int64_t n = a.image_begin; n < a.image_end; ++n) {
        const float* image = nullptr;
        const int64_t sy = conv_image(g, n, ws, image);
        const float* dy = a.dy + n * g.oh * g.ow * a.m;
        for (int ky = 0; ky < g.kh; ++ky) {
            int64_t q = 0;
            for (int64_t tile = 0; tile < split.tiles; ++tile) {
                const int64_t width = split.width(tile);
                for (int64_t o0 = 0; o0 < a.m; o0 += mr)
                    tiles[width - 1]({image + ky * sy + q, sy, g.c, dy + o0, a.m, g.ow, g.oh,
                                      a.dw + (ky * row_len + q) * a.m + o0});
                q += width;
            }
        }
    }
}
