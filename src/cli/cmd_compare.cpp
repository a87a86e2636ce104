// mnist compare A B IMAGES LABELS: two models on the same labelled set: each one's accuracy,
// the images they answer differently, and McNemar's table of who got what right; --report
// writes an HTML page of it with the disagreeing images drawn (report/compare_report.h).
#include <cstdio>

#include "cli/commands.h"
#include "cli/common.h"
#include "io/atomic_file.h"
#include "kernels/kernels.h"
#include "models/evaluate.h"
#include "models/inference.h"
#include "models/metrics.h"
#include "models/model_io.h"
#include "report/compare_report.h"
#include "report/markup.h"

namespace mn::cli {

int cmd_compare(int argc, char** argv) {
    Args args("compare",
              "Scores models A and B on the same labelled set and says where they differ: each one's accuracy, how\n"
              "many images they answer differently and, on those, how often A is right, B is right or neither, and\n"
              "McNemar's table (both right, only A, only B, neither) with its chi-square test.");
    args.positional("A", "first model file: GGUF, legacy ggml .bin or PyTorch state_dict");
    args.positional("B", "second model file");
    args.positional("IMAGES", "IDX image file (plain or gzip), e.g. data/mnist/t10k-images-idx3-ubyte");
    args.positional("LABELS", "IDX label file matching IMAGES");
    args.option("report", "FILE", "write an HTML report to FILE (self-contained): the summary, recall per class and\n"
                                  "the images the models answer differently, with both predictions");
    args.option("max-images", "N", "the most disagreeing images the report draws", "100");
    args.option("batch", "B", "images per graph evaluation", "500", "b");
    add_compute_options(args);
    if (!args.parse(argc, argv)) return 0;

    const int threads = apply_compute_options(args);
    const int64_t batch = args.get_int("batch", 1, 65536);
    const int64_t max_images = args.get_int("max-images", 0, 1000000);
    const std::string path_a = args.get("A"), path_b = args.get("B"), images_path = args.get("IMAGES"),
                      labels_path = args.get("LABELS");

    const auto t_load = std::chrono::steady_clock::now();
    const Model a = on_file(path_a, [&] { return load_model(path_a); });
    const Model b = on_file(path_b, [&] { return load_model(path_b); });
    const double load_ms = ms_since(t_load);
    const int n_classes = static_cast<int>(find_architecture(a.arch).n_classes(a));
    on_file(path_b, [&] {
        check(find_architecture(b.arch).n_classes(b) == n_classes && model_input_pixels(b) == model_input_pixels(a),
              "takes " + std::to_string(model_input_pixels(b)) + " pixels into " +
                  std::to_string(find_architecture(b.arch).n_classes(b)) + " classes, " + path_a + " " +
                  std::to_string(model_input_pixels(a)) + " into " + std::to_string(n_classes));
    });
    const IdxImages images = read_images_for(a, images_path);
    const IdxLabels labels = read_labels_for(a, images, labels_path);

    Executor executor(threads);
    const EvalResult ra = evaluate(a, images, &labels, 0, images.count, executor, batch);
    const EvalResult rb = evaluate(b, images, &labels, 0, images.count, executor, batch);
    const PairCounts pc = pair_counts(labels.labels.data(), ra.predictions.data(), rb.predictions.data(), images.count);

    const long long n = static_cast<long long>(images.count);
    std::printf("mnist compare: %lld images of '%s'\n", n, images_path.c_str());
    for (int k = 0; k < 2; ++k) {
        const Model& m = k ? b : a;
        const EvalResult& r = k ? rb : ra;
        std::printf("%c: %s (%s): accuracy %.2f%% (%lld/%lld), mean loss %.4f; %.1f ms\n", k ? 'B' : 'A',
                    (k ? path_b : path_a).c_str(), m.arch.c_str(), 100.0 * r.accuracy(), static_cast<long long>(r.correct), n,
                    r.loss, r.ms);
    }
    std::printf("disagree on %lld images (%.2f%%): A right on %lld, B right on %lld, neither on %lld\n",
                static_cast<long long>(pc.disagree), 100.0 * double(pc.disagree) / double(n),
                static_cast<long long>(pc.only_a), static_cast<long long>(pc.only_b),
                static_cast<long long>(pc.disagree - pc.only_a - pc.only_b));
    std::printf("            B right  B wrong\n  A right  %7lld  %7lld\n  A wrong  %7lld  %7lld\n",
                static_cast<long long>(pc.both), static_cast<long long>(pc.only_a), static_cast<long long>(pc.only_b),
                static_cast<long long>(pc.neither));
    std::printf("McNemar: chi-square %.2f (continuity-corrected, on the %lld images one of them got right), p = %.3g\n",
                pc.mcnemar_chi2(), static_cast<long long>(pc.only_a + pc.only_b), pc.mcnemar_p());

    if (args.has("report")) {
        const std::string out = args.get("report");
        const auto t_report = std::chrono::steady_clock::now();
        const report::CompareRun run{images, labels, path_a, path_b, ra, rb, n_classes, static_cast<size_t>(max_images), {
            {"model A", path_a + " (" + a.arch + ", " + std::to_string(a.n_params()) + " parameters)"},
            {"model B", path_b + " (" + b.arch + ", " + std::to_string(b.n_params()) + " parameters)"},
            {"images file", images_path},
            {"labels file", labels_path},
            {"images", std::to_string(images.count)},
            {"threads", std::to_string(threads)},
            {"batch", std::to_string(std::min(batch, images.count))},
            {"kernels", kernels().name},
            {"load time (both models)", report::strf("%.2f ms", load_ms)},
            {"evaluation time", report::strf("A %.1f ms, B %.1f ms", ra.ms, rb.ms)},
        }};
        const std::string html = report::compare_report_html(run);
        on_file(out, [&] { write_file_atomic(out, html.data(), html.size()); });
        std::printf("report: wrote %s (%zu bytes) in %.1f ms\n", out.c_str(), html.size(), ms_since(t_report));
    }
    return 0;
}

}  // namespace mn::cli
