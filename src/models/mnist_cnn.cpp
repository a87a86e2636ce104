// mnist-cnn: convolution blocks (conv 3x3 -> relu -> max pool 2) then a dense layer.
//
//   x      = images as [1, W, H, B]               (channels innermost, as every activation)
//   x      = maxpool2(relu(conv_i(x) + b_i))      for each conv layer i
//            maxpool2(relu(bn_i(conv_i(x))))      with batch normalisation
//   h      = flatten(x)                           [C*W'*H', B], channel fastest (ggml's order)
//   logits = dense.weight · dropout(h) + dense.bias
//
// With batch normalisation a conv layer has no bias of its own; in inference the running
// statistics are folded into the kernel and a bias, s = gamma / sqrt(var + eps):
//   bn(conv(x)) = conv_{kernel * s}(x) + (beta - mean * s)
// so the fused conv + bias + relu + pooling pass runs as without it.
//
// Hyperparameters (GGUF keys mnist-cnn.*): channels per conv layer, kernel size, padding,
// dropout, batch_norm. Presets: "seeds" (default; conv 32 and 64 valid, dropout 0.5, ~99%),
// "ggml" (ggml's own example: conv 8 and 16 same, no dropout), whose tensor names and shapes
// match ggml's files, and "fast" (batch normalisation; trained in seconds, see the README).
#include "engine/error.h"
#include "engine/ops.h"
#include "models/model.h"
#include "models/registry.h"

namespace mn {

namespace {

constexpr const char* kPrefix = "mnist-cnn.";

struct CnnShape {
    int64_t width, height, n_classes, kernel, padding;
    std::vector<int64_t> channels;
    double dropout;
    bool batch_norm;
};

constexpr float kBatchNormEps = 1e-5f;

std::string key(const char* name) { return std::string(kPrefix) + name; }

CnnShape shape_of(const Model& m) {
    CnnShape s;
    s.width = m.meta_int(key("image_width"), 28);
    s.height = m.meta_int(key("image_height"), 28);
    s.n_classes = m.meta_int(key("n_classes"), 10);
    s.kernel = m.meta_int(key("kernel_size"), 3);
    s.padding = m.meta_int(key("padding"), 0);
    const gguf::Value* ch = m.meta(key("channels"));
    s.channels = ch ? ch->as_int_array() : std::vector<int64_t>{32, 64};
    const gguf::Value* d = m.meta(key("dropout"));
    s.dropout = d ? d->as_float() : 0.0;
    s.batch_norm = m.meta_int(key("batch_norm"), 0) != 0;
    check(!s.channels.empty() && s.channels.size() <= 8, "mnist-cnn needs 1 to 8 conv layers");
    for (int64_t c : s.channels) check(c >= 1 && c <= 4096, "mnist-cnn: channel counts must be 1..4096");
    check(s.kernel >= 1 && s.kernel <= 15 && s.padding >= 0 && s.padding < s.kernel, "mnist-cnn: bad kernel or padding");
    check(s.width >= 1 && s.width <= 4096 && s.height >= 1 && s.height <= 4096, "mnist-cnn: bad image size");
    check(s.dropout >= 0.0 && s.dropout < 1.0, "mnist-cnn: dropout must be in [0, 1)");
    return s;
}

// Spatial size after each conv (stride 1) + pool 2 block.
int64_t after_block(int64_t in, const CnnShape& s) {
    const int64_t conv = in + 2 * s.padding - s.kernel + 1;
    check(conv >= 2, "mnist-cnn: the image is too small for this many layers");
    return conv / 2;
}

std::vector<gguf::KeyValue> hparams(std::vector<int32_t> channels, int64_t padding, float dropout,
                                     bool batch_norm = false) {
    std::vector<gguf::KeyValue> kv = {{key("image_width"), gguf::Value::u32(28)},
                                      {key("image_height"), gguf::Value::u32(28)},
                                      {key("n_classes"), gguf::Value::u32(10)},
                                      {key("kernel_size"), gguf::Value::u32(3)},
                                      {key("padding"), gguf::Value::u32(uint32_t(padding))},
                                      {key("channels"), gguf::Value::array(channels)},
                                      {key("dropout"), gguf::Value::f32(dropout)}};
    if (batch_norm) kv.emplace_back(key("batch_norm"), gguf::Value::u32(1));  // (absent: none, as in older files)
    return kv;
}

class MnistCnn : public Architecture {
public:
    std::string name() const override { return "mnist-cnn"; }

    std::vector<ParamSpec> param_specs(const Model& m) const override {
        const CnnShape s = shape_of(m);
        std::vector<ParamSpec> specs;
        int64_t in_c = 1, w = s.width, h = s.height;
        for (size_t i = 0; i < s.channels.size(); ++i) {
            const std::string conv = "conv" + std::to_string(i + 1);
            const int64_t fan_in = s.kernel * s.kernel * in_c, c = s.channels[i];
            specs.push_back({conv + ".kernel", 4, {s.kernel, s.kernel, in_c, c}, fan_in});
            if (s.batch_norm) {  // scale 1, shift 0, statistics of a standard normal: as PyTorch starts
                specs.push_back({conv + ".bn.weight", 1, {c, 1, 1, 1}, 1, 1.0f});
                specs.push_back({conv + ".bn.bias", 1, {c, 1, 1, 1}, 1, 0.0f});
                specs.push_back({conv + ".bn.running_mean", 1, {c, 1, 1, 1}, 1, 0.0f, true});
                specs.push_back({conv + ".bn.running_var", 1, {c, 1, 1, 1}, 1, 1.0f, true});
            } else {
                specs.push_back({conv + ".bias", 3, {1, 1, c, 1}, fan_in});
            }
            in_c = s.channels[i];
            w = after_block(w, s);
            h = after_block(h, s);
        }
        const int64_t flat = in_c * w * h;
        specs.push_back({"dense.weight", 2, {flat, s.n_classes, 1, 1}, flat});
        specs.push_back({"dense.bias", 1, {s.n_classes, 1, 1, 1}, flat});
        return specs;
    }

    // Files from ggml's own tools carry only tensors: read the layer widths off the kernels and
    // tell "same" from "valid" padding by the size of the dense layer.
    void infer_hparams(Model& m) const override {
        if (!m.meta(key("channels"))) {
            std::vector<int32_t> channels;
            for (int i = 1; const Tensor* k = m.find("conv" + std::to_string(i) + ".kernel"); ++i)
                channels.push_back(static_cast<int32_t>(k->ne[3]));
            check(!channels.empty(), "mnist-cnn model has no conv1.kernel");
            m.set_meta(key("channels"), gguf::Value::array(channels));
        }
        if (!m.meta(key("batch_norm")) && m.find("conv1.bn.weight"))  // a state_dict of the fast preset
            m.set_meta(key("batch_norm"), gguf::Value::u32(1));
        if (const Tensor* k = m.find("conv1.kernel"); k && !m.meta(key("kernel_size")))
            m.set_meta(key("kernel_size"), gguf::Value::u32(uint32_t(k->ne[0])));
        if (!m.meta(key("padding"))) {
            const Tensor* dense = m.find("dense.weight");
            uint32_t padding = 0;
            for (uint32_t pad : {0u, 1u}) {
                m.set_meta(key("padding"), gguf::Value::u32(pad));
                try {
                    if (dense && param_specs(m).back().fan_in == dense->ne[0]) padding = pad;
                } catch (const Error&) {
                }
            }
            m.set_meta(key("padding"), gguf::Value::u32(padding));
        }
    }

    std::vector<gguf::KeyValue> preset(const std::string& name) const override {
        if (name.empty() || name == "seeds") return hparams({32, 64}, 0, 0.5f);
        if (name == "ggml") return hparams({8, 16}, 1, 0.0f);
        if (name == "fast") return hparams({8, 32}, 0, 0.0f, true);
        throw Error("unknown mnist-cnn preset '" + printable(name) + "' (expected seeds, ggml or fast)");
    }

    Tensor* logits(Context& ctx, const Model& m, Tensor* images, const ForwardOptions& opt) const override {
        const CnnShape s = shape_of(m);
        const int64_t batch = images->ne[1];
        Tensor* x = reshape(ctx, images, {1, s.width, s.height, batch});
        for (size_t i = 0; i < s.channels.size(); ++i) {
            const std::string conv = "conv" + std::to_string(i + 1);
            const int64_t c = s.channels[i];
            const int pad = static_cast<int>(s.padding);
            Tensor* kernel = m.get(conv + ".kernel");
            if (!s.batch_norm) {
                x = add(ctx, conv_2d(ctx, kernel, x, 1, pad), reshape(ctx, m.get(conv + ".bias"), {c}));
            } else {
                Tensor* gamma = m.get(conv + ".bn.weight");
                Tensor* beta = m.get(conv + ".bn.bias");
                Tensor* mean = m.get(conv + ".bn.running_mean");
                Tensor* var = m.get(conv + ".bn.running_var");
                if (opt.training) {
                    x = batch_norm(ctx, conv_2d(ctx, kernel, x, 1, pad), gamma, beta, mean, var, true, kBatchNormEps);
                } else {  // folded: s = gamma / sqrt(var + eps)
                    Tensor* scale_c = mul(ctx, gamma, rsqrt(ctx, scale(ctx, var, 1.0f, kBatchNormEps)));
                    Tensor* folded = mul(ctx, kernel, reshape(ctx, scale_c, {1, 1, 1, c}));
                    x = add(ctx, conv_2d(ctx, folded, x, 1, pad), sub(ctx, beta, mul(ctx, mean, scale_c)));
                }
            }
            x = max_pool_2d(ctx, relu(ctx, x), 2, 2);
        }
        Tensor* h = reshape(ctx, x, {x->ne[0] * x->ne[1] * x->ne[2], batch});
        if (opt.training && s.dropout > 0.0) h = dropout(ctx, h, opt.dropout_seed, static_cast<float>(s.dropout));
        return add(ctx, mul_mat(ctx, m.get("dense.weight"), h), m.get("dense.bias"));
    }

    // The seeds' CNN: Adam 1e-3, batch 128, 15 epochs, with random shifts of one pixel (without
    // them it lands just under 99.2%); ggml's: 30 epochs of 500; fast: see the README.
    TrainRecipe recipe(const std::string& preset) const override {
        TrainRecipe r;
        if (preset == "ggml") {
            r.epochs = 30;
            r.batch = 500;
            r.val_split = 0.05;
        } else if (preset == "fast") {
            r.epochs = 2;
            r.batch = 128;
            r.lr = 2.5e-2;
            r.val_split = 0.0;
            r.augment_shift = 1;
            r.schedule = "onecycle";
            r.warmup = 0.2;
            r.label_smoothing = 0.1;
        } else {
            r.epochs = 15;
            r.batch = 128;
            r.augment_shift = 1;
        }
        return r;
    }

    bool is_state_dict_of(const std::vector<std::string>& names) const override {
        for (const std::string& n : names)
            if (n.rfind("conv1.", 0) == 0) return true;
        return false;
    }

    // tools/train_cnn.py names layers as we do, but PyTorch calls a conv kernel "weight" and
    // keeps its bias 1-D (ours follow ggml: convN.kernel, a [1, 1, C] bias); a layer with batch
    // normalisation is a module of its own there (convN.conv, convN.bn), whose count of batches
    // seen we do not keep.
    std::string from_pytorch(const std::string& name, std::vector<int64_t>& ne) const override {
        if (name.rfind("conv", 0) != 0) return name;
        const auto ends_with = [&](const std::string& s) {
            return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
        };
        if (ends_with(".num_batches_tracked")) return "";
        if (name.find(".bn.") != std::string::npos) return name;
        const std::string layer = name.substr(0, name.find('.'));  // convN (convN.conv.weight or convN.weight)
        if (ends_with(".weight")) return layer + ".kernel";
        if (ends_with(".bias") && ne.size() == 1) ne = {1, 1, ne[0]};
        return ends_with(".bias") ? layer + ".bias" : name;
    }

    int64_t n_classes(const Model& m) const override { return shape_of(m).n_classes; }
    int64_t n_pixels(const Model& m) const override {
        const CnnShape s = shape_of(m);
        return s.width * s.height;
    }
};

}  // namespace

const Architecture& mnist_cnn_architecture() {
    static const MnistCnn arch;
    return arch;
}

}  // namespace mn
