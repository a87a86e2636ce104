#include "cli/common.h"

#include "engine/threads.h"
#include "kernels/kernels.h"
#include "models/inference.h"

namespace mn::cli {

void add_cpu_option(Args& args) {
    args.option("cpu", "LEVEL", "force a kernel level: scalar, avx2, avx512 (wasm-simd in WebAssembly builds)", cpu_level_name(detect_cpu_level()));
}

void apply_cpu_option(const Args& args) {
    if (!args.has("cpu")) return;
    try {
        set_cpu_level(parse_cpu_level(args.get("cpu")));
    } catch (const Error& e) {
        throw UsageError(e.what());
    }
}

void add_compute_options(Args& args) {
    args.option("threads", "T", "worker threads", std::to_string(ThreadPool::default_threads()), "t");
    add_cpu_option(args);
}

int apply_compute_options(const Args& args) {
    apply_cpu_option(args);
    return static_cast<int>(args.get_int("threads", 1, 256));
}

IdxImages read_images_for(const Model& model, const std::string& path) {
    IdxImages images = on_file(path, [&] { return read_idx_images(path); });
    on_file(path, [&] {
        check(images.count > 0, "holds no images");
        check(images.image_size() == model_input_pixels(model),
              "images are " + std::to_string(images.rows) + "x" + std::to_string(images.cols) + " but the model takes " +
                  std::to_string(model_input_pixels(model)) + " pixels");
    });
    return images;
}

IdxLabels read_labels_for(const Model& model, const IdxImages& images, const std::string& path) {
    IdxLabels labels = on_file(path, [&] { return read_idx_labels(path); });
    on_file(path, [&] { check_labels_match(images, labels, static_cast<int>(find_architecture(model.arch).n_classes(model))); });
    return labels;
}

double ms_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

std::string ascii_digit(const uint8_t* pixels, int64_t rows, int64_t cols) {
    std::string s;
    for (int64_t r = 0; r < rows; ++r) {
        for (int64_t c = 0; c < cols; ++c) s += pixels[r * cols + c] >= 128 ? "* " : "_ ";
        s += '\n';
    }
    return s;
}

}  // namespace mn::cli
