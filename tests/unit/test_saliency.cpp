// Where the model looks: the engine's autodiff from a class's logit back to the input pixels,
// checked on the shipped models against gradients written out by hand here in double precision
// (the FC net's in closed form, the CNN's by backpropagating through its layers), at every SIMD
// level.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/kernels.h"
#include "session/session.h"
#include "session/status.h"
#include "test_support.h"

namespace {

constexpr int kSide = 28;
constexpr int kPixels = kSide * kSide;

struct Reference {
    std::vector<double> logits;
    std::vector<double> gradient;  // d logits[cls] / d x, x = pixels / 255
};

const float* weights(const mn::Session& s, const char* name) { return s.model().get(name)->f32(); }

// logits = W2 · relu(W1 · x + b1) + b2, so d logits[c] / dx = sum over active hidden units j
// of W2[c][j] W1[j]. Rows of fc1.weight [784, H] and fc2.weight [H, 10] are contiguous.
Reference fc_reference(const mn::Session& s, const uint8_t* pixels, int cls) {
    const mn::Tensor* w1t = s.model().get("fc1.weight");
    const int hidden = int(w1t->ne[1]), classes = s.n_classes();
    const float *w1 = w1t->f32(), *b1 = weights(s, "fc1.bias"), *w2 = weights(s, "fc2.weight"),
                *b2 = weights(s, "fc2.bias");
    std::vector<double> h(size_t(hidden), 0.0);
    for (int j = 0; j < hidden; ++j) {
        double z = b1[j];
        for (int p = 0; p < kPixels; ++p) z += double(w1[j * kPixels + p]) * (pixels[p] / 255.0);
        h[size_t(j)] = z;
    }
    Reference r{std::vector<double>(size_t(classes)), std::vector<double>(kPixels, 0.0)};
    for (int c = 0; c < classes; ++c) {
        double z = b2[c];
        for (int j = 0; j < hidden; ++j) z += double(w2[c * hidden + j]) * std::max(h[size_t(j)], 0.0);
        r.logits[size_t(c)] = z;
    }
    for (int j = 0; j < hidden; ++j)
        if (h[size_t(j)] > 0)
            for (int p = 0; p < kPixels; ++p) r.gradient[size_t(p)] += double(w2[cls * hidden + j]) * w1[j * kPixels + p];
    return r;
}

// One activation [C, W, H] (channels innermost, as the engine's).
struct Act {
    int c, w, h;
    std::vector<double> v;
    Act(int c_, int w_, int h_) : c(c_), w(w_), h(h_), v(size_t(c_) * w_ * h_, 0.0) {}
    double& at(int ch, int x, int y) { return v[(size_t(y) * w + x) * c + ch]; }
};

// A valid 3x3 convolution (kernel [3, 3, IC, OC]) plus bias, as PyTorch and the engine compute it.
Act conv(const Act& in, const float* k, const float* b, int oc) {
    Act out(oc, in.w - 2, in.h - 2);
    for (int y = 0; y < out.h; ++y)
        for (int x = 0; x < out.w; ++x)
            for (int o = 0; o < oc; ++o) {
                double z = b[o];
                for (int i = 0; i < in.c; ++i)
                    for (int ky = 0; ky < 3; ++ky)
                        for (int kx = 0; kx < 3; ++kx)
                            z += double(k[((o * in.c + i) * 3 + ky) * 3 + kx]) * in.v[(size_t(y + ky) * in.w + x + kx) * in.c + i];
                out.at(o, x, y) = z;
            }
    return out;
}

// The gradient of a conv's input, given its output's (the same taps, scattered back).
Act conv_back(const Act& dout, const float* k, int ic) {
    Act din(ic, dout.w + 2, dout.h + 2);
    for (int y = 0; y < dout.h; ++y)
        for (int x = 0; x < dout.w; ++x)
            for (int o = 0; o < dout.c; ++o)
                for (int i = 0; i < ic; ++i)
                    for (int ky = 0; ky < 3; ++ky)
                        for (int kx = 0; kx < 3; ++kx)
                            din.at(i, x + kx, y + ky) += double(k[((o * ic + i) * 3 + ky) * 3 + kx]) * dout.v[(size_t(y) * dout.w + x) * dout.c + o];
    return din;
}

// relu then 2x2 max pooling; `from` remembers which input each output took (for backward).
Act relu_pool(const Act& in, std::vector<size_t>& from) {
    Act out(in.c, in.w / 2, in.h / 2);
    from.assign(out.v.size(), 0);
    for (int y = 0; y < out.h; ++y)
        for (int x = 0; x < out.w; ++x)
            for (int ch = 0; ch < in.c; ++ch) {
                size_t best = (size_t(2 * y) * in.w + 2 * x) * in.c + ch;
                for (int dy = 0; dy < 2; ++dy)
                    for (int dx = 0; dx < 2; ++dx) {
                        const size_t i = (size_t(2 * y + dy) * in.w + 2 * x + dx) * in.c + ch;
                        if (in.v[i] > in.v[best]) best = i;
                    }
                const size_t o = (size_t(y) * out.w + x) * out.c + ch;
                out.v[o] = std::max(in.v[best], 0.0);
                from[o] = best;
            }
    return out;
}

// The gradient through relu_pool: each output's gradient goes to the input it took, if positive.
Act relu_pool_back(const Act& dout, const Act& in, const std::vector<size_t>& from) {
    Act din(in.c, in.w, in.h);
    for (size_t o = 0; o < dout.v.size(); ++o)
        if (in.v[from[o]] > 0) din.v[from[o]] += dout.v[o];
    return din;
}

// The seeds' CNN (valid 3x3 convolutions, relu, 2x2 pooling, twice; a dense layer over the
// channels-innermost flattening), forward and backward from logits[cls].
Reference cnn_reference(const mn::Session& s, const uint8_t* pixels, int cls) {
    const mn::Tensor* k1t = s.model().get("conv1.kernel");
    const mn::Tensor* k2t = s.model().get("conv2.kernel");
    const int c1 = int(k1t->ne[3]), c2 = int(k2t->ne[3]), classes = s.n_classes();
    Act x(1, kSide, kSide);
    for (int p = 0; p < kPixels; ++p) x.v[size_t(p)] = pixels[p] / 255.0;
    const Act a1 = conv(x, k1t->f32(), weights(s, "conv1.bias"), c1);
    std::vector<size_t> from1, from2;
    const Act p1 = relu_pool(a1, from1);
    const Act a2 = conv(p1, k2t->f32(), weights(s, "conv2.bias"), c2);
    const Act p2 = relu_pool(a2, from2);
    const float *wd = weights(s, "dense.weight"), *bd = weights(s, "dense.bias");
    const size_t flat = p2.v.size();
    EXPECT_EQ(int64_t(flat), s.model().get("dense.weight")->ne[0]) << "the reference is the seeds' valid-padding CNN";
    Reference r{std::vector<double>(size_t(classes)), {}};
    for (int c = 0; c < classes; ++c) {
        double z = bd[c];
        for (size_t f = 0; f < flat; ++f) z += double(wd[size_t(c) * flat + f]) * p2.v[f];
        r.logits[size_t(c)] = z;
    }
    Act dp2(p2.c, p2.w, p2.h);
    for (size_t f = 0; f < flat; ++f) dp2.v[f] = wd[size_t(cls) * flat + f];
    const Act dp1 = conv_back(relu_pool_back(dp2, a2, from2), k2t->f32(), c1);
    const Act dx = conv_back(relu_pool_back(dp1, a1, from1), k1t->f32(), 1);
    r.gradient = dx.v;
    return r;
}

// The engine's gradient equals the reference within float rounding, for several test digits
// and classes (the predicted one and another), at every SIMD level.
template <typename RefFn>
void check_model(const char* file, RefFn reference) {
    MNIST_TEST_SET_OR_SKIP(set);
    mn::test::LevelGuard guard;
    for (mn::CpuLevel level : mn::test::supported_levels()) {
        mn::set_cpu_level(level);
        const mn::Session s(mn::test::shipped_model(file));
        for (int i = 0; i < 6; ++i) {
            const uint8_t* pixels = set->images.image(i * 97);
            const int predicted = s.predict(pixels).digit;
            for (int cls : {predicted, (predicted + 3) % 10}) {
                const std::vector<float> g = s.saliency(pixels, cls);
                const Reference ref = reference(s, pixels, cls);
                ASSERT_EQ(g.size(), ref.gradient.size());
                double scale = 0;
                for (double v : ref.gradient) scale = std::max(scale, std::abs(v));
                ASSERT_GT(scale, 0.01) << "a digit's gradient is not zero";
                for (size_t p = 0; p < g.size(); ++p)
                    ASSERT_NEAR(g[p], ref.gradient[p], 2e-4 * scale)
                        << file << " at " << mn::cpu_level_name(level) << ", image " << i * 97 << ", class " << cls
                        << ", pixel " << p;
                // The reference's forward pass is the engine's (its layout assumptions hold).
                EXPECT_EQ(predicted, int(std::max_element(ref.logits.begin(), ref.logits.end()) - ref.logits.begin()));
            }
        }
    }
}

}  // namespace

TEST(Saliency, FcMatchesClosedForm) { check_model("mnist-fc-f32.gguf", fc_reference); }

TEST(Saliency, CnnMatchesBackpropagationByHand) { check_model("mnist-cnn-f32.gguf", cnn_reference); }

TEST(Saliency, BadArgumentsAreStatuses) {
    const mn::Session s(mn::test::shipped_model("mnist-fc-f32.gguf"));
    const std::vector<uint8_t> blank(kPixels, 0);
    for (int cls : {-1, 10}) {
        try {
            s.saliency(blank.data(), cls);
            ADD_FAILURE() << "class " << cls << " accepted";
        } catch (const mn::StatusError& e) {
            EXPECT_EQ(int(e.status()), int(mn::Status::InvalidArgument));
            EXPECT_NE(std::string(e.what()).find("between 0 and 9"), std::string::npos) << e.what();
        }
    }
    EXPECT_THROW(s.saliency(nullptr, 0), mn::StatusError);
    EXPECT_EQ(s.saliency(blank.data(), 3).size(), size_t(kPixels));  // a blank image has a gradient too
}
