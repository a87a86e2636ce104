// Direct convolution at stride 1, part of kernels_impl.h (included inside its namespace, after
// vec_impl.h and pool_impl.h; compiled once per SIMD level like the rest).
//
// Each register tile holds NR neighbouring output pixels of one output row by MR = MV * VW
// output channels. For every tap (ky, kx) and input channel c it loads MR weights and
// broadcasts NR input values straight out of the image: pixel j of the tile reads the image
// C floats after pixel j-1, so no im2col matrix and no packed copy of the image exist.
// Layers with few output channels (8 or 16) are where this wins most: a GEMM tile must span
// MR rows of C, while here the tile is as tall as the layer and as wide as the image row.
// The same kernel computes the gradient with respect to the input (a convolution of the output
// gradient with the flipped, transposed kernel); conv_weight_grad_impl.h has the third product.

struct ConvTile {
    const float* x;     // the image at the tile's first input pixel (tap ky = kx = 0)
    int64_t sy;         // floats between image rows
    int64_t c;          // input channels, dense; also the floats between neighbouring pixels
    int kw, kh;
    const float* w;     // this channel block's weights, packed [p][MR], p = c + C*(kx + KW*ky)
    float* y;           // output pixel j of the tile starts at y + j * ldy
    int64_t ldy;
    const float* bias;  // MR values or null
    bool relu;
};

template <int VW, int MV, int NR>
struct ConvTileKernel {
    static void run(const ConvTile& t) {
        using V = Vec<VW>;
        constexpr int MR = MV * VW;
        V acc[NR][MV];
#pragma GCC unroll 32
        for (int j = 0; j < NR; ++j)
#pragma GCC unroll 4
            for (int v = 0; v < MV; ++v) acc[j][v] = V{};

        // Within a kernel row, taps (kx, c) are contiguous in the image (channels dense, pixel
        // stride C): one loop over KW * C values.
        const int64_t row_len = t.kw * t.c;
        const float* w = t.w;
        for (int ky = 0; ky < t.kh; ++ky) {
            const float* s = t.x + ky * t.sy;
            for (int64_t q = 0; q < row_len; ++q, w += MR) {
                V a[MV];
#pragma GCC unroll 4
                for (int v = 0; v < MV; ++v) a[v] = load_vec<VW>(w + v * VW);
#pragma GCC unroll 32
                for (int j = 0; j < NR; ++j) {
                    const V b = splat_vec<VW>(s[j * t.c + q]);
#pragma GCC unroll 4
                    for (int v = 0; v < MV; ++v) acc[j][v] += a[v] * b;
                }
            }
        }

        V bias[MV];
        for (int v = 0; v < MV; ++v) bias[v] = t.bias ? load_vec<VW>(t.bias + v * VW) : V{};
#pragma GCC unroll 32
        for (int j = 0; j < NR; ++j)
#pragma GCC unroll 4
            for (int v = 0; v < MV; ++v) {
                V x = acc[j][v] + bias[v];
                if (t.relu) x = relu_vec<VW>(x);
                store_vec<VW>(t.y + j * t.ldy + v * VW, x);
            }
    }
};

// A kernel in ggml's layout [KW, KH, C, M] as MR-row panels over the whole depth: panel b holds
// a(b*MR + r, p) at [p * MR + r], p = c + C*(kx + KW*ky). With flip, the panels are those of the
// kernel that computes the input's gradient: C output channels, depth p = o + M*(kx + KW*ky),
// a(c, p) = kernel(KW-1-kx, KH-1-ky, c, o).
size_t conv_packed_floats(int64_t c, int64_t m, int kw, int kh) { return static_cast<size_t>(c * m * kw * kh); }

void pack_conv_weights(const float* kernel, int kw, int kh, int64_t c, int64_t m, bool flip, float* dst) {
    const int64_t rows = flip ? c : m, depth = flip ? m : c;  // output and input channels of the product
    const int mr = conv_shape(rows).mr();
    for (int64_t i0 = 0; i0 < rows; i0 += mr)
        for (int ky = 0; ky < kh; ++ky)
            for (int kx = 0; kx < kw; ++kx)
                for (int64_t d = 0; d < depth; ++d, dst += mr)
                    for (int r = 0; r < mr; ++r) {
                        const int64_t i = i0 + r;
                        dst[r] = flip ? kernel[((d * c + i) * kh + (kh - 1 - ky)) * kw + (kw - 1 - kx)]
                                      : kernel[((i * c + d) * kh + ky) * kw + kx];
                    }
}

// Reads the image straight from the tensor when it needs no padding and its pixels are dense,
// else from a zero-padded copy of one image at a time in the workspace.
bool conv_needs_copy(const ConvGather& g) { return g.pad != 0 || g.sx != g.c; }

// Scratch for one thread: room for a padded copy of one image.
size_t conv_image_floats(const ConvGather& g) { return static_cast<size_t>(g.c * (g.w + 2 * g.pad) * (g.h + 2 * g.pad)); }
size_t conv_workspace(const ConvGather& g) { return conv_image_floats(g) * sizeof(float) + 64; }

// Zeroes the copy's border once; conv_image then overwrites only the inside.
void clear_padding(const ConvGather& g, float* ws) {
    if (conv_needs_copy(g)) std::fill(ws, ws + conv_image_floats(g), 0.0f);
}

// Points `image` at image n of g, or at a zero-padded copy of it in ws; returns the floats
// between its rows.
int64_t conv_image(const ConvGather& g, int64_t n, float* ws, const float*& image) {
    const float* src = g.x + n * g.sn;
    if (!conv_needs_copy(g)) {
        image = src;
        return g.sy;
    }
    const int64_t sy = g.c * (g.w + 2 * g.pad);
    for (int64_t y = 0; y < g.h; ++y) {
        float* dst = ws + (y + g.pad) * sy + g.pad * g.c;
        if (g.sx == g.c)
            std::memcpy(dst, src + y * g.sy, static_cast<size_t>(g.w * g.c) * sizeof(float));
        else
            for (int64_t x = 0; x < g.w; ++x)
                std::memcpy(dst + x * g.c, src + y * g.sy + x * g.sx, static_cast<size_t>(g.c) * sizeof(float));
    }
    image = ws;
    return sy;
}

// One output row oy of the convolution of an image (rows sy floats apart) into y_row.
template <class Tiles>
void conv_row(const ConvArgs& args, Tiles tiles, const TileSplit& split, int64_t mr, const float* image, int64_t sy,
              int64_t oy, float* y_row) {
    const ConvGather& g = args.in;
    const int64_t k = g.c * g.kw * g.kh;
    int64_t ox = 0;
    for (int64_t tile = 0; tile < split.tiles; ++tile) {
        const int64_t width = split.width(tile);
        ConvTile t{image + oy * sy + ox * g.c, sy, g.c, g.kw, g.kh, args.weights, y_row + ox * args.ldy,
                   args.ldy, args.bias, args.relu};
        for (int64_t i0 = 0; i0 < args.m; i0 += mr) {
            tiles[width - 1](t);
            t.w += mr * k;
            t.y += mr;
            if (t.bias) t.bias += mr;
        }
        ox += width;
    }
}

void conv_direct(const ConvArgs& args, void* workspace) {
    const ConvGather& g = args.in;
    const ConvShape shape = conv_shape(args.m);
    const auto tiles = tiles_for<ConvTileKernel>(shape);
    const TileSplit split(g.ow, max_tile_columns(shape.mv));
    float* ws = aligned_workspace(workspace);
    clear_padding(g, ws);
    // Rows of the result: conv rows, or pooled rows made of `pool` conv rows each.
    const int pool = std::max(args.pool, 1);
    const int64_t rows_per_image = g.oh / pool;
    const float* image = nullptr;
    int64_t sy = 0, image_n = -1;
    for (int64_t row = args.row_begin; row < args.row_end; ++row) {
        const int64_t oy = row % rows_per_image, n = row / rows_per_image;
        if (n != image_n) {
            image_n = n;
            sy = conv_image(g, n, ws, image);
        }
        if (pool == 1) {
            conv_row(args, tiles, split, shape.mr(), image, sy, oy, args.y + row * g.ow * args.ldy);
            continue;
        }
        // The window's conv rows are still in L1 when they are pooled.
        const int64_t pooled_w = g.ow / pool, row_floats = g.ow * args.m;
        if (!args.pooled) {
            ConvArgs dense = args;
            dense.ldy = args.m;
            for (int r = 0; r < pool; ++r)
                conv_row(dense, tiles, split, shape.mr(), image, sy, oy * pool + r, args.scratch + r * row_floats);
            max_pool_row(args.scratch, g.ow, args.m, args.y + row * pooled_w * args.m, pooled_w, pool, pool);
            continue;
        }
        float* conv_rows = args.y + (n * g.oh + oy * pool) * row_floats;
        for (int r = 0; r < pool; ++r)
            conv_row(args, tiles, split, shape.mr(), image, sy, oy * pool + r, conv_rows + r * row_floats);
        max_pool_row(conv_rows, g.ow, args.m, args.pooled + row * pooled_w * args.m, pooled_w, pool, pool);
        if (oy == rows_per_image - 1)  // conv rows below the last window: computed, not pooled
            for (int64_t rest = (oy + 1) * pool; rest < g.oh; ++rest)
                conv_row(args, tiles, split, shape.mr(), image, sy, rest, args.y + (n * g.oh + rest) * row_floats);
    }
}
