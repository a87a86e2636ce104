#pragma once
// Training: one static graph (forward, loss, backward) built once for the batch size and
// evaluated step after step; an optimizer updates the weights in place between steps.
// Everything random derives from the seed and the position (epoch, step), so a run is
// bit-identical for the same seed and thread count, and a checkpoint resumes it exactly.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/allocator.h"
#include "engine/autodiff.h"
#include "engine/executor.h"
#include "engine/optim.h"
#include "io/idx.h"
#include "models/evaluate.h"
#include "models/model.h"

namespace mn {

struct TrainConfig {
    int64_t epochs = 10;
    int64_t batch = 128;
    OptimizerConfig optimizer;
    double val_split = 0.1;  // the last fraction of the training images is held out for validation
    uint64_t seed = 42;
    int augment_shift = 0;  // translate each training image by up to this many pixels (0 = off)
    // Targets (1 - e) * one-hot + e / C instead of one-hot (PyTorch's label_smoothing).
    double label_smoothing = 0.0;
    // Images per forward and backward pass (0: auto_micro_batch). A batch split into micro-batches
    // takes one optimizer step on the sum of their gradients, weighted by size: the same step,
    // up to the order of the sums, with activations a fraction of the size.
    int64_t micro_batch = 0;
};

// Where a run stands: epochs done, batches done in the current epoch, optimizer steps taken.
struct TrainPosition {
    int64_t epoch = 0;
    int64_t batch_in_epoch = 0;
};

struct BatchProgress {
    int64_t epoch, batch, batches_per_epoch;
    int64_t images_done;  // in this epoch
    double loss;          // running mean over the epoch so far
    double accuracy;
};

struct EpochReport {
    int64_t epoch;
    double train_loss, train_accuracy;
    EvalResult validation;
    double seconds;
    int64_t images;
};

struct TrainCallbacks {
    std::function<void(const BatchProgress&)> on_batch;
    std::function<void(const EpochReport&)> on_epoch;
    std::function<bool()> should_stop;  // polled between batches (Ctrl-C)
    // Called after each epoch and when stopped early, with the position to resume from.
    std::function<void(const TrainPosition&)> on_checkpoint;
};

// The nodes of a training graph that a step feeds and reads.
struct TrainingGraph {
    Tensor *images = nullptr, *labels = nullptr, *seed = nullptr;  // inputs
    Tensor *loss = nullptr, *predicted = nullptr;                   // outputs
};

class Trainer {
public:
    // `model` must be trainable (create_model or make_trainable).
    Trainer(Model& model, const TrainConfig& config, Executor& executor, int64_t n_train);

    // Trains from `pos` to config.epochs; returns false when stopped early.
    bool fit(const IdxImages& images, const IdxLabels& labels, TrainPosition& pos, const TrainCallbacks& cb);

    // One optimizer step on the given images; returns (summed loss, correct predictions).
    std::pair<double, int64_t> step(const IdxImages& images, const IdxLabels& labels, const int64_t* indices, int64_t n);

    Optimizer& optimizer() { return optimizer_; }
    int64_t micro_batch() const { return micro_; }
    size_t activation_bytes() const { return alloc_.buffer_bytes(); }
    int64_t n_train() const { return n_train_; }  // images trained on (the rest validate)
    int64_t n_val(int64_t total) const { return total - n_train_; }
    int64_t batches_per_epoch() const { return (n_train_ + config_.batch - 1) / config_.batch; }
    // The shuffled order of training images in an epoch: a function of (seed, epoch) only.
    std::vector<int64_t> epoch_order(int64_t epoch) const;

private:
    Model& model_;
    TrainConfig config_;
    Executor& executor_;
    int64_t n_train_;

    int64_t micro_ = 0;  // images per pass
    Context ctx_;
    TrainingGraph nodes_;
    Graph graph_;
    Gradients grads_;
    GraphAllocator alloc_;
    // With micro-batches: each gradient of the graph and the batch's sum of it.
    std::unique_ptr<Context> sums_ctx_;
    std::vector<std::pair<const Tensor*, Tensor*>> sums_;
    Optimizer optimizer_;

    void fill(const IdxImages& images, const IdxLabels& labels, const int64_t* indices, int64_t n, uint64_t key);
    void add_gradients(float weight, bool first);

    std::vector<std::pair<Tensor*, const Tensor*>> build(int64_t n_train);
};

// The micro-batch a batch is split into by default: equal passes whose activations take at most
// kMicroBatchBytes, and at least kMinMicroBatch images (fewer would repeat per-pass work, such
// as packing the weights, too often). Measured here: the small CNN's batch of 1000 trains 1.4x
// faster in passes of ~100 images than in one pass, whose 80 MB of activations leave the cache.
constexpr size_t kMicroBatchBytes = size_t{8} << 20;
constexpr int64_t kMinMicroBatch = 64;
int64_t auto_micro_batch(Model& model, int64_t batch);

// Number of training images for a set of `total` with a validation fraction.
int64_t train_count(int64_t total, double val_split);

}  // namespace mn
