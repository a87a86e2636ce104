#include "engine/tensor.h"

#include <cstring>

namespace mn {

size_t Tensor::nbytes() const {
    if (nelements() == 0) return 0;
    const DTypeInfo& info = dtype_info(type);
    // The first row holds ne0/block_size blocks; every further step along a dimension adds its stride.
    size_t bytes = static_cast<size_t>(ne[0] / info.block_size) * info.block_bytes;
    if (info.block_size == 1) bytes = info.block_bytes + static_cast<size_t>(ne[0] - 1) * nb[0];
    for (int i = 1; i < kMaxDims; ++i) bytes += static_cast<size_t>(ne[i] - 1) * nb[i];
    return bytes;
}

int Tensor::n_dims() const {
    for (int i = kMaxDims - 1; i >= 1; --i)
        if (ne[i] > 1) return i + 1;
    return 1;
}

bool Tensor::is_contiguous() const {
    const DTypeInfo& info = dtype_info(type);
    size_t expect = info.block_bytes;
    if (nb[0] != expect) return false;
    expect = static_cast<size_t>(ne[0] / info.block_size) * info.block_bytes;
    for (int i = 1; i < kMaxDims; ++i) {
        if (ne[i] != 1 && nb[i] != expect) return false;
        expect *= static_cast<size_t>(ne[i]);
    }
    return true;
}

bool Tensor::same_shape(const Tensor& o) const {
    for (int i = 0; i < kMaxDims; ++i)
        if (ne[i] != o.ne[i]) return false;
    return true;
}

void Tensor::set_name(const std::string& n) {
    std::strncpy(name, n.c_str(), sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
}

std::string Tensor::shape_string() const {
    std::string s = "[";
    for (int i = 0; i < n_dims(); ++i) {
        if (i) s += ", ";
        s += std::to_string(ne[i]);
    }
    return s + "]";
}

void set_contiguous_strides(Tensor& t) {
    const DTypeInfo& info = dtype_info(t.type);
    t.nb[0] = info.block_bytes;
    t.nb[1] = static_cast<size_t>(t.ne[0] / info.block_size) * info.block_bytes;
    for (int i = 2; i < kMaxDims; ++i) t.nb[i] = t.nb[i - 1] * static_cast<size_t>(t.ne[i - 1]);
}

}  // namespace mn
