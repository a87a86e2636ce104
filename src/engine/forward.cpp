#include "engine/forward.h"

#include "engine/threads.h"

namespace mn {

void ComputeParams::barrier() const {
    if (nth > 1) pool->barrier();
}

size_t forward_work_bytes(const Tensor* t, int nth) {
    switch (t->op) {
        case Op::MulMat: return forward_mul_mat_work_bytes(t, nth);
        case Op::SumTo: return forward_sum_to_work_bytes(t, nth);
        case Op::Conv2d:
        case Op::MaxPool2d:
        case Op::Conv2dBackInput:
        case Op::Conv2dBackKernel: return forward_conv_2d_work_bytes(t, nth);
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
        case Op::Scale: forward_scale(p, t); return;
        case Op::SumTo: forward_sum_to(p, t); return;
        case Op::Repeat: forward_repeat(p, t); return;
        case Op::Im2Col: forward_im2col(p, t); return;
        case Op::Col2Im: forward_col2im(p, t); return;
        case Op::Conv2d: forward_conv_2d(p, t); return;
        case Op::Conv2dBackInput: forward_conv_2d_back_input(p, t); return;
        case Op::Conv2dBackKernel: forward_conv_2d_back_kernel(p, t); return;
        case Op::MaxPool2d:
            if (t->op_params[2])
                forward_max_pool_of_conv(p, t);
            else
                forward_max_pool_2d(p, t);
            return;
        case Op::MaxPool2dBackward: forward_max_pool_2d_backward(p, t); return;
        case Op::Dropout: forward_dropout(p, t); return;
        case Op::CrossEntropyLoss: forward_cross_entropy_loss(p, t); return;
        case Op::CrossEntropyLossBackward: forward_cross_entropy_loss_backward(p, t); return;
        case Op::ReluBackward: forward_relu_backward(p, t); return;
        case Op::SoftMaxBackward: forward_soft_max_backward(p, t); return;
        case Op::Count_: return;
    }
}

}  // namespace mn
