#include "engine/executor.h"

#include <algorithm>
#include <cstdlib>

#include "engine/error.h"
#include "engine/forward.h"

namespace mn {

Executor::Executor(int n_threads) : pool_(n_threads) {}

void Executor::compute(const Graph& graph) {
    const int nth = pool_.size();
    size_t need = 0;
    for (const Tensor* node : graph.nodes) need = std::max(need, forward_work_bytes(node, nth));
    need = (need + 63) / 64 * 64;
    if (need > work_per_thread_) {
        void* p = std::aligned_alloc(64, need * nth);
        check(p != nullptr, "out of memory allocating the work buffer");
        work_.reset(static_cast<uint8_t*>(p));
        work_per_thread_ = need;
    }
    pool_.run([&](int ith, int n) {
        ComputeParams params{ith, n, work_.get() ? work_.get() + ith * work_per_thread_ : nullptr, work_per_thread_};
        for (Tensor* node : graph.nodes) {
            if (op_is_view(node->op)) continue;
            forward(params, node);
            pool_.barrier();
        }
    });
}

}  // namespace mn
