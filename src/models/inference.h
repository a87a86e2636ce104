#pragma once
// Inference: the graph images → logits → probabilities → predicted class, built once for a
// batch size and evaluated batch after batch. Images stay uint8 until a batch is fed; they are
// scaled to [0, 1] floats straight into the graph's input tensor.
#include <cstdint>

#include "engine/allocator.h"
#include "engine/context.h"
#include "engine/executor.h"
#include "engine/graph.h"
#include "kernels/kernels.h"
#include "models/model.h"

namespace mn {

struct InferenceGraph {
    Tensor* images = nullptr;  // input  [n_pixels, batch] f32
    Tensor* logits = nullptr;  // output [n_classes, batch] f32
    Tensor* probs = nullptr;   // output [n_classes, batch] f32 (softmax of logits)
    Tensor* predicted = nullptr;  // output [batch] i32
    Graph graph;
};

// Records the graph in `ctx` (a Context without arena: a GraphAllocator places the tensors).
InferenceGraph build_inference_graph(Context& ctx, const Model& m, int64_t batch);

// Number of input pixels the model takes (784 for MNIST).
int64_t model_input_pixels(const Model& m);

// n uint8 pixels (0..255) to the floats a model reads (0..1).
void pixels_to_floats(const uint8_t* pixels, float* out, int64_t n);

class Predictor {
public:
    Predictor(const Model& model, int64_t batch, Executor& executor);
    int64_t batch() const { return batch_; }
    int64_t n_classes() const { return g_.logits->ne[0]; }
    int64_t n_pixels() const { return g_.images->ne[0]; }

    // Evaluates n <= batch() images stored one after another (n_pixels() bytes each). The
    // graph is static, so a partial batch is padded with blank images whose results are ignored.
    void run(const uint8_t* pixels, int64_t n);

    const float* logits(int64_t i) const { return g_.logits->f32() + i * n_classes(); }
    const float* probs(int64_t i) const { return g_.probs->f32() + i * n_classes(); }
    int predicted(int64_t i) const { return static_cast<const int32_t*>(g_.predicted->data)[i]; }
    const InferenceGraph& graph() const { return g_; }
    size_t activation_bytes() const { return alloc_.buffer_bytes(); }

private:
    int64_t batch_;
    Context ctx_;
    InferenceGraph g_;
    GraphAllocator alloc_;
    Executor& executor_;
    std::vector<std::unique_ptr<PackedMatrix>> packed_weights_;  // pointed to by mul_mat nodes
    void pack_weights();
};

}  // namespace mn
