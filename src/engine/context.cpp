#include "engine/context.h"

#include <cstdlib>

#include "engine/bits.h"
#include "engine/error.h"

namespace mn {

namespace {

// Sizes must be positive and the element count must not overflow: tensors are built from
// file headers too, and a hostile header must fail here rather than wrap around.
void check_shape(DType type, int n_dims, const int64_t* ne) {
    check(n_dims >= 1 && n_dims <= kMaxDims, "tensor must have 1 to 4 dimensions");
    int64_t total = 1;
    for (int i = 0; i < n_dims; ++i) {
        check(ne[i] >= 1, "tensor dimension " + std::to_string(i) + " must be positive");
        check(total <= (int64_t(1) << 40) / ne[i], "tensor is too large");
        total *= ne[i];
    }
    check(ne[0] % dtype_info(type).block_size == 0,
          "row size is not a multiple of the " + std::string(dtype_name(type)) + " block size");
}
}  // namespace

Context::Context(size_t arena_bytes) : arena_(nullptr, std::free), size_(align_up(arena_bytes, kAlignment)) {
    if (size_ > 0) {
        void* p = std::aligned_alloc(kAlignment, size_);
        check(p != nullptr, "out of memory allocating a " + std::to_string(size_) + "-byte arena");
        arena_.reset(static_cast<uint8_t*>(p));
    }
}

size_t Context::tensor_arena_bytes(DType type, int n_dims, const int64_t* ne) {
    check_shape(type, n_dims, ne);
    size_t bytes = row_bytes(type, ne[0]);
    for (int i = 1; i < n_dims; ++i) bytes *= static_cast<size_t>(ne[i]);
    return align_up(bytes, kAlignment);
}

void* Context::arena_alloc(size_t bytes) {
    bytes = align_up(bytes, kAlignment);
    check(used_ + bytes <= size_, "context arena is full (" + std::to_string(size_) + " bytes)");
    void* p = arena_.get() + used_;
    used_ += bytes;
    return p;
}

Tensor* Context::new_tensor(DType type, int n_dims, const int64_t* ne) {
    check_shape(type, n_dims, ne);
    Tensor& t = tensors_.emplace_back();
    t.type = type;
    for (int i = 0; i < n_dims; ++i) t.ne[i] = ne[i];
    set_contiguous_strides(t);
    if (size_ > 0) t.data = arena_alloc(t.nbytes());
    return &t;
}

Tensor* Context::new_tensor(DType type, std::initializer_list<int64_t> ne) {
    int64_t dims[kMaxDims] = {1, 1, 1, 1};
    int n = 0;
    for (int64_t d : ne) {
        check(n < kMaxDims, "tensor must have 1 to 4 dimensions");
        dims[n++] = d;
    }
    return new_tensor(type, n, dims);
}

Tensor* Context::new_op(Op op, DType type, const int64_t* ne, std::initializer_list<Tensor*> srcs) {
    check(srcs.size() <= static_cast<size_t>(kMaxSrc), "an op has at most kMaxSrc sources");
    Tensor* t = new_tensor(type, kMaxDims, ne);
    t->op = op;
    int i = 0;
    for (Tensor* s : srcs) t->src[i++] = s;
    return t;
}

Tensor* Context::new_view(Tensor* src, size_t offset) {
    Tensor& t = tensors_.emplace_back();
    t.type = src->type;
    // Views of views point at the tensor that owns the memory.
    if (src->view_src) {
        offset += src->view_offs;
        src = src->view_src;
    }
    t.view_src = src;
    t.view_offs = offset;
    if (src->data) t.data = static_cast<char*>(src->data) + offset;
    return &t;
}

}  // namespace mn
