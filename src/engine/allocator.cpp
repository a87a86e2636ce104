#include "engine/allocator.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <unordered_map>
#include <vector>

#include "engine/bits.h"
#include "engine/context.h"
#include "engine/error.h"

namespace mn {

namespace {

size_t aligned(size_t n) { return align_up(n, Context::kAlignment); }

Tensor* root_of(Tensor* t) { return t->view_src ? t->view_src : t; }

// Offsets in a virtual buffer: best-fit reuse of freed ranges, else growth at the end.
class OffsetPlanner {
public:
    size_t alloc(size_t bytes) {
        auto best = free_.end();
        for (auto it = free_.begin(); it != free_.end(); ++it)
            if (it->second >= bytes && (best == free_.end() || it->second < best->second)) best = it;
        if (best == free_.end()) {
            // Grow, absorbing a free range that ends at the current top.
            size_t offset = top_;
            if (!free_.empty() && std::prev(free_.end())->first + std::prev(free_.end())->second == top_) {
                offset = std::prev(free_.end())->first;
                free_.erase(std::prev(free_.end()));
            }
            top_ = offset + bytes;
            return offset;
        }
        const size_t offset = best->first, size = best->second;
        free_.erase(best);
        if (size > bytes) free_[offset + bytes] = size - bytes;
        return offset;
    }

    void release(size_t offset, size_t bytes) {
        auto [it, inserted] = free_.emplace(offset, bytes);
        (void)inserted;
        auto next = std::next(it);
        if (next != free_.end() && it->first + it->second == next->first) {
            it->second += next->second;
            free_.erase(next);
        }
        if (it != free_.begin()) {
            auto prev = std::prev(it);
            if (prev->first + prev->second == it->first) {
                prev->second += it->second;
                free_.erase(it);
            }
        }
    }

    size_t peak() const { return top_; }

private:
    std::map<size_t, size_t> free_;  // offset -> size
    size_t top_ = 0;
};

}  // namespace

void GraphAllocator::allocate(Graph& graph) {
    // Which tensors need memory from us, and the last node that reads each of them.
    std::unordered_map<Tensor*, size_t> last_reader;
    for (size_t i = 0; i < graph.nodes.size(); ++i)
        for (Tensor* s : graph.nodes[i]->src)
            if (s) last_reader[root_of(s)] = i;

    std::unordered_map<Tensor*, size_t> offset;
    OffsetPlanner planner;
    auto place = [&](Tensor* t) { offset[t] = planner.alloc(aligned(t->nbytes())); };

    for (Tensor* leaf : graph.leafs)
        if (!leaf->data) place(leaf);
    // Inputs, outputs and params keep their memory all along; for a view, that is its source's.
    const uint32_t keep_flags = kFlagInput | kFlagOutput | kFlagParam;
    std::unordered_map<const Tensor*, bool> kept;
    for (Tensor* t : graph.nodes)
        if (t->flags & keep_flags) kept[root_of(t)] = true;
    for (Tensor* t : graph.leafs)
        if (t->flags & keep_flags) kept[root_of(t)] = true;
    for (size_t i = 0; i < graph.nodes.size(); ++i) {
        Tensor* node = graph.nodes[i];
        if (!node->view_src && !node->data) place(node);
        for (Tensor* s : node->src) {
            if (!s) continue;
            Tensor* r = root_of(s);
            auto it = offset.find(r);
            if (it == offset.end() || r->op == Op::None || kept.count(r) || last_reader[r] != i) continue;
            planner.release(it->second, aligned(r->nbytes()));
            last_reader[r] = SIZE_MAX;  // released once, even if several sources share the root
        }
    }

    bytes_ = planner.peak();
    if (bytes_ > 0) {
        void* p = std::aligned_alloc(Context::kAlignment, aligned(bytes_));
        check(p != nullptr, "out of memory allocating " + std::to_string(bytes_) + " bytes of activations");
        // Touch every page now: page faults belong to set-up, not to the first evaluation.
        std::memset(p, 0, aligned(bytes_));
        buffer_.reset(static_cast<uint8_t*>(p));
    }
    for (auto& [t, off] : offset) t->data = buffer_.get() + off;
    for (Tensor* node : graph.nodes)
        if (node->view_src) node->data = static_cast<char*>(node->view_src->data) + node->view_offs;
}

}  // namespace mn
