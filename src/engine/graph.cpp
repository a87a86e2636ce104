#include "engine/graph.h"

#include <utility>

namespace mn {

void Graph::build_forward(Tensor* out) {
    // Iterative post-order walk with an explicit stack; a tensor is marked when first pushed,
    // so shared sources are visited once.
    if (!visited_.insert(out).second) return;
    std::vector<std::pair<Tensor*, int>> stack{{out, 0}};
    while (!stack.empty()) {
        auto& [t, next_src] = stack.back();
        if (next_src < kMaxSrc) {
            Tensor* s = t->src[next_src++];
            if (s && visited_.insert(s).second) stack.push_back({s, 0});
            continue;
        }
        Tensor* done = t;
        stack.pop_back();
        (done->op == Op::None ? leafs : nodes).push_back(done);
    }
}

}  // namespace mn
