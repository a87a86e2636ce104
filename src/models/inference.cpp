#include "models/inference.h"

#include <cstring>

#include "engine/error.h"
#include "engine/fusion.h"
#include "engine/op_params.h"
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
    pack_weights();
}

// Weights do not change while a Predictor lives: pack each weight matrix for the GEMM, and each
// convolution kernel for the direct convolution (and, where it suits, transformed for the
// Winograd one), once instead of once per batch and thread.
void Predictor::pack_weights() {
    const KernelTable& k = kernels();
    for (Tensor* node : g_.graph.nodes) {
        const Tensor* w = node->src[0];
        if (w->op != Op::None || !(w->flags & kFlagParam) || w->type != DType::F32) continue;
        const float* data = static_cast<const float*>(w->data);
        auto packed = std::make_unique<PackedMatrix>();
        packed->level = k.level;
        if (node->op == Op::Conv2d && w->is_contiguous()) {
            const int kw = static_cast<int>(w->ne[0]), kh = static_cast<int>(w->ne[1]);
            packed->data.resize(k.conv_packed_floats(w->ne[2], w->ne[3], kw, kh));
            k.pack_conv_weights(data, kw, kh, w->ne[2], w->ne[3], false, packed->data.data());
            if (k.winograd_suits(kw, kh, w->ne[2], w->ne[3], params<Conv2dParams>(node).pool)) {
                packed->winograd.resize(k.winograd_packed_floats(w->ne[2], w->ne[3]));
                k.pack_winograd_weights(data, w->ne[2], w->ne[3], packed->winograd.data());
            }
        } else if (node->op == Op::MulMat && w->ne[2] == 1 && w->ne[3] == 1 &&
                   (w->nb[0] == sizeof(float) || w->nb[1] == sizeof(float))) {
            const bool trans = w->nb[0] != sizeof(float);
            const int64_t m = w->ne[1], kk = w->ne[0];
            packed->data.resize(k.packed_a_floats(m, kk));
            k.pack_a(data, static_cast<int64_t>(w->nb[trans ? 0 : 1] / sizeof(float)), trans, m, kk, 0, m,
                     packed->data.data());
        } else {
            continue;
        }
        node->op_data = packed.get();
        packed_weights_.push_back(std::move(packed));
    }
}

// __restrict tells the compiler the bytes do not alias the floats, so it vectorises the loop
// (a uint8_t pointer may alias anything otherwise).
void pixels_to_floats(const uint8_t* __restrict pixels, float* __restrict out, int64_t n) {
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(pixels[i]) * (1.0f / 255.0f);
}

void Predictor::run(const uint8_t* pixels, int64_t n) {
    check(n >= 0 && n <= batch_, "too many images for the batch");
    const int64_t np = n_pixels();
    executor_.parallel_for(n, 16, [&](int64_t begin, int64_t end) {
        pixels_to_floats(pixels + begin * np, g_.images->f32() + begin * np, (end - begin) * np);
    });
    float* x = g_.images->f32();
    std::memset(x + n * np, 0, static_cast<size_t>((batch_ - n) * np) * sizeof(float));
    executor_.compute(g_.graph);
}

}  // namespace mn
