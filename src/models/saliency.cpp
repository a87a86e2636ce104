#include "models/saliency.h"

#include <algorithm>

#include "engine/error.h"
#include "engine/fusion.h"
#include "engine/ops.h"
#include "models/inference.h"

namespace mn {

Saliency::Saliency(const Model& model, Executor& executor) : executor_(executor) {
    const Architecture& arch = find_architecture(model.arch);
    images_ = ctx_.new_tensor(DType::F32, {arch.n_pixels(model), 1});
    onehot_ = ctx_.new_tensor(DType::F32, {arch.n_classes(model), 1});
    images_->set_name("images");
    onehot_->set_name("onehot");
    for (Tensor* in : {images_, onehot_}) in->flags |= kFlagInput;
    logits_ = arch.logits(ctx_, model, images_);
    logits_->set_name("logits");
    Tensor* score = mul_mat(ctx_, onehot_, logits_);  // [1, 1]: the chosen class's logit
    score->set_name("score");
    for (Tensor* out : {logits_, score}) {
        out->flags |= kFlagOutput;
        graph_.build_forward(out);
    }
    grads_ = build_backward(ctx_, graph_, score, {images_});
    const Replacements r = optimize_graph(graph_);  // bias + relu fused, as for a prediction
    logits_ = replacement(r, logits_);
    gradient_ = replacement(r, grads_.get(images_));
    alloc_.allocate(graph_);
}

const float* Saliency::run(const uint8_t* pixels, int cls) {
    check(cls >= 0 && cls < n_classes(), "class " + std::to_string(cls) + " is not between 0 and " +
                                             std::to_string(n_classes() - 1));
    pixels_to_floats(pixels, images_->f32(), n_pixels());
    float* onehot = onehot_->f32();
    std::fill(onehot, onehot + n_classes(), 0.0f);
    onehot[cls] = 1.0f;
    executor_.compute(graph_);
    return gradient_->f32();
}

}  // namespace mn
