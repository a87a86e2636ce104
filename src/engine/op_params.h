#pragma once
// The parameters of the ops that have any, one struct per op with named fields. A tensor keeps
// them in Tensor::op_params (raw storage, as in ggml); they are read and written through
// params<P>(t) and set_params(t, p) only, so a slot never means two things. The fused forms
// (engine/fusion.h) are fields here too: what fusion folded into a node is in its parameters
// and in its optional sources (bias, gate), nowhere else.
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "engine/tensor.h"

namespace mn {

// mul_mat: sources a, b, then bias (src[2], optional) and gate (src[3], optional).
struct MulMatParams {
    int32_t relu = 0;           // relu after the bias, in the product's epilogue
    int32_t implicit_conv = 0;  // b is an image whose im2col (geometry below) is read in place
    int32_t kw = 0, kh = 0, stride = 1, pad = 0;
    int32_t ow = 0, oh = 0;     // the im2col's output size
};

// conv_2d (stride 1): sources kernel, x, then bias (src[2], optional).
struct Conv2dParams {
    int32_t relu = 0;
    int32_t pad = 0;
    int32_t pool = 0;              // a disjoint max pooling of this size computed in the same pass:
                                   // the node holds the pooled output (inference)
    int32_t computed_by_pool = 0;  // the max_pool_2d reading this node computes it (training)
};

// conv_2d_back_input (dy, kernel) and conv_2d_back_kernel (x, dy).
struct Conv2dBackParams {
    int32_t pad = 0;
};

// im2col (x) and col2im (cols).
struct Im2ColParams {
    int32_t kw = 0, kh = 0, stride = 1, pad = 0;
};

// max_pool_2d: source x, then (when it computes its convolution) the convolution's input.
struct MaxPoolParams {
    int32_t k = 0, stride = 0;
    int32_t computes_conv = 0;  // x is a conv_2d node this pooling computes (training, fusion.h)
};

// max_pool_2d_back: sources dy, x.
struct MaxPoolBackParams {
    int32_t k = 0, stride = 0;
    int32_t positive_only = 0;  // and only where the window's maximum is above 0 (a relu before it)
};

struct PermuteParams {
    int32_t axes[kMaxDims] = {0, 1, 2, 3};  // source dimension i moves to axes[i]
};

// scale: x * s + offset.
struct ScaleParams {
    float s = 1.0f;
    float offset = 0.0f;
};

// batch_norm (x, running_mean, running_var, gamma?, beta?), batch_norm_back (dy, x, gamma?) -> dx
// and batch_norm_back_gamma (dy, x) -> dgamma: x normalised per channel (ne[0]) over every other
// dimension.
struct BatchNormParams {
    float eps = 1e-5f;
    float momentum = 0.1f;  // running = (1 - momentum) * running + momentum * this batch's
    int32_t training = 0;   // this batch's statistics (and the running ones updated), else the running ones
    int32_t relu = 0;       // fused: max(0, y) (engine/fusion.h)
};

// dropout: sources x, seed.
struct DropoutParams {
    float rate = 0.0f;
};

template <class P>
P params(const Tensor* t) {
    static_assert(std::is_trivially_copyable_v<P> && sizeof(P) <= sizeof(t->op_params));
    P p;
    std::memcpy(&p, t->op_params, sizeof p);
    return p;
}

template <class P>
void set_params(Tensor* t, const P& p) {
    static_assert(std::is_trivially_copyable_v<P> && sizeof(P) <= sizeof(t->op_params));
    std::memset(t->op_params, 0, sizeof(t->op_params));
    std::memcpy(t->op_params, &p, sizeof p);
}

}  // namespace mn
