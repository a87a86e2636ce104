#include "engine/forward.h"

#include "engine/op_table.h"
#include "engine/threads.h"

namespace mn {

void ComputeParams::barrier() const {
    if (nth > 1) pool->barrier();
}

size_t forward_work_bytes(const Tensor* t, int nth) {
    const auto work = op_def(t->op).work_bytes;
    return work ? work(t, nth) : 0;
}

void forward(const ComputeParams& p, Tensor* t) {
    if (const auto f = op_def(t->op).forward) f(p, t);  // leaves and views: nothing to compute
}

}  // namespace mn
