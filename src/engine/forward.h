#pragma once
// Forward computation of each op, split over threads. The executor calls forward() on every
// thread for each node; thread ith of nth does its share (rows, columns or tiles of the output)
// and uses only its own slice of the shared work buffer.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "engine/tensor.h"

namespace mn {

struct ComputeParams {
    int ith = 0;   // this thread
    int nth = 1;   // threads working on the node
    void* work = nullptr;       // this thread's scratch
    size_t work_bytes = 0;
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

// Per-op implementations (forward_<family>.cpp).
void forward_mul_mat(const ComputeParams& p, Tensor* t);
size_t forward_mul_mat_work_bytes(const Tensor* t, int nth);
void forward_add(const ComputeParams& p, Tensor* t);
void forward_relu(const ComputeParams& p, Tensor* t);
void forward_soft_max(const ComputeParams& p, Tensor* t);
void forward_argmax(const ComputeParams& p, Tensor* t);
void forward_cont(const ComputeParams& p, Tensor* t);

}  // namespace mn
