// Dropout: a mask that is a hash of (seed, element index), the same for the forward pass and
// the gradient.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "engine/forward.h"
#include "engine/op_params.h"
#include "kernels/kernels.h"

namespace mn {

void forward_dropout(const ComputeParams& p, Tensor* t) {
    const Tensor* x = t->src[0];
    const int32_t* seed = static_cast<const int32_t*>(t->src[1]->data);
    const uint64_t key = (uint64_t(uint32_t(seed[1])) << 32) | uint32_t(seed[0]);
    const float rate = params<DropoutParams>(t).rate;
    const float keep_scale = 1.0f / (1.0f - rate);
    // Keep when a 24-bit uniform draw is at or above the rate.
    const uint64_t threshold = static_cast<uint64_t>(static_cast<double>(rate) * (1 << 24));
    int64_t begin, end;
    split_range(t->nrows(), p.ith, p.nth, 1, begin, end);
    for (int64_t row = begin; row < end; ++row) {
        const RowIndex r = row_index(t, row);
        float* y = reinterpret_cast<float*>(t->at(0, r.i1, r.i2, r.i3));
        const uint64_t base = static_cast<uint64_t>(row * t->ne[0]);
        if (x->nb[0] == sizeof(float)) {
            kernels().dropout(reinterpret_cast<const float*>(x->at(0, r.i1, r.i2, r.i3)), y, t->ne[0], key, base, threshold,
                              keep_scale);
            continue;
        }
        for (int64_t i = 0; i < t->ne[0]; ++i) {
            const float v = load_f32(x, i, r.i1, r.i2, r.i3);
            kernels().dropout(&v, y + i, 1, key, base + static_cast<uint64_t>(i), threshold, keep_scale);
        }
    }
}

}  // namespace mn
