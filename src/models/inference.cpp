#include "models/inference.h"

#include <cstring>

#include "engine/error.h"
#include "engine/fusion.h"
#include "engine/ops.h"

namespace mn {

int64_t model_input_pixels(const Model& m) { return find_architecture(m.arch).n_pixels(m); }

InferenceGraph build_inference_graph(Context& ctx, const Model& m, int64_t batch) {
    check(batch >= 1 && batch <= (1 << 20), "batch size must be between 1 and 1048576");
    const Architecture& arch = find_architecture(m.arch);
    InferenceGraph g;
    g.images = ctx.new_tensor(DType::F32, {model_input_pixels(m), batch});
    g.images->set_name("images");
    g.images->flags |= kFlagInput;
    g.logits = arch.logits(ctx, m, g.images);
    g.logits->set_name("logits");
    g.probs = soft_max(ctx, g.logits);
    g.probs->set_name("probs");
    g.predicted = argmax(ctx, g.probs);
    g.predicted->set_name("predicted");
    for (Tensor* out : {g.logits, g.probs, g.predicted}) {
        out->flags |= kFlagOutput;
        g.graph.build_forward(out);
    }
    const Replacements r = optimize_graph(g.graph);
    g.logits = replacement(r, g.logits);
    return g;
}

Predictor::Predictor(const Model& model, int64_t batch, Executor& executor)
    : batch_(batch), g_(build_inference_graph(ctx_, model, batch)), executor_(executor) {
    alloc_.allocate(g_.graph);
}

void Predictor::run(const uint8_t* pixels, int64_t n) {
    check(n >= 0 && n <= batch_, "too many images for the batch");
    const int64_t np = n_pixels();
    float* x = g_.images->f32();
    for (int64_t i = 0; i < n * np; ++i) x[i] = pixels[i] * (1.0f / 255.0f);
    std::memset(x + n * np, 0, static_cast<size_t>((batch_ - n) * np) * sizeof(float));
    executor_.compute(g_.graph);
}

}  // namespace mn
