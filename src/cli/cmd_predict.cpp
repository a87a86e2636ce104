// mnist predict IMAGE...: the digit in each image file (PNG, JPEG, GIF, BMP, PGM, PPM, or "-"
// for standard input), made MNIST-like first; with --number, every digit of a handwritten
// number. A file that cannot be read is reported and the others still run (exit 1 then).
#include <chrono>
#include <cstdio>

#include "cli/commands.h"
#include "cli/common.h"
#include "frontend/image_file.h"
#include "frontend/prediction_json.h"
#include "frontend/shipped_files.h"
#include "session/session.h"
#include "session/status.h"

namespace mn::cli {

namespace {

std::string top3_text(const Prediction& p) {
    std::string s;
    char buf[32];
    for (int c : top_classes(p, 3)) {
        std::snprintf(buf, sizeof buf, "%s%d %.4f", s.empty() ? "" : ", ", c, double(p.probs[size_t(c)]));
        s += buf;
    }
    return s;
}

struct Options {
    bool number = false, show = false, json = false;
};

// One file: prints its line(s) and returns; throws StatusError for the caller to report.
void predict_file(const Session& session, const std::string& path, const Options& o) {
    const std::vector<uint8_t> bytes = read_input(path);
    const DecodedImage img = decode_image(bytes.data(), bytes.size());
    const auto t0 = std::chrono::steady_clock::now();
    if (o.number) {
        const NumberReading r = session.read_number(img.view());
        const long long us = std::llround(1000.0 * ms_since(t0));
        if (o.json) {
            nlohmann::json j = number_json(r, false);
            j["file"] = path;
            j["time_us"] = us;
            std::printf("%s\n", j.dump().c_str());
        } else {
            std::string digits;
            char buf[32];
            for (const ImagePrediction& d : r.digits) {
                std::snprintf(buf, sizeof buf, "%s%d %.4f", digits.empty() ? "" : ", ", d.prediction.digit,
                              double(d.prediction.probs[size_t(d.prediction.digit)]));
                digits += buf;
            }
            std::printf("%s: %s (digits: %s) in %lld us\n", path.c_str(), r.number.c_str(), digits.c_str(), us);
        }
        if (o.show)
            for (const ImagePrediction& d : r.digits) std::printf("%s", ascii_digit(d.input.data(), 28, 28).c_str());
        return;
    }
    const ImagePrediction r = session.predict_image(img.view());
    const long long us = std::llround(1000.0 * ms_since(t0));
    const Prediction& p = r.prediction;
    if (o.json) {
        nlohmann::json j = {{"file", path}};
        j.update(image_prediction_json(r, o.show));
        j["time_us"] = us;
        std::printf("%s\n", j.dump().c_str());
    } else {
        std::printf("%s: %d (p = %.4f); top 3: %s; %dx%d %s, %lld us\n", path.c_str(), p.digit,
                    double(p.probs[size_t(p.digit)]), top3_text(p).c_str(), img.width, img.height, img.format.c_str(),
                    us);
    }
    if (o.show && !o.json) std::printf("%s", ascii_digit(r.input.data(), 28, 28).c_str());
}

}  // namespace

int cmd_predict(int argc, char** argv) {
    Args args("predict",
              "Reads the digit in each image: any size, either way round (dark on light or light on dark),\n"
              "made MNIST-like first (background removed, cropped, scaled to fit 20x20, centred in 28x28 by its\n"
              "centre of mass). Prints the digit, its probability and the top 3. A file that cannot be read prints\n"
              "'error: <file>: <why>' and the others still run; the exit status is then 1.");
    args.positional_list("IMAGE", "PNG, JPEG, GIF, BMP, PGM or PPM file; '-' reads standard input");
    args.option("model", "M", "model file (GGUF, legacy .bin or PyTorch state_dict)", "the shipped CNN, models/mnist-cnn-f32.gguf");
    args.flag("number", "the image holds a number of several digits: print it and each digit's probability");
    args.flag("show", "print the 28x28 input the model saw as ASCII art (with --json: add it as \"input\")");
    args.flag("json",
              "one JSON object per line: file, digit, probabilities, box, time_us (with --number: file, number,\n"
              "                          digits, time_us)");
    add_cpu_option(args);
    if (!args.parse(argc, argv)) return 0;
    apply_cpu_option(args);
    const std::string model_path = args.has("model") ? args.get("model") : shipped_file("models/mnist-cnn-f32.gguf");
    const Session session = on_file(model_path, [&] { return Session(model_path); });
    Options o;
    o.number = args.has("number");
    o.show = args.has("show");
    o.json = args.has("json");
    int failed = 0;
    for (const std::string& path : args.get_all("IMAGE")) {
        try {
            predict_file(session, path, o);
        } catch (const Error& e) {
            std::fflush(stdout);
            std::fprintf(stderr, "error: %s: %s\n", path == "-" ? "<stdin>" : path.c_str(), e.what());
            ++failed;
        }
    }
    return failed ? 1 : 0;
}

}  // namespace mn::cli
