#include "engine/forward.h"

namespace mn {

size_t forward_work_bytes(const Tensor* t, int nth) {
    switch (t->op) {
        case Op::MulMat: return forward_mul_mat_work_bytes(t, nth);
        default: return 0;
    }
}

void forward(const ComputeParams& p, Tensor* t) {
    switch (t->op) {
        case Op::None:
        case Op::Reshape:
        case Op::View:
        case Op::Permute: return;  // leaves and views: nothing to compute
        case Op::Cont: forward_cont(p, t); return;
        case Op::Add: forward_add(p, t); return;
        case Op::MulMat: forward_mul_mat(p, t); return;
        case Op::Relu: forward_relu(p, t); return;
        case Op::SoftMax: forward_soft_max(p, t); return;
        case Op::Argmax: forward_argmax(p, t); return;
        case Op::Count_: return;
    }
}

}  // namespace mn
