#pragma once
// A tensor is ggml's: up to 4 dimensions, `ne[i]` elements along dimension i (ne[0] innermost)
// and `nb[i]` bytes between consecutive elements along i. A tensor made by an op records the op,
// its sources and small integer parameters, so that a graph can be walked, evaluated and
// differentiated. Views share the data of `view_src`.
#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/dtype.h"

namespace mn {

constexpr int kMaxDims = 4;
constexpr int kMaxSrc = 5;
constexpr int kMaxOpParams = 8;

enum class Op : uint8_t {
    None,  // a leaf: weights, inputs, constants
    // layout
    Reshape,
    View,
    Permute,
    Cont,
    // arithmetic
    Add,
    Sub,
    Mul,
    Sqrt,
    Rsqrt,
    Scale,
    MulMat,
    Relu,
    SoftMax,
    Argmax,
    SumTo,
    Repeat,
    // convolutional networks
    Im2Col,
    Col2Im,
    Conv2d,
    MaxPool2d,
    Dropout,
    BatchNorm,
    // loss
    CrossEntropyLoss,
    // gradients of the ops above (made by autodiff)
    ReluBackward,
    SoftMaxBackward,
    MaxPool2dBackward,
    CrossEntropyLossBackward,
    Conv2dBackInput,
    Conv2dBackKernel,
    BatchNormBackward,
    BatchNormBackGamma,
    Count_  // keep last
};

// From the op table (engine/op_table.h): the op's name, and whether its result aliases a
// source's data (no compute, no allocation of its own).
const char* op_name(Op op);
bool op_is_view(Op op);

enum TensorFlag : uint32_t {
    kFlagParam = 1u << 0,   // trainable parameter (autodiff computes its gradient)
    kFlagState = 1u << 3,   // model state that is not trained (batch norm's running statistics):
                            // saved with the model, updated by the ops that read it, no gradient
    kFlagInput = 1u << 1,   // filled by the caller before each evaluation
    kFlagOutput = 1u << 2,  // read by the caller after evaluation: its memory is never reused
};

struct Tensor {
    DType type = DType::F32;
    int64_t ne[kMaxDims] = {1, 1, 1, 1};
    size_t nb[kMaxDims] = {0, 0, 0, 0};

    Op op = Op::None;
    int32_t op_params[kMaxOpParams] = {};
    Tensor* src[kMaxSrc] = {};

    Tensor* view_src = nullptr;  // the tensor whose memory a view shares
    size_t view_offs = 0;        // byte offset into view_src's data

    void* data = nullptr;
    const void* op_data = nullptr;  // optional data for the op, owned elsewhere (pre-packed weights)
    uint32_t flags = 0;
    char name[64] = {};

    int64_t nelements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
    int64_t nrows() const { return ne[1] * ne[2] * ne[3]; }
    // Bytes spanned from the first to one past the last element (for a view: what it touches).
    size_t nbytes() const;
    int n_dims() const;  // 1..4: index of the outermost dimension with ne > 1, plus one
    bool is_contiguous() const;
    bool same_shape(const Tensor& other) const;

    void set_name(const std::string& n);
    std::string shape_string() const;  // e.g. "[784, 500]"

    float* f32() { return static_cast<float*>(data); }
    const float* f32() const { return static_cast<const float*>(data); }
    // Address of element (i0, i1, i2, i3), honouring strides.
    char* at(int64_t i0, int64_t i1 = 0, int64_t i2 = 0, int64_t i3 = 0) const {
        return static_cast<char*>(data) + i0 * nb[0] + i1 * nb[1] + i2 * nb[2] + i3 * nb[3];
    }
};

// Fills nb[] for a contiguous tensor of the given type and sizes.
void set_contiguous_strides(Tensor& t);

}  // namespace mn
