// mnist eval MODEL IMAGES [LABELS]: one digit as ASCII art with its prediction; with labels,
// accuracy, mean cross-entropy loss and timings over the whole set; --confusion prints the
// confusion matrix, --report writes an HTML page of what the model learned (report/eval_report.h).
#include <algorithm>
#include <vector>
#include <cstdio>
#include <random>

#include "cli/commands.h"
#include "cli/common.h"
#include "io/atomic_file.h"
#include "io/idx.h"
#include "models/evaluate.h"
#include "models/metrics.h"
#include "models/inference.h"
#include "models/model_io.h"
#include "kernels/kernels.h"
#include "report/eval_report.h"
#include "report/markup.h"

namespace mn::cli {

namespace {

// Rows: the true label; columns: the prediction.
void print_confusion(const ConfusionMatrix& m) {
    std::printf("confusion matrix (rows: true label, columns: predicted):\n true\\pred");
    for (int p = 0; p < m.n; ++p) std::printf(" %5d", p);
    std::printf("\n");
    for (int t = 0; t < m.n; ++t) {
        std::printf("%10d", t);
        for (int p = 0; p < m.n; ++p) std::printf(" %5lld", static_cast<long long>(m.at(t, p)));
        std::printf("\n");
    }
}

}  // namespace

int cmd_eval(int argc, char** argv, bool seed_call) {
    Args args(seed_call ? "MODEL IMAGES" : "eval",
              "Shows one digit of IMAGES as ASCII art with the model's prediction. With LABELS, also scores\n"
              "the whole set: accuracy, mean cross-entropy loss, evaluation and load time.");
    args.positional("MODEL", "model file: GGUF, legacy ggml .bin or PyTorch state_dict");
    args.positional("IMAGES", "IDX image file (plain or gzip), e.g. data/mnist/t10k-images-idx3-ubyte");
    if (!seed_call) args.positional("LABELS", "IDX label file matching IMAGES", false);
    args.option("index", "N", "which image to show (default: a random one)");
    args.option("seed", "S", "seed for the random choice of image (default: from the clock)");
    args.option("batch", "B", "images per graph evaluation", "500", "b");
    add_compute_options(args);
    args.option("predictions", "FILE", "with LABELS: write every image's predicted digit to FILE, one per line");
    args.option("repeat", "N", "with LABELS: evaluate the set N more times after the first pass and print the\n"
                               "median and fastest of those (steady-state timing, as benchmarks want)");
    args.flag("confusion", "with LABELS: print the confusion matrix (rows: true label, columns: predicted)");
    args.option("report", "FILE", "with LABELS: write an HTML report to FILE (self-contained): the confusion matrix,\n"
                                  "precision/recall/F1 per class, the 25 most confident mistakes, a reliability\n"
                                  "diagram with the expected calibration error, the settings and timings");
    args.flag("verbose", "also print kernel level, threads and activation memory");
    if (!args.parse(argc, argv)) return 0;

    const int threads = apply_compute_options(args);
    for (const char* needs_labels : {"repeat", "confusion", "report"})
        if (args.has(needs_labels) && !args.has("LABELS")) throw UsageError(std::string("--") + needs_labels + " needs LABELS");
    const int64_t batch = args.get_int("batch", 1, 65536);
    const std::string model_path = args.get("MODEL"), images_path = args.get("IMAGES");

    const auto t_load = std::chrono::steady_clock::now();
    const Model model = on_file(model_path, [&] { return load_model(model_path); });
    const double load_ms = ms_since(t_load);
    std::printf("mnist: loaded %s model from '%s' (%s, %lld parameters) in %.2f ms\n", model.arch.c_str(),
                model_path.c_str(), model.source_format.c_str(), static_cast<long long>(model.n_params()), load_ms);

    const IdxImages images = read_images_for(model, images_path);
    IdxLabels labels;
    const bool have_labels = args.has("LABELS");
    if (have_labels) labels = read_labels_for(model, images, args.get("LABELS"));

    int64_t index;
    if (args.has("index")) {
        index = args.get_int("index", 0, images.count - 1);
    } else {
        const uint64_t seed = args.has("seed") ? args.get_u64("seed") : std::random_device{}();
        index = static_cast<int64_t>(std::mt19937_64(seed)() % static_cast<uint64_t>(images.count));
    }

    Executor executor(threads);
    int predicted;
    if (have_labels) {
        const EvalResult s = evaluate(model, images, &labels, 0, images.count, executor, batch);
        predicted = s.predictions[static_cast<size_t>(index)];
        std::printf("image %lld of %lld, label %d:\n%s", static_cast<long long>(index),
                    static_cast<long long>(images.count), labels.labels[static_cast<size_t>(index)],
                    ascii_digit(images.image(index), images.rows, images.cols).c_str());
        std::printf("predicted digit is %d\n", predicted);
        std::printf("accuracy: %.2f%% (%lld/%lld), mean loss %.4f\n", 100.0 * s.accuracy(),
                    static_cast<long long>(s.correct), static_cast<long long>(images.count), s.loss);
        std::printf("time: evaluated %lld images in %.1f ms (%.2f us/image, batch %lld, %d threads); load %.2f ms\n",
                    static_cast<long long>(images.count), s.ms, 1000.0 * s.ms / double(images.count),
                    static_cast<long long>(std::min(batch, images.count)), threads, load_ms);
        if (args.has("repeat")) {
            const int64_t repeat = args.get_int("repeat", 1, 1000);
            std::vector<double> ms;
            for (int64_t r = 0; r < repeat; ++r)
                ms.push_back(evaluate(model, images, &labels, 0, images.count, executor, batch).ms);
            std::sort(ms.begin(), ms.end());
            const double median = ms.size() % 2 ? ms[ms.size() / 2] : (ms[ms.size() / 2 - 1] + ms[ms.size() / 2]) / 2;
            std::printf("steady: median %.2f ms (%.3f us/image), fastest %.2f ms, over %lld passes after the first\n",
                        median, 1000.0 * median / double(images.count), ms.front(), static_cast<long long>(repeat));
        }
        if (args.has("verbose"))
            std::printf("kernels: %s; activation memory: %zu bytes\n", kernels().name, s.activation_bytes);
        if (args.has("predictions")) {
            const std::string out = args.get("predictions");
            std::string text;
            for (int d : s.predictions) text += std::to_string(d) + "\n";
            on_file(out, [&] { write_file_atomic(out, text.data(), text.size()); });
        }
        const int n_classes = static_cast<int>(find_architecture(model.arch).n_classes(model));
        if (args.has("confusion"))
            print_confusion(confusion_matrix(labels.labels.data(), s.predictions.data(), s.count, n_classes));
        if (args.has("report")) {
            const std::string out = args.get("report");
            const auto t_report = std::chrono::steady_clock::now();
            const report::EvalRun run{images, labels, s, n_classes, {
                {"model file", model_path},
                {"architecture", model.arch + " (" + model.source_format + ", " + std::to_string(model.n_params()) + " parameters)"},
                {"images file", images_path},
                {"labels file", args.get("LABELS")},
                {"images", std::to_string(images.count) + " of " + std::to_string(images.rows) + "x" + std::to_string(images.cols)},
                {"threads", std::to_string(threads)},
                {"batch", std::to_string(std::min(batch, images.count))},
                {"kernels", kernels().name},
                {"load time", report::strf("%.2f ms", load_ms)},
                {"evaluation time", report::strf("%.1f ms (%.2f us/image)", s.ms, 1000.0 * s.ms / double(images.count))},
            }};
            const std::string html = report::eval_report_html(run);
            on_file(out, [&] { write_file_atomic(out, html.data(), html.size()); });
            std::printf("report: wrote %s (%zu bytes) in %.1f ms\n", out.c_str(), html.size(), ms_since(t_report));
        }
    } else {
        Predictor p(model, 1, executor);
        const auto t0 = std::chrono::steady_clock::now();
        p.run(images.image(index), 1);
        const double ms = ms_since(t0);
        predicted = p.predicted(0);
        std::printf("image %lld of %lld:\n%s", static_cast<long long>(index), static_cast<long long>(images.count),
                    ascii_digit(images.image(index), images.rows, images.cols).c_str());
        std::printf("predicted digit is %d (p = %.4f)\n", predicted, p.probs(0)[predicted]);
        std::printf("time: %.1f us for this image; load %.2f ms\n", 1000.0 * ms, load_ms);
        if (args.has("verbose"))
            std::printf("kernels: %s; threads: %d; activation memory: %zu bytes\n", kernels().name, threads,
                        p.activation_bytes());
    }
    return 0;
}

}  // namespace mn::cli
