#pragma once
// Places a graph's intermediate tensors in one buffer. Memory of a tensor is handed to later
// tensors once its last reader has run (liveness), so a deep network needs little more than its
// two largest neighbouring activations. Tensors flagged input, output or param are kept for the
// whole evaluation; tensors that already have data (weights) are left alone.
#include <cstddef>
#include <memory>

#include "engine/graph.h"

namespace mn {

class GraphAllocator {
public:
    // Plans and allocates; views get pointers into their source's memory.
    void allocate(Graph& graph);
    size_t buffer_bytes() const { return bytes_; }

private:
    std::unique_ptr<uint8_t, void (*)(void*)> buffer_{nullptr, std::free};
    size_t bytes_ = 0;
};

}  // namespace mn
