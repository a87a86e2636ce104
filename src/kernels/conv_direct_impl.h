// Direct convolution at stride 1, part of kernels_impl.h (included inside its namespace, after
// the vector helpers; compiled once per SIMD level like the rest).
//
// Each register tile holds NR neighbouring output pixels of one output row by MR = MV * VW
// output channels. For every tap (ky, kx) and input channel c it loads MR weights and
// broadcasts NR input values straight out of the image: pixel j of the tile reads the image
// at a fixed stride from pixel j-1, so no im2col matrix and no packed copy of the image exist.
// Layers with few output channels (8 or 16) are where this wins most: a GEMM tile must span
// MR rows of C, while here the tile is as tall as the layer and as wide as the image row.

constexpr int kRegisters = MN_VEC_FLOATS >= 16 ? 32 : 16;  // vector registers of the level

// Vectors of VW floats (VW = the level's width or half of it; 1 = plain float).
template <int VW>
struct VecOf {
    typedef float type __attribute__((vector_size(VW * sizeof(float))));
};
template <>
struct VecOf<1> {
    typedef float type;
};
template <int VW>
using Vec = typename VecOf<VW>::type;

template <int VW>
inline Vec<VW> load_vec(const float* p) {
    Vec<VW> v;
    std::memcpy(&v, p, sizeof(v));
    return v;
}
template <int VW>
inline void store_vec(float* p, Vec<VW> v) {
    std::memcpy(p, &v, sizeof(v));
}
template <int VW>
inline Vec<VW> splat_vec(float x) {
    if constexpr (VW == 1) {
        return x;
#if MN_VEC_FLOATS >= 16
    } else if constexpr (VW == 16) {
        return reinterpret_cast<Vec<16>>(_mm512_set1_ps(x));
#endif
#if MN_VEC_FLOATS >= 8
    } else if constexpr (VW == 8) {
        return reinterpret_cast<Vec<8>>(_mm256_set1_ps(x));
    } else if constexpr (VW == 4) {
        return reinterpret_cast<Vec<4>>(_mm_set1_ps(x));
#endif
    } else {
        Vec<VW> v;
        for (int i = 0; i < VW; ++i) v[i] = x;
        return v;
    }
}
template <int VW>
inline Vec<VW> relu_vec(Vec<VW> x) {
    if constexpr (VW == 1)
        return x > 0.0f ? x : 0.0f;
    else
        return x > Vec<VW>{} ? x : Vec<VW>{};
}

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
using ConvTileFn = void (*)(const ConvTile&);

template <int VW, int MV, int NR>
void conv_tile(const ConvTile& t) {
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

// The widest tile for MV vectors of accumulators per pixel: NR * MV accumulators plus MV
// weight vectors and one broadcast must fit the register file.
constexpr int max_conv_nr(int mv) { return std::min(16, (kRegisters - mv - 1) / mv); }

template <int VW, int MV, int... I>
constexpr std::array<ConvTileFn, sizeof...(I)> conv_tiles_of(std::integer_sequence<int, I...>) {
    return {&conv_tile<VW, MV, I + 1>...};
}
// conv_tiles<VW, MV>()[nr - 1] is the tile nr pixels wide.
template <int VW, int MV>
const ConvTileFn* conv_tiles() {
    static constexpr auto tiles = conv_tiles_of<VW, MV>(std::make_integer_sequence<int, max_conv_nr(MV)>());
    return tiles.data();
}

// The tile shape for m output channels: vectors of the level's width if they divide m, else of
// half of it; up to 4 vectors per pixel (2 with 16 registers, to leave room for pixels).
struct ConvShape {
    int vw = 0, mv = 0;
    int mr() const { return vw * mv; }
};
ConvShape conv_shape(int64_t m) {
    ConvShape s;
    if (m % W == 0)
        s.vw = W;
    else if (W >= 8 && m % (W / 2) == 0)
        s.vw = W / 2;
    else
        return s;
    const int64_t vectors = m / s.vw;
    const int mv_cap = kRegisters >= 32 ? 4 : 2;
    s.mv = vectors % 4 == 0 && mv_cap >= 4 ? 4 : vectors % 2 == 0 ? 2 : 1;
    return s;
}

bool conv_supported(int64_t m) { return m > 0 && conv_shape(m).vw != 0; }

const ConvTileFn* conv_tiles_for(ConvShape s) {
    if (s.vw == W) {
        if (s.mv == 4) return conv_tiles<W, 4>();
        if (s.mv == 2) return conv_tiles<W, 2>();
        return conv_tiles<W, 1>();
    }
#if MN_VEC_FLOATS >= 8
    if (s.mv == 4) return conv_tiles<W / 2, 4>();
    if (s.mv == 2) return conv_tiles<W / 2, 2>();
    return conv_tiles<W / 2, 1>();
#else
    return nullptr;
#endif
}

// Weights in MR-row panels over the whole depth: panel b holds a(b*MR + r, p) at [p * MR + r].
size_t conv_packed_a_floats(int64_t m, int64_t k) { return static_cast<size_t>(m * k); }

void pack_conv_a(const float* a, int64_t lda, bool trans, int64_t m, int64_t k, float* dst) {
    const int mr = conv_shape(m).mr();
    for (int64_t i0 = 0; i0 < m; i0 += mr, dst += mr * k)
        for (int64_t p = 0; p < k; ++p)
            for (int r = 0; r < mr; ++r) dst[p * mr + r] = trans ? a[p * lda + i0 + r] : a[(i0 + r) * lda + p];
}

// Reads the image straight from the tensor when it needs no padding and its pixels are dense,
// else from a zero-padded copy of one image at a time in the workspace.
bool conv_needs_copy(const ConvGather& g) { return g.pad != 0 || g.sx != g.c; }

size_t conv_workspace(const ConvGather& g, int64_t m) {
    const int64_t k = g.c * g.kw * g.kh;
    size_t floats = static_cast<size_t>(m * k);
    if (conv_needs_copy(g)) floats += static_cast<size_t>(g.c * (g.w + 2 * g.pad) * (g.h + 2 * g.pad));
    return floats * sizeof(float) + 64;
}

void conv(const ConvArgs& args, void* workspace) {
    const ConvGather& g = args.in;
    const ConvShape shape = conv_shape(args.m);
    const int64_t k = g.c * g.kw * g.kh, mr = shape.mr(), nr_max = max_conv_nr(shape.mv);
    const ConvTileFn* tiles = conv_tiles_for(shape);
    float* ws = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(workspace) + 63) & ~uintptr_t(63));
    const float* weights = args.a_packed;
    if (!weights) {
        pack_conv_a(args.a, args.lda, args.a_trans, args.m, k, ws);
        weights = ws;
        ws += args.m * k;
    }
    // The tiles of one output row: as few as fit the register file, of near-equal widths.
    const int64_t n_tiles = (g.ow + nr_max - 1) / nr_max;
    const int64_t base_width = g.ow / n_tiles, wider = g.ow % n_tiles;

    const int64_t wp = g.w + 2 * g.pad, hp = g.h + 2 * g.pad;
    const float* image = nullptr;
    int64_t sy = g.sy, image_n = -1;
    if (conv_needs_copy(g)) {
        sy = g.c * wp;
        std::fill(ws, ws + sy * hp, 0.0f);  // the border stays zero; images overwrite the inside
    }
    for (int64_t row = args.row_begin; row < args.row_end; ++row) {
        const int64_t oy = row % g.oh, n = row / g.oh;
        if (n != image_n) {
            image_n = n;
            const float* src = g.x + n * g.sn;
            image = src;
            if (conv_needs_copy(g)) {
                for (int64_t y = 0; y < g.h; ++y) {
                    float* dst = ws + (y + g.pad) * sy + g.pad * g.c;
                    if (g.sx == g.c)
                        std::memcpy(dst, src + y * g.sy, static_cast<size_t>(g.w * g.c) * sizeof(float));
                    else
                        for (int64_t x = 0; x < g.w; ++x)
                            std::memcpy(dst + x * g.c, src + y * g.sy + x * g.sx, static_cast<size_t>(g.c) * sizeof(float));
                }
                image = ws;
            }
        }
        float* y_row = args.y + row * g.ow * args.ldy;
        int64_t ox = 0;
        for (int64_t tile = 0; tile < n_tiles; ++tile) {
            const int64_t width = base_width + (tile < wider ? 1 : 0);
            ConvTile t{image + oy * sy + ox * g.c, sy, g.c, g.kw, g.kh, weights, y_row + ox * args.ldy,
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
}
