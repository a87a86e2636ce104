#include "models/trainer.h"

#include <chrono>
#include <cmath>
#include <cstring>
#include <random>

#include "engine/error.h"
#include "engine/fusion.h"
#include "engine/ops.h"

namespace mn {

namespace {
uint64_t mix64(uint64_t z) {
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
}  // namespace

int64_t train_count(int64_t total, double val_split) {
    const int64_t n_val = static_cast<int64_t>(std::floor(double(total) * val_split));
    return total - n_val;
}

Trainer::Trainer(Model& model, const TrainConfig& config, Executor& executor, int64_t n_train)
    : model_(model), config_(config), executor_(executor), n_train_(n_train), optimizer_(config.optimizer, build(n_train)) {
    alloc_.allocate(graph_);
}

// The training graph: logits in training mode, the loss, its gradients. Returns (param, grad).
std::vector<std::pair<Tensor*, const Tensor*>> Trainer::build(int64_t n_train) {
    check(n_train >= 1, "no training images left after the validation split");
    check(config_.batch >= 1, "batch size must be positive");
    const Architecture& arch = find_architecture(model_.arch);
    images_ = ctx_.new_tensor(DType::F32, {arch.n_pixels(model_), config_.batch});
    labels_ = ctx_.new_tensor(DType::F32, {arch.n_classes(model_), config_.batch});
    seed_ = ctx_.new_tensor(DType::I32, {2});
    for (Tensor* in : {images_, labels_, seed_}) in->flags |= kFlagInput;
    images_->set_name("images");
    labels_->set_name("labels");
    seed_->set_name("dropout_seed");
    Tensor* logits = arch.logits(ctx_, model_, images_, ForwardOptions{true, seed_});
    loss_ = cross_entropy_loss(ctx_, logits, labels_);
    loss_->set_name("loss");
    predicted_ = argmax(ctx_, logits);
    for (Tensor* out : {loss_, predicted_}) {
        out->flags |= kFlagOutput;
        graph_.build_forward(out);
    }
    grads_ = build_backward(ctx_, graph_, loss_);
    optimize_graph(graph_);  // the loss, predictions and gradients are not fused away
    std::vector<std::pair<Tensor*, const Tensor*>> pg;
    for (Tensor* p : model_.params) pg.emplace_back(p, grads_.get(p));
    return pg;
}

std::vector<int64_t> Trainer::epoch_order(int64_t epoch) const {
    std::vector<int64_t> order(static_cast<size_t>(n_train_));
    for (int64_t i = 0; i < n_train_; ++i) order[static_cast<size_t>(i)] = i;
    // Fisher-Yates with our own generator: the same order on every standard library.
    std::mt19937_64 rng(mix64(config_.seed ^ mix64(static_cast<uint64_t>(epoch))));
    for (int64_t i = n_train_ - 1; i > 0; --i) {
        const int64_t j = static_cast<int64_t>(rng() % static_cast<uint64_t>(i + 1));
        std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(j)]);
    }
    return order;
}

std::pair<double, int64_t> Trainer::step(const IdxImages& images, const IdxLabels& labels, const int64_t* indices,
                                         int64_t n) {
    const int64_t np = images_->ne[0], nc = labels_->ne[0];
    float* x = images_->f32();
    float* y = labels_->f32();
    std::memset(y, 0, static_cast<size_t>(labels_->nelements()) * sizeof(float));
    const uint64_t step_key = mix64(config_.seed ^ mix64(0xa0a0a0a0ULL + static_cast<uint64_t>(optimizer_.steps_taken())));
    // Threads fill disjoint images of the batch.
    executor_.parallel_for(n, 16, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
            const uint8_t* px = images.image(indices[i]);
            float* xi = x + i * np;
            if (config_.augment_shift > 0) {
                // A random translation, a function of (seed, step, slot): repeatable, and the same
                // after a resume.
                const uint64_t h = mix64(step_key ^ static_cast<uint64_t>(i));
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
            y[i * nc + labels.labels[static_cast<size_t>(indices[i])]] = 1.0f;
        }
    });
    // A partial last batch: blank images with all-zero labels, which the loss ignores.
    std::memset(x + n * np, 0, static_cast<size_t>((config_.batch - n) * np) * sizeof(float));
    if (seed_->data) {  // only networks with dropout read it
        const uint64_t s = mix64(config_.seed ^ mix64(0x5eed0000ULL + static_cast<uint64_t>(optimizer_.steps_taken())));
        static_cast<int32_t*>(seed_->data)[0] = static_cast<int32_t>(s);
        static_cast<int32_t*>(seed_->data)[1] = static_cast<int32_t>(s >> 32);
    }

    executor_.compute(graph_);
    optimizer_.step(&executor_);

    int64_t correct = 0;
    const int32_t* pred = static_cast<const int32_t*>(predicted_->data);
    for (int64_t i = 0; i < n; ++i) correct += pred[i] == labels.labels[static_cast<size_t>(indices[i])];
    return {double(loss_->f32()[0]) * double(n), correct};
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
