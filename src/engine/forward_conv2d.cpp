// The stride-1 convolution op and its two gradients, on the direct convolution kernels
// (kernels/conv_direct_impl.h, kernels/conv_weight_grad_impl.h). All three read images in
// place: no im2col matrix is ever written.
#include "engine/forward.h"
#include "engine/op_params.h"
#include "kernels/kernels.h"

namespace mn {

namespace {

int kernel_w(const Tensor* kernel) { return static_cast<int>(kernel->ne[0]); }
int kernel_h(const Tensor* kernel) { return static_cast<int>(kernel->ne[1]); }

// The gradient with respect to the input convolves dy with the flipped kernel, padded so that
// the result has the input's size.
ConvGather back_input_gather(const Tensor* t) {
    const Tensor* dy = t->src[0];
    const Tensor* kernel = t->src[1];
    const int pad = params<Conv2dBackParams>(t).pad;
    return image_gather(dy, kernel_w(kernel), kernel_h(kernel), 1, kernel_w(kernel) - 1 - pad, t->ne[1], t->ne[2]);
}

// The convolution's own output size (t is smaller when it pools too).
ConvGather forward_gather(const Tensor* t) {
    const Tensor* kernel = t->src[0];
    const Tensor* x = t->src[1];
    const int pad = params<Conv2dParams>(t).pad;
    return image_gather(x, kernel_w(kernel), kernel_h(kernel), 1, pad, x->ne[1] + 2 * pad - kernel_w(kernel) + 1,
                     x->ne[2] + 2 * pad - kernel_h(kernel) + 1);
}

int pool_of(const Tensor* t) { return params<Conv2dParams>(t).pool; }

ConvGather back_kernel_gather(const Tensor* t) {
    const Tensor* dy = t->src[1];
    return image_gather(t->src[0], kernel_w(t), kernel_h(t), 1, params<Conv2dBackParams>(t).pad, dy->ne[1], dy->ne[2]);
}

// Floats rounded up to whole cache lines, so that what follows in the scratch stays aligned.
size_t line_floats(size_t n) { return (n + 15) / 16 * 16; }

size_t kernel_floats(const Tensor* kernel) { return static_cast<size_t>(kernel->nelements()); }

// The kernel of conv_2d node t transformed for the Winograd convolution, when packed ahead for
// this level (models/inference.cpp) and the node pools as that kernel needs; else null.
const float* winograd_weights(const Tensor* t) {
    const auto* packed = static_cast<const PackedMatrix*>(t->op_data);
    if (!packed || packed->level != kernels().level || packed->winograd.empty() || params<Conv2dParams>(t).pool != 2)
        return nullptr;
    return packed->winograd.data();
}

}  // namespace

// A max pooling that computes its convolution needs the convolution's scratch.
size_t forward_max_pool_2d_work_bytes(const Tensor* t, int /*nth*/) {
    return params<MaxPoolParams>(t).computes_conv ? forward_conv_2d_work_bytes(t->src[0], 1) : 0;
}

size_t forward_conv_2d_work_bytes(const Tensor* t, int /*nth*/) {
    const KernelTable& k = kernels();
    switch (t->op) {
        case Op::Conv2d: {  // the packed kernel, the conv rows of a pooling window, the image scratch
            const ConvGather g = forward_gather(t);
            const size_t image = winograd_weights(t) ? k.winograd_workspace(g, t->ne[0]) : k.conv_workspace(g);
            return (line_floats(kernel_floats(t->src[0])) + line_floats(size_t(pool_of(t) * g.ow * t->ne[0]))) *
                       sizeof(float) +
                   image;
        }
        case Op::Conv2dBackInput:
            return line_floats(kernel_floats(t->src[1])) * sizeof(float) + k.conv_workspace(back_input_gather(t));
        case Op::Conv2dBackKernel:  // this thread's partial sums, then the image scratch
            return line_floats(kernel_floats(t)) * sizeof(float) + k.conv_workspace(back_kernel_gather(t));
        default: return 0;
    }
}

namespace {
// The arguments of conv_2d node t writing its own tensor; the kernel packed into the front of
// the scratch unless it was packed ahead. Returns the rest of the scratch.
float* conv_args_of(const ComputeParams& p, const Tensor* t, ConvArgs& a) {
    const Tensor* kernel = t->src[0];
    const KernelTable& k = kernels();
    float* ws = static_cast<float*>(p.work);
    a.in = forward_gather(t);
    a.m = t->ne[0];
    // Weights packed once ahead (models/inference.cpp) for this level, else by each thread here.
    const auto* packed = static_cast<const PackedMatrix*>(t->op_data);
    if (packed && packed->level == k.level) {
        a.weights = packed->data.data();
    } else {
        k.pack_conv_weights(static_cast<const float*>(kernel->data), a.in.kw, a.in.kh, a.in.c, a.m, false, ws);
        a.weights = ws;
    }
    ws += line_floats(kernel_floats(kernel));
    a.y = static_cast<float*>(t->data);
    a.ldy = a.m;
    a.bias = t->src[2] ? static_cast<const float*>(t->src[2]->data) : nullptr;  // engine/fusion.cpp
    a.relu = params<Conv2dParams>(t).relu != 0;
    return ws;
}
}  // namespace

void forward_conv_2d(const ComputeParams& p, Tensor* t) {
    if (params<Conv2dParams>(t).computed_by_pool) return;  // the max pooling that reads it does (fusion.cpp)
    ConvArgs a;
    float* ws = conv_args_of(p, t, a);
    a.pool = pool_of(t);
    a.winograd = winograd_weights(t);
    if (a.pool > 1) {
        a.scratch = ws;
        ws += line_floats(size_t(a.pool * a.in.ow * a.m));
    }
    split_range(t->ne[2] * t->ne[3], p.ith, p.nth, 1, a.row_begin, a.row_end);  // output rows, pooled or not
    if (a.row_begin < a.row_end) kernels().conv(a, ws);
}

// A max pooling that computes the convolution it reads as well, in one pass: every conv row
// into the convolution's tensor, each window's rows pooled while in L1.
void forward_max_pool_of_conv(const ComputeParams& p, Tensor* t) {
    ConvArgs a;
    float* ws = conv_args_of(p, t->src[0], a);
    a.pool = params<MaxPoolParams>(t).k;
    a.pooled = t->f32();
    split_range(t->ne[2] * t->ne[3], p.ith, p.nth, 1, a.row_begin, a.row_end);  // pooled rows
    if (a.row_begin < a.row_end) kernels().conv(a, ws);
}

void forward_conv_2d_back_input(const ComputeParams& p, Tensor* t) {
    const Tensor* kernel = t->src[1];
    const KernelTable& k = kernels();
    float* ws = static_cast<float*>(p.work);
    ConvArgs a;
    a.in = back_input_gather(t);
    a.m = t->ne[0];
    k.pack_conv_weights(static_cast<const float*>(kernel->data), a.in.kw, a.in.kh, a.m, a.in.c, true, ws);
    a.weights = ws;
    ws += line_floats(kernel_floats(kernel));
    a.y = t->f32();
    a.ldy = a.m;
    split_range(t->ne[2] * t->ne[3], p.ith, p.nth, 1, a.row_begin, a.row_end);
    if (a.row_begin < a.row_end) k.conv(a, ws);
}

// Two phases: each thread sums its share of the images into partial sums in its scratch; after
// a barrier, threads add up everyone's partial sums for disjoint parts of the result.
void forward_conv_2d_back_kernel(const ComputeParams& p, Tensor* t) {
    const KernelTable& k = kernels();
    const int64_t m = t->ne[3], n_taps = t->ne[0] * t->ne[1] * t->ne[2];  // p = c + C*(kx + KW*ky)
    const size_t partial_floats = line_floats(kernel_floats(t));
    float* partial = static_cast<float*>(p.work);
    std::fill(partial, partial + n_taps * m, 0.0f);
    ConvWeightGradArgs a;
    a.in = back_kernel_gather(t);
    a.m = m;
    a.dy = static_cast<const float*>(t->src[1]->data);
    a.dw = partial;
    split_range(t->src[1]->ne[3], p.ith, p.nth, 1, a.image_begin, a.image_end);
    if (a.image_begin < a.image_end) k.conv_weight_grad(a, partial + partial_floats);
    p.barrier();

    // The result in ggml's kernel layout [KW, KH, C, M]: element (kx, ky, c, o).
    const int64_t kw = t->ne[0], kh = t->ne[1], c = t->ne[2];
    int64_t begin, end;
    split_range(t->nelements(), p.ith, p.nth, 64, begin, end);
    float* out = t->f32();
    for (int64_t e = begin; e < end; ++e) {
        const int64_t kx = e % kw, ky = (e / kw) % kh, ch = (e / (kw * kh)) % c, o = e / (kw * kh * c);
        const int64_t at = (ch + c * (kx + kw * ky)) * m + o;
        float sum = 0.0f;
        for (int th = 0; th < p.nth; ++th)
            sum += (th == p.ith ? partial : static_cast<const float*>(p.work_of(th)))[at];
        out[e] = sum;
    }
}

}  // namespace mn
