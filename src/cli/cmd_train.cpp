// mnist train ARCH OUT.gguf: trains a network on IDX data with our own engine.
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <sys/stat.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/progress.h"
#include "cli/train_log.h"
#include "models/checkpoint.h"
#include "models/evaluate.h"
#include "models/model_io.h"
#include "models/trainer.h"
#include "report/markup.h"

namespace mn::cli {

namespace {

volatile std::sig_atomic_t g_interrupted = 0;
void on_sigint(int) { g_interrupted = 1; }

bool exists(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
}

// DIR/name, or DIR/name.gz when only the compressed file is there.
std::string find_in(const std::string& dir, const std::string& name) {
    const std::string plain = dir + "/" + name;
    if (exists(plain) || !exists(plain + ".gz")) return plain;
    return plain + ".gz";
}

// A learning rate (a float) as the JSON number a reader expects: 0.001, not 0.0010000000474974513.
double json_rate(float lr) { return std::stod(report::strf("%.7g", double(lr))); }

std::string percent(double x) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.2f%%", 100.0 * x);
    return buf;
}

}  // namespace

int cmd_train(int argc, char** argv) {
    const auto started = std::chrono::steady_clock::now();  // for "written after": data loading included
    Args args("train",
              "Trains ARCH (mnist-fc or mnist-cnn) on IDX data and writes the model to OUT (GGUF, atomically).\n"
              "Give --data DIR (with train-images-idx3-ubyte, train-labels-idx1-ubyte and, for a final test,\n"
              "t10k-*; plain or .gz) or TRAIN_IMAGES TRAIN_LABELS. The last --val-split of the training images\n"
              "is held out to validate after each epoch. A checkpoint is written after every epoch and on\n"
              "Ctrl-C; --resume continues from one to the same result as an uninterrupted run.");
    args.positional("ARCH", "mnist-fc or mnist-cnn");
    args.positional("OUT", "GGUF file to write");
    args.positional("TRAIN_IMAGES", "IDX training images (instead of --data)", false);
    args.positional("TRAIN_LABELS", "IDX training labels (instead of --data)", false);
    args.option("data", "DIR", "folder with the IDX files", "data/mnist");
    args.option("preset", "NAME", "mnist-cnn: seeds (32/64 conv, dropout; default), ggml (8/16 conv, ggml's layout) or\n"
                                  "fast (batch norm; 99% in seconds)");
    args.option("epochs", "N", "epochs (default: the recipe's: fc 30, cnn 15, ggml cnn 30, fast 2)");
    args.option("batch", "B", "images per step (default: fc 1000, cnn 128, ggml cnn 500, fast 128)");
    args.option("micro-batch", "M", "images per forward/backward pass; a step sums the gradients of its micro-batches (default: as many as keep the activations within 8 MB)");
    args.option("lr", "RATE", "learning rate (the peak one with onecycle and linear; default: the recipe's, 0.001,\n"
                              "fast 0.004)");
    args.option("optimizer", "NAME", "adam, adamw or sgd (default: the recipe's, adam)");
    args.option("weight-decay", "W", "weight decay", "0");
    args.option("momentum", "M", "SGD momentum", "0.9");
    args.option("beta1", "B1", "Adam/AdamW first-moment decay", "0.9");
    args.option("beta2", "B2", "Adam/AdamW second-moment decay", "0.999");
    args.option("eps", "E", "Adam/AdamW epsilon", "1e-08");
    args.option("schedule", "NAME", "learning-rate schedule: none, step, cosine, onecycle or linear (default: the\n"
                                    "recipe's: none, fast onecycle)");
    args.option("warmup", "F", "onecycle, linear: the share of the steps the rate rises over (default: the recipe's,\n"
                               "0.3, fast 0.2)");
    args.option("label-smoothing", "E", "targets (1-E) one-hot + E/10, as PyTorch's (default: the recipe's, 0, fast 0.1)");
    args.option("step-epochs", "N", "step schedule: multiply the rate by --gamma every N epochs", "5");
    args.option("gamma", "G", "step schedule factor", "0.1");
    args.option("val-split", "F", "fraction of training images held out for validation (default: fc 0.05, cnn 0.1)");
    args.option("seed", "S", "seed for initialisation, shuffling and dropout", "42");
    args.option("augment", "PIXELS", "shift each training image randomly by up to PIXELS in x and y (default: seeds cnn 1, else 0)");
    args.option("limit", "N", "use only the first N training images (quick runs, tests)");
    args.option("test-images", "FILE", "IDX test images for the final accuracy (default: DIR/t10k-images-idx3-ubyte)");
    args.option("test-labels", "FILE", "IDX test labels (default: DIR/t10k-labels-idx1-ubyte)");
    args.option("checkpoint", "FILE", "checkpoint written each epoch (default: OUT.ckpt)");
    args.option("resume", "CKPT", "continue training from this checkpoint (its settings are kept)");
    args.option("log", "FILE", "write the run to FILE as JSON lines, appended as it trains: one per epoch (train and\n"
                               "validation loss and accuracy, learning rate, images/s, seconds); a resumed run keeps\n"
                               "the lines up to its checkpoint and appends");
    args.option("log-every", "N", "with --log: also a line every N optimizer steps (the epoch's running loss and\n"
                                  "accuracy, learning rate, images/s)");
    args.option("plot", "FILE", "SVG of the training and validation loss and accuracy against epochs, rewritten after\n"
                                "every epoch (with --log: every epoch of the log, earlier runs' too)");
    add_compute_options(args);
    if (!args.parse(argc, argv)) return 0;

    const int threads = apply_compute_options(args);
    if (args.has("log-every") && !args.has("log")) throw UsageError("--log-every needs --log");
    const int64_t log_every = args.has("log-every") ? args.get_int("log-every", 1, int64_t(1) << 40) : 0;
    const std::string arch = args.get("ARCH"), out = args.get("OUT");
    try {
        find_architecture(arch);
    } catch (const Error& e) {
        throw UsageError(e.what());
    }
    const std::string preset = args.get("preset");
    TrainRecipe recipe;
    try {
        find_architecture(arch).preset(preset);  // (an unknown preset is a usage error)
        recipe = find_architecture(arch).recipe(preset);
    } catch (const Error& e) {
        throw UsageError(e.what());
    }
    if (args.has("TRAIN_IMAGES") != args.has("TRAIN_LABELS")) throw UsageError("give both TRAIN_IMAGES and TRAIN_LABELS");
    const std::string dir = args.get("data");
    const std::string images_path = args.has("TRAIN_IMAGES") ? args.get("TRAIN_IMAGES") : find_in(dir, "train-images-idx3-ubyte");
    const std::string labels_path = args.has("TRAIN_LABELS") ? args.get("TRAIN_LABELS") : find_in(dir, "train-labels-idx1-ubyte");
    const std::string ckpt_path = args.has("checkpoint") ? args.get("checkpoint") : out + ".ckpt";

    TrainConfig config;
    config.epochs = args.has("epochs") ? args.get_int("epochs", 1, 100000) : recipe.epochs;
    config.batch = args.has("batch") ? args.get_int("batch", 1, 65536) : recipe.batch;
    if (args.has("micro-batch")) config.micro_batch = args.get_int("micro-batch", 1, 65536);
    config.val_split = args.has("val-split") ? args.get_double("val-split", 0.0, 0.9) : recipe.val_split;
    config.seed = args.get_u64("seed");
    config.augment_shift = args.has("augment") ? static_cast<int>(args.get_int("augment", 0, 8)) : recipe.augment_shift;
    config.label_smoothing = args.has("label-smoothing") ? args.get_double("label-smoothing", 0.0, 0.5) : recipe.label_smoothing;
    try {
        config.optimizer.kind = parse_optimizer(args.has("optimizer") ? args.get("optimizer") : recipe.optimizer);
        config.optimizer.schedule = parse_schedule(args.has("schedule") ? args.get("schedule") : recipe.schedule);
    } catch (const Error& e) {
        throw UsageError(e.what());
    }
    const double warmup = args.has("warmup") ? args.get_double("warmup", 0.0, 1.0) : (recipe.warmup > 0 ? recipe.warmup : 0.3);
    config.optimizer.lr = static_cast<float>(args.has("lr") ? args.get_double("lr", 0.0, 10.0) : recipe.lr);
    config.optimizer.weight_decay = static_cast<float>(args.get_double("weight-decay", 0.0, 1.0));
    config.optimizer.momentum = static_cast<float>(args.get_double("momentum", 0.0, 1.0));
    config.optimizer.beta1 = static_cast<float>(args.get_double("beta1", 0.0, 0.999999));
    config.optimizer.beta2 = static_cast<float>(args.get_double("beta2", 0.0, 0.999999));
    config.optimizer.eps = static_cast<float>(args.get_double("eps", 0.0, 1.0));
    config.optimizer.gamma = static_cast<float>(args.get_double("gamma", 0.0, 1.0));
    const int64_t step_epochs = args.get_int("step-epochs", 1, 100000);

    IdxImages images = on_file(images_path, [&] { return read_idx_images(images_path); });
    IdxLabels labels = on_file(labels_path, [&] { return read_idx_labels(labels_path); });
    on_file(labels_path, [&] { check_labels_match(images, labels); });
    if (args.has("limit")) {
        const int64_t limit = std::min(images.count, args.get_int("limit", 1, int64_t(1) << 40));
        images.count = limit;
        if (!images.mapped) images.pixels.resize(static_cast<size_t>(limit * images.image_size()));
        labels.labels.resize(static_cast<size_t>(limit));
    }

    // The model: new, or the one in the checkpoint (whose settings then win, for an exact resume).
    Model model;
    Checkpoint ck;
    const bool resuming = args.has("resume");
    if (resuming) {
        const std::string path = args.get("resume");
        ck = on_file(path, [&] { return load_checkpoint(path); });
        check(ck.model.arch == arch, "checkpoint " + path + " holds a " + ck.model.arch + " model, not " + arch);
        const int64_t epochs = config.epochs;
        config = training_config_of(ck.model, config);
        if (args.has("epochs")) config.epochs = epochs;  // training may be extended
        model = std::move(ck.model);
    } else {
        model = create_model(arch, preset, config.seed);
    }
    on_file(images_path, [&] {
        check(images.image_size() == find_architecture(arch).n_pixels(model), "images do not fit the model's input");
    });
    const int64_t n_train = train_count(images.count, config.val_split);
    Executor executor(threads);
    // Schedules count optimizer steps; the CLI speaks in epochs.
    const int64_t per_epoch = (n_train + config.batch - 1) / config.batch;
    if (!resuming) {
        config.optimizer.step_every = step_epochs * per_epoch;
        config.optimizer.total_steps = config.epochs * per_epoch;
        config.optimizer.warmup_steps = static_cast<int64_t>(warmup * double(config.optimizer.total_steps));
    }
    const std::string data_name = images_path.substr(images_path.find_last_of('/') + 1);
    set_training_metadata(model, config, data_name);
    Trainer trainer(model, config, executor, n_train);
    TrainPosition pos;
    if (resuming) {
        restore_optimizer(trainer.optimizer(), ck);
        pos = ck.position;
    }

    std::printf("mnist train: %s%s, %lld parameters; %lld training images, %lld for validation; %lld epochs of "
                "batch %lld, %s lr %g (%s schedule)%s; seed %llu, %d threads%s\n",
                arch.c_str(), preset.empty() ? "" : (" (preset " + preset + ")").c_str(),
                static_cast<long long>(model.n_params()), static_cast<long long>(n_train),
                static_cast<long long>(images.count - n_train), static_cast<long long>(config.epochs),
                static_cast<long long>(config.batch), optimizer_name(config.optimizer.kind), double(config.optimizer.lr),
                schedule_name(config.optimizer.schedule),
                config.augment_shift ? (", shifts of up to " + std::to_string(config.augment_shift) + " px").c_str() : "",
                static_cast<unsigned long long>(config.seed), threads,
                resuming ? (", resuming at epoch " + std::to_string(pos.epoch + 1)).c_str() : "");
    if (trainer.micro_batch() < config.batch)
        std::printf("each batch in passes of %lld images (activations %.1f MB)\n",
                    static_cast<long long>(trainer.micro_batch()), double(trainer.activation_bytes()) / 1e6);
    std::fflush(stdout);

    const Optimizer& opt = trainer.optimizer();
    TrainLog log(args.get("log"), args.get("plot"), resuming, opt.steps_taken());
    log.add({{"kind", "run"}, {"step", opt.steps_taken()}, {"epoch", pos.epoch + 1}, {"arch", arch}, {"preset", preset},
             {"epochs", config.epochs}, {"batch", config.batch}, {"optimizer", optimizer_name(config.optimizer.kind)},
             {"lr", json_rate(config.optimizer.lr)}, {"schedule", schedule_name(config.optimizer.schedule)},
             {"seed", config.seed}, {"threads", threads}, {"train_images", n_train}, {"val_images", images.count - n_train},
             {"resumed", resuming}});

    std::signal(SIGINT, on_sigint);
    const auto start = std::chrono::steady_clock::now();
    auto last_line = start;  // of the last step line: images/s since then
    int64_t images_since = 0;
    std::unique_ptr<ProgressBar> bar;
    TrainCallbacks cb;
    cb.should_stop = [] { return g_interrupted != 0; };
    cb.on_batch = [&](const BatchProgress& p) {
        if (!bar) bar = std::make_unique<ProgressBar>("epoch " + std::to_string(p.epoch + 1) + "/" + std::to_string(config.epochs));
        char info[96];
        std::snprintf(info, sizeof(info), "loss %.4f  acc %s", p.loss, percent(p.accuracy).c_str());
        bar->update(p.images_done, n_train, info);
        images_since += p.images_done - p.batch * config.batch;
        if (log_every && opt.steps_taken() % log_every == 0) {
            const auto now = std::chrono::steady_clock::now();
            const double s = std::chrono::duration<double>(now - last_line).count();
            log.add({{"kind", "step"}, {"step", opt.steps_taken()}, {"epoch", p.epoch + 1}, {"batch", p.batch + 1},
                     {"loss", p.loss}, {"accuracy", p.accuracy}, {"lr", json_rate(opt.learning_rate_at(opt.steps_taken() - 1))},
                     {"images_per_s", double(images_since) / s}});
            last_line = now;
            images_since = 0;
        }
    };
    cb.on_epoch = [&](const EpochReport& r) {
        if (bar) bar->finish();
        bar.reset();
        char val[96] = "no validation set";
        if (r.validation.count > 0)
            std::snprintf(val, sizeof(val), "val loss %.4f, acc %s", r.validation.loss,
                          percent(r.validation.accuracy()).c_str());
        std::printf("epoch %3lld/%lld: train loss %.4f, acc %s | %s | %.1f s, %.0f img/s\n",
                    static_cast<long long>(r.epoch + 1), static_cast<long long>(config.epochs), r.train_loss,
                    percent(r.train_accuracy).c_str(), val, r.seconds, double(r.images) / r.seconds);
        std::fflush(stdout);
        nlohmann::ordered_json line = {{"kind", "epoch"}, {"step", opt.steps_taken()}, {"epoch", r.epoch + 1},
                               {"train_loss", r.train_loss}, {"train_accuracy", r.train_accuracy},
                               {"val_loss", nullptr}, {"val_accuracy", nullptr},
                               {"lr", json_rate(opt.learning_rate_at(opt.steps_taken() - 1))},
                               {"images_per_s", double(r.images) / r.seconds}, {"seconds", r.seconds}};
        if (r.validation.count > 0) {
            line["val_loss"] = r.validation.loss;
            line["val_accuracy"] = r.validation.accuracy();
        }
        log.add(line);
    };
    cb.on_checkpoint = [&](const TrainPosition& p) {
        on_file(ckpt_path, [&] { save_checkpoint(ckpt_path, model, trainer.optimizer(), p); });
    };
    const bool finished = trainer.fit(images, labels, pos, cb);
    if (bar) bar->finish();
    const double seconds = ms_since(start) / 1000.0;
    if (!finished) {
        std::printf("interrupted at epoch %lld, batch %lld: checkpoint written to %s\nresume with: mnist train %s %s "
                    "--resume %s (and the same data options)\n",
                    static_cast<long long>(pos.epoch + 1), static_cast<long long>(pos.batch_in_epoch), ckpt_path.c_str(),
                    arch.c_str(), out.c_str(), ckpt_path.c_str());
        return 130;
    }

    on_file(out, [&] { save_model_gguf(model, out); });
    const double written_after = ms_since(started) / 1000.0;
    const std::string test_images = args.has("test-images") ? args.get("test-images") : find_in(dir, "t10k-images-idx3-ubyte");
    const std::string test_labels = args.has("test-labels") ? args.get("test-labels") : find_in(dir, "t10k-labels-idx1-ubyte");
    if (exists(test_images) && exists(test_labels)) {
        const IdxImages ti = on_file(test_images, [&] { return read_idx_images(test_images); });
        const IdxLabels tl = on_file(test_labels, [&] { return read_idx_labels(test_labels); });
        on_file(test_labels, [&] { check_labels_match(ti, tl); });
        const EvalResult r = evaluate(model, ti, &tl, 0, ti.count, executor, 1000);
        std::printf("test: accuracy %s (%lld/%lld), loss %.4f\n", percent(r.accuracy()).c_str(),
                    static_cast<long long>(r.correct), static_cast<long long>(r.count), r.loss);
    }
    std::printf("wrote %s; trained in %.1f s (written %.1f s after the start, data loading included); checkpoint %s\n",
                out.c_str(), seconds, written_after, ckpt_path.c_str());
    return 0;
}

}  // namespace mn::cli
