#include "models/trainer.h"

#include <chrono>
#include <cmath>
#include <cstring>
#include <random>

#include "engine/error.h"
#include "engine/fusion.h"
#include "engine/ops.h"
#include "kernels/kernels.h"

namespace mn {

namespace {
// SplitMix64: one step of its Weyl sequence, then its finaliser (kernels.h).
uint64_t splitmix64(uint64_t z) { return mix64(z + 0x9e3779b97f4a7c15ULL); }
}  // namespace

int64_t train_count(int64_t total, double val_split) {
    const int64_t n_val = static_cast<int64_t>(std::floor(double(total) * val_split));
    return total - n_val;
}

Trainer::Trainer(Model& model, const TrainConfig& config, Executor& executor, int64_t n_train)
    : model_(model), config_(config), executor_(executor), n_train_(n_train), optimizer_(config.optimizer, build(n_train)) {
    alloc_.allocate(graph_);
}

namespace {

// The training graph of `model` for n images, recorded in ctx and graph: logits in training
// mode, the loss, its gradients (into grads).
TrainingGraph build_training_graph(Context& ctx, Graph& graph, Gradients& grads, Model& model, int64_t n) {
    const Architecture& arch = find_architecture(model.arch);
    TrainingGraph t;
    t.images = ctx.new_tensor(DType::F32, {arch.n_pixels(model), n});
    t.labels = ctx.new_tensor(DType::F32, {arch.n_classes(model), n});
    t.seed = ctx.new_tensor(DType::I32, {2});
    for (Tensor* in : {t.images, t.labels, t.seed}) in->flags |= kFlagInput;
    t.images->set_name("images");
    t.labels->set_name("labels");
    t.seed->set_name("dropout_seed");
    Tensor* logits = arch.logits(ctx, model, t.images, ForwardOptions{true, t.seed});
    t.loss = cross_entropy_loss(ctx, logits, t.labels);
    t.loss->set_name("loss");
    t.predicted = argmax(ctx, logits);
    for (Tensor* out : {t.loss, t.predicted}) {
        out->flags |= kFlagOutput;
        graph.build_forward(out);
    }
    grads = build_backward(ctx, graph, t.loss);
    optimize_graph(graph);  // the loss, predictions and gradients are not fused away
    return t;
}

// Activation bytes of the training graph for n images.
size_t training_graph_bytes(Model& model, int64_t n) {
    Context ctx;
    Graph graph;
    Gradients grads;
    build_training_graph(ctx, graph, grads, model, n);
    GraphAllocator alloc;
    alloc.allocate(graph);
    return alloc.buffer_bytes();
}

}  // namespace

int64_t auto_micro_batch(Model& model, int64_t batch) {
    if (batch <= 2 * kMinMicroBatch) return batch;
    const size_t per_image = (training_graph_bytes(model, 64) - training_graph_bytes(model, 32)) / 32;
    const int64_t fits = std::max<int64_t>(kMinMicroBatch, static_cast<int64_t>(kMicroBatchBytes / std::max<size_t>(per_image, 1)));
    const int64_t passes = (batch + fits - 1) / fits;
    return (batch + passes - 1) / passes;  // equal passes
}

// The training graph for micro_ images. Returns (param, the gradient the optimizer reads).
std::vector<std::pair<Tensor*, const Tensor*>> Trainer::build(int64_t n_train) {
    check(n_train >= 1, "no training images left after the validation split");
    check(config_.batch >= 1, "batch size must be positive");
    check(config_.micro_batch >= 0, "micro-batch size must not be negative");
    micro_ = config_.micro_batch > 0 ? std::min(config_.micro_batch, config_.batch) : auto_micro_batch(model_, config_.batch);
    nodes_ = build_training_graph(ctx_, graph_, grads_, model_, micro_);
    std::vector<Tensor*> trained;  // (state, such as batch norm's statistics, takes no gradient)
    for (Tensor* p : model_.params)
        if (p->flags & kFlagParam) trained.push_back(p);
    std::vector<std::pair<Tensor*, const Tensor*>> pg;
    if (micro_ == config_.batch) {  // the graph's gradients are the batch's
        for (Tensor* p : trained) pg.emplace_back(p, grads_.get(p));
        return pg;
    }
    size_t bytes = 0;
    for (const Tensor* p : trained) bytes += Context::tensor_arena_bytes(DType::F32, kMaxDims, p->ne);
    sums_ctx_ = std::make_unique<Context>(bytes);
    for (Tensor* p : trained) {
        Tensor* sum = sums_ctx_->new_tensor(DType::F32, {p->ne[0], p->ne[1], p->ne[2], p->ne[3]});
        sums_.emplace_back(grads_.get(p), sum);
        pg.emplace_back(p, sum);
    }
    return pg;
}

std::vector<int64_t> Trainer::epoch_order(int64_t epoch) const {
    std::vector<int64_t> order(static_cast<size_t>(n_train_));
    for (int64_t i = 0; i < n_train_; ++i) order[static_cast<size_t>(i)] = i;
    // Fisher-Yates with our own generator: the same order on every standard library.
    std::mt19937_64 rng(splitmix64(config_.seed ^ splitmix64(static_cast<uint64_t>(epoch))));
    for (int64_t i = n_train_ - 1; i > 0; --i) {
        const int64_t j = static_cast<int64_t>(rng() % static_cast<uint64_t>(i + 1));
        std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(j)]);
    }
    return order;
}

// Fills the graph's inputs with n <= micro_ images; `key` picks this pass's random shifts.
void Trainer::fill(const IdxImages& images, const IdxLabels& labels, const int64_t* indices, int64_t n, uint64_t key) {
    const int64_t np = nodes_.images->ne[0], nc = nodes_.labels->ne[0];
    float* x = nodes_.images->f32();
    float* y = nodes_.labels->f32();
    std::memset(y, 0, static_cast<size_t>(nodes_.labels->nelements()) * sizeof(float));
    // Threads fill disjoint images of the batch.
    executor_.parallel_for(n, 16, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
            const uint8_t* px = images.image(indices[i]);
            float* xi = x + i * np;
            if (config_.augment_shift > 0) {
                // A random translation, a function of (seed, step, slot): repeatable, and the same
                // after a resume.
                const uint64_t h = splitmix64(key ^ static_cast<uint64_t>(i));
                const int64_t span = 2 * config_.augment_shift + 1;
                const int64_t dx = static_cast<int64_t>(h % span) - config_.augment_shift;
                const int64_t dy = static_cast<int64_t>((h >> 32) % span) - config_.augment_shift;
                for (int64_t r = 0; r < images.rows; ++r)
                    for (int64_t c = 0; c < images.cols; ++c) {
                        const int64_t sr = r - dy, sc = c - dx;
                        const bool inside = sr >= 0 && sr < images.rows && sc >= 0 && sc < images.cols;
                        xi[r * images.cols + c] = inside ? px[sr * images.cols + sc] * (1.0f / 255.0f) : 0.0f;
                    }
            } else {
                for (int64_t k = 0; k < np; ++k) xi[k] = px[k] * (1.0f / 255.0f);
            }
            float* yi = y + i * nc;
            const double e = config_.label_smoothing;
            if (e > 0.0) std::fill(yi, yi + nc, float(e / double(nc)));
            yi[labels.labels[static_cast<size_t>(indices[i])]] = float(1.0 - e + e / double(nc));
        }
    });
    // A partial last batch: blank images with all-zero labels, which the loss ignores.
    std::memset(x + n * np, 0, static_cast<size_t>((micro_ - n) * np) * sizeof(float));
}

// sum = (first ? 0 : sum) + weight * gradient, for every parameter.
void Trainer::add_gradients(float weight, bool first) {
    for (const auto& [grad, sum] : sums_) {
        const float* g = grad->f32();
        float* s = sum->f32();
        executor_.parallel_for(sum->nelements(), 4096, [&](int64_t begin, int64_t end) {
            for (int64_t i = begin; i < end; ++i) s[i] = (first ? 0.0f : s[i]) + weight * g[i];
        });
    }
}

std::pair<double, int64_t> Trainer::step(const IdxImages& images, const IdxLabels& labels, const int64_t* indices,
                                         int64_t n) {
    const uint64_t steps_done = static_cast<uint64_t>(optimizer_.steps_taken());
    const uint64_t step_key = splitmix64(config_.seed ^ splitmix64(0xa0a0a0a0ULL + steps_done));
    const uint64_t dropout_key = splitmix64(config_.seed ^ splitmix64(0x5eed0000ULL + steps_done));
    double loss_sum = 0.0;
    int64_t correct = 0;
    // Micro-batch u takes images [u * micro_, ...) of the batch; its loss is the mean over its
    // images, so its gradient counts in proportion to their number.
    for (int64_t first = 0, u = 0; first < n; first += micro_, ++u) {
        const int64_t nu = std::min(micro_, n - first);
        // Pass 0 keeps the keys of a batch without micro-batches.
        fill(images, labels, indices + first, nu, u == 0 ? step_key : splitmix64(step_key + static_cast<uint64_t>(u)));
        if (nodes_.seed->data) {  // only networks with dropout read it
            const uint64_t s = u == 0 ? dropout_key : splitmix64(dropout_key + static_cast<uint64_t>(u));
            static_cast<int32_t*>(nodes_.seed->data)[0] = static_cast<int32_t>(s);
            static_cast<int32_t*>(nodes_.seed->data)[1] = static_cast<int32_t>(s >> 32);
        }
        executor_.compute(graph_);
        if (!sums_.empty()) add_gradients(static_cast<float>(double(nu) / double(n)), first == 0);
        loss_sum += double(nodes_.loss->f32()[0]) * double(nu);
        const int32_t* pred = static_cast<const int32_t*>(nodes_.predicted->data);
        for (int64_t i = 0; i < nu; ++i) correct += pred[i] == labels.labels[static_cast<size_t>(indices[first + i])];
    }
    optimizer_.step(&executor_);
    return {loss_sum, correct};
}

bool Trainer::fit(const IdxImages& images, const IdxLabels& labels, TrainPosition& pos, const TrainCallbacks& cb) {
    const int64_t per_epoch = batches_per_epoch();
    while (pos.epoch < config_.epochs) {
        const auto start = std::chrono::steady_clock::now();
        const std::vector<int64_t> order = epoch_order(pos.epoch);
        double loss_sum = 0.0;
        int64_t correct = 0, seen = 0;
        for (; pos.batch_in_epoch < per_epoch; ++pos.batch_in_epoch) {
            if (cb.should_stop && cb.should_stop()) {
                if (cb.on_checkpoint) cb.on_checkpoint(pos);
                return false;
            }
            const int64_t first = pos.batch_in_epoch * config_.batch;
            const int64_t n = std::min(config_.batch, n_train_ - first);
            const auto [l, c] = step(images, labels, order.data() + first, n);
            loss_sum += l;
            correct += c;
            seen += n;
            if (cb.on_batch)
                cb.on_batch({pos.epoch, pos.batch_in_epoch, per_epoch, first + n, loss_sum / double(seen),
                             double(correct) / double(seen)});
        }
        EpochReport report;
        report.epoch = pos.epoch;
        report.train_loss = seen ? loss_sum / double(seen) : 0.0;
        report.train_accuracy = seen ? double(correct) / double(seen) : 0.0;
        report.images = seen;
        report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const int64_t n_val = images.count - n_train_;
        report.validation = evaluate(model_, images, &labels, n_train_, n_val, executor_, 1000);
        ++pos.epoch;
        pos.batch_in_epoch = 0;
        if (cb.on_epoch) cb.on_epoch(report);
        if (cb.on_checkpoint) cb.on_checkpoint(pos);
    }
    return true;
}

}  // namespace mn
