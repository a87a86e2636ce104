#pragma once
// Forward computation of each op, split over threads. The executor calls forward() on every
// thread for each node; thread ith of nth does its share (rows, columns or tiles of the output)
// and uses only its own slice of the shared work buffer.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "engine/tensor.h"
#include "kernels/kernels.h"

namespace mn {

class ThreadPool;

struct ComputeParams {
    int ith = 0;   // this thread
    int nth = 1;   // threads working on the node
    void* work = nullptr;       // this thread's scratch
    size_t work_bytes = 0;
    // For ops in two phases (partial results per thread, then their sum): every thread's
    // scratch, work_bytes apart, and the pool whose barrier separates the phases.
    uint8_t* work_all = nullptr;
    ThreadPool* pool = nullptr;

    void* work_of(int thread) const { return work_all + static_cast<size_t>(thread) * work_bytes; }
    void barrier() const;  // all threads of the node wait here (nothing to wait for with one)
};

// Scratch bytes each thread needs to compute `t` with nth threads.
size_t forward_work_bytes(const Tensor* t, int nth);
void forward(const ComputeParams& p, Tensor* t);

// [begin, end) of `n` items for thread ith of nth, in whole multiples of `grain`.
inline void split_range(int64_t n, int ith, int nth, int64_t grain, int64_t& begin, int64_t& end) {
    const int64_t chunks = (n + grain - 1) / grain;
    const int64_t per = (chunks + nth - 1) / nth;
    begin = std::min<int64_t>(n, ith * per * grain);
    end = std::min<int64_t>(n, (ith + 1) * per * grain);
}

// A row of a tensor is its ne[0] elements at fixed (i1, i2, i3); rows are numbered i1 fastest.
struct RowIndex {
    int64_t i1, i2, i3;
};
inline RowIndex row_index(const Tensor* t, int64_t row) {
    return {row % t->ne[1], (row / t->ne[1]) % t->ne[2], row / (t->ne[1] * t->ne[2])};
}
// Index into a source that may be broadcast (size 1) along a dimension.
inline int64_t bcast(int64_t i, int64_t ne) { return ne == 1 ? 0 : i; }
inline float load_f32(const Tensor* t, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
    return *reinterpret_cast<const float*>(t->at(i0, i1, i2, i3));
}

// Image x ([C, W, H, N], channels dense) as a convolution's kernels read it (kernels/kernels.h).
ConvGather image_gather(const Tensor* x, int kw, int kh, int stride, int pad, int64_t ow, int64_t oh);

// Per-op implementations (forward_<family>.cpp), listed in the op table (engine/op_table.cpp).
void forward_mul_mat(const ComputeParams& p, Tensor* t);
size_t forward_mul_mat_work_bytes(const Tensor* t, int nth);
void forward_add(const ComputeParams& p, Tensor* t);
void forward_sub(const ComputeParams& p, Tensor* t);
void forward_mul(const ComputeParams& p, Tensor* t);
void forward_sqrt(const ComputeParams& p, Tensor* t);
void forward_rsqrt(const ComputeParams& p, Tensor* t);
void forward_batch_norm(const ComputeParams& p, Tensor* t);
void forward_batch_norm_backward(const ComputeParams& p, Tensor* t);
void forward_batch_norm_backward_gamma(const ComputeParams& p, Tensor* t);
size_t forward_batch_norm_work_bytes(const Tensor* t, int nth);
void forward_relu(const ComputeParams& p, Tensor* t);
void forward_soft_max(const ComputeParams& p, Tensor* t);
void forward_argmax(const ComputeParams& p, Tensor* t);
void forward_cont(const ComputeParams& p, Tensor* t);
void forward_scale(const ComputeParams& p, Tensor* t);
void forward_sum_to(const ComputeParams& p, Tensor* t);
size_t forward_sum_to_work_bytes(const Tensor* t, int nth);
void forward_repeat(const ComputeParams& p, Tensor* t);
void forward_im2col(const ComputeParams& p, Tensor* t);
void forward_col2im(const ComputeParams& p, Tensor* t);
void forward_max_pool_2d(const ComputeParams& p, Tensor* t);
size_t forward_max_pool_2d_work_bytes(const Tensor* t, int nth);
void forward_max_pool_2d_backward(const ComputeParams& p, Tensor* t);
void forward_dropout(const ComputeParams& p, Tensor* t);
void forward_conv_2d(const ComputeParams& p, Tensor* t);
void forward_max_pool_of_conv(const ComputeParams& p, Tensor* t);
void forward_conv_2d_back_input(const ComputeParams& p, Tensor* t);
void forward_conv_2d_back_kernel(const ComputeParams& p, Tensor* t);
size_t forward_conv_2d_work_bytes(const Tensor* t, int nth);
void forward_cross_entropy_loss(const ComputeParams& p, Tensor* t);
void forward_cross_entropy_loss_backward(const ComputeParams& p, Tensor* t);
void forward_relu_backward(const ComputeParams& p, Tensor* t);
void forward_soft_max_backward(const ComputeParams& p, Tensor* t);

}  // namespace mn
