#pragma once
// A Context owns tensors for one lifetime (the model's weights, or one graph's activations).
// Tensor metadata lives in a deque (stable addresses); tensor data, when the context allocates,
// comes from a single arena sized up front, so evaluation never calls malloc per op.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <initializer_list>
#include <memory>

#include "engine/tensor.h"

namespace mn {

class Context {
public:
    // arena_bytes == 0: tensors get no data here; a GraphAllocator (or the caller) places them.
    explicit Context(size_t arena_bytes = 0);
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;

    Tensor* new_tensor(DType type, int n_dims, const int64_t* ne);
    Tensor* new_tensor(DType type, std::initializer_list<int64_t> ne);
    // A tensor that shares `src`'s memory at byte offset `offset`; shape and strides set by the caller.
    Tensor* new_view(Tensor* src, size_t offset);
    // A graph node: the result of `op` on `srcs` (up to kMaxSrc; null for absent ones), of the
    // given type and sizes. Builders (engine/ops.h) check the sources and set the op's parameters.
    Tensor* new_op(Op op, DType type, const int64_t* ne, std::initializer_list<Tensor*> srcs);

    std::deque<Tensor>& tensors() { return tensors_; }
    const std::deque<Tensor>& tensors() const { return tensors_; }

    // Bytes of arena a contiguous tensor of this shape needs, including alignment padding.
    static size_t tensor_arena_bytes(DType type, int n_dims, const int64_t* ne);
    static constexpr size_t kAlignment = 64;

private:
    void* arena_alloc(size_t bytes);

    std::deque<Tensor> tensors_;
    std::unique_ptr<uint8_t, void (*)(void*)> arena_;
    size_t size_ = 0;
    size_t used_ = 0;
};

}  // namespace mn
