#pragma once
// Pieces every subcommand shares: error types, the options for threads and CPU level, timing,
// and ASCII art of a digit.
#include <chrono>
#include <cstdint>
#include <string>

#include "cli/args.h"
#include "engine/error.h"
#include "io/idx.h"
#include "models/model.h"

namespace mn::cli {

// An error about one file: printed as `error: <file>: <what>`, exit code 1.
struct FileError : std::runtime_error {
    FileError(const std::string& path, const std::string& what) : std::runtime_error(path + ": " + what) {}
};

// Runs f(); any mn::Error it throws becomes a FileError naming `path`.
template <typename F>
auto on_file(const std::string& path, F&& f) -> decltype(f()) {
    try {
        return f();
    } catch (const FileError&) {
        throw;
    } catch (const Error& e) {
        throw FileError(path, e.what());
    }
}

// --threads and --cpu, declared and applied the same way by every command that computes.
void add_compute_options(Args& args);
int apply_compute_options(const Args& args);  // sets the CPU level; returns the thread count
// --cpu alone (commands whose threads are not the engine's).
void add_cpu_option(Args& args);
void apply_cpu_option(const Args& args);

// A labelled set for `model`, read and checked (at least one image, of the model's input size;
// as many labels, each a class of the model), errors naming the file.
IdxImages read_images_for(const Model& model, const std::string& path);
IdxLabels read_labels_for(const Model& model, const IdxImages& images, const std::string& path);

double ms_since(std::chrono::steady_clock::time_point start);

// 28 lines of "_ " and "* ", as the seeds print a digit.
std::string ascii_digit(const uint8_t* pixels, int64_t rows, int64_t cols);

}  // namespace mn::cli
