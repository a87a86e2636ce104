#pragma once
// Where the model looks: the gradient of one class's score (its logit, before the softmax) with
// respect to every input pixel, for one image. The graph is built once: the model's forward pass
// in inference mode, the class picked by a one-hot row (score = onehotᵀ · logits, so the class
// is an input, not a rebuild), and the engine's autodiff back to the image (engine/autodiff.h),
// with no weight gradients. A positive value means more ink there raises the score.
#include <cstdint>

#include "engine/allocator.h"
#include "engine/autodiff.h"
#include "engine/context.h"
#include "engine/executor.h"
#include "engine/graph.h"
#include "models/model.h"

namespace mn {

class Saliency {
public:
    Saliency(const Model& model, Executor& executor);
    int64_t n_pixels() const { return images_->ne[0]; }
    int64_t n_classes() const { return onehot_->ne[0]; }

    // pixels: n_pixels() bytes, 0..255 (scaled to [0, 1] as for a prediction). Returns
    // d logit[cls] / d pixel for each of the n_pixels() pixels, per unit of the scaled value.
    const float* run(const uint8_t* pixels, int cls);
    const float* logits() const { return logits_->f32(); }  // of the last run

private:
    Context ctx_;
    Graph graph_;
    Tensor* images_ = nullptr;  // [n_pixels, 1]
    Tensor* onehot_ = nullptr;  // [n_classes, 1]
    Tensor* logits_ = nullptr;  // [n_classes, 1]
    Gradients grads_;
    Tensor* gradient_ = nullptr;  // d score / d images, [n_pixels, 1]
    GraphAllocator alloc_;
    Executor& executor_;
};

}  // namespace mn
