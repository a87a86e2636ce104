// Vector helpers of any width, and the choice of register-tile shape by channel count; part of
// kernels_impl.h (included inside its namespace), shared by the convolution and pooling kernels.

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
#if defined(__wasm_simd128__)
    } else if constexpr (VW == 4) {
        return reinterpret_cast<Vec<4>>(wasm_f32x4_splat(x));
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

// x where gate > 0, else 0 (a relu's gradient, gated by the relu's output).
template <int VW>
inline Vec<VW> keep_where_positive(Vec<VW> x, Vec<VW> gate) {
    if constexpr (VW == 1)
        return gate > 0.0f ? x : 0.0f;
    else
        return gate > Vec<VW>{} ? x : Vec<VW>{};
}

// The tile shape for m channels in vector lanes: vectors of the level's width if they divide m,
// else of half of it, else single floats; up to 4 vectors (2 with 16 registers, to leave room
// for the other side of the tile).
struct ConvShape {
    int vw = 1, mv = 1;
    int mr() const { return vw * mv; }
};
inline ConvShape conv_shape(int64_t m) {
    ConvShape s;
    if (m % W == 0)
        s.vw = W;
    else if (W >= 8 && m % (W / 2) == 0)
        s.vw = W / 2;
    const int64_t vectors = m / s.vw;
    const int mv_cap = kRegisters >= 32 ? 4 : 2;
    s.mv = vectors % 4 == 0 && mv_cap >= 4 ? 4 : vectors % 2 == 0 ? 2 : 1;
    return s;
}

// The widest tile for MV vectors of accumulators per column: columns * MV accumulators plus MV
// loaded vectors and one broadcast must fit the register file.
constexpr int max_tile_columns(int mv) { return std::min(16, (kRegisters - mv - 1) / mv); }

// Function tables of a kernel family K<VW, MV, N> for every width N = 1..max_tile_columns(MV):
// tiles_of<K, VW, MV>()[n - 1] is the instantiation n columns wide.
template <template <int, int, int> class K, int VW, int MV, int... I>
constexpr auto tile_table(std::integer_sequence<int, I...>) {
    return std::array<decltype(&K<VW, MV, 1>::run), sizeof...(I)>{&K<VW, MV, I + 1>::run...};
}
template <template <int, int, int> class K, int VW, int MV>
auto tiles_of() {
    static constexpr auto table = tile_table<K, VW, MV>(std::make_integer_sequence<int, max_tile_columns(MV)>());
    return table.data();
}
// The table of a family for a tile shape.
template <template <int, int, int> class K>
auto tiles_for(ConvShape s) {
    if (s.vw == W) {
        if (s.mv == 4) return tiles_of<K, W, 4>();
        if (s.mv == 2) return tiles_of<K, W, 2>();
        return tiles_of<K, W, 1>();
    }
#if MN_VEC_FLOATS >= 8
    if (s.vw == W / 2) {
        if (s.mv == 4) return tiles_of<K, W / 2, 4>();
        if (s.mv == 2) return tiles_of<K, W / 2, 2>();
        return tiles_of<K, W / 2, 1>();
    }
#endif
    if (s.mv == 4) return tiles_of<K, 1, 4>();
    if (s.mv == 2) return tiles_of<K, 1, 2>();
    return tiles_of<K, 1, 1>();
}

// n columns as few tiles as fit the registers, of near-equal widths: tile t is
// width(t) columns wide.
struct TileSplit {
    int64_t tiles, base, wider;
    TileSplit(int64_t n, int64_t max_width)
        : tiles((n + max_width - 1) / max_width), base(n / tiles), wider(n % tiles) {}
    int64_t width(int64_t t) const { return base + (t < wider ? 1 : 0); }
};

inline float* aligned_workspace(void* workspace) {
    return reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(workspace) + 63) & ~uintptr_t(63));
}
