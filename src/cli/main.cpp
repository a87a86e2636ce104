// mnist: one binary, several subcommands. `mnist MODEL IMAGES` (the seeds' own call) is `eval`.
#include <malloc.h>

#include <csignal>

#include <cstdio>
#include <cstring>
#include <new>
#include <string>
#include <sys/stat.h>

#include "cli/commands.h"
#include "cli/common.h"

namespace {

struct Command {
    const char* name;
    int (*run)(int, char**);
    const char* summary;
};

int eval_command(int argc, char** argv) { return mn::cli::cmd_eval(argc, argv, false); }

const Command kCommands[] = {
    {"eval", eval_command, "show a test digit and its prediction; with labels, score the whole set"},
    {"compare", mn::cli::cmd_compare, "score two models on the same labelled set and show where they differ"},
    {"predict", mn::cli::cmd_predict, "read the digit (or, with --number, the number) in image files"},
    {"serve", mn::cli::cmd_serve, "HTTP server: predictions (JSON, KServe v2), metrics, a web page"},
    {"train", mn::cli::cmd_train, "train mnist-fc or mnist-cnn on IDX data (checkpoints, resume)"},
    {"convert", mn::cli::cmd_convert, "convert a PyTorch state_dict or legacy .bin to GGUF (and GGUF to .bin)"},
    {"graph", mn::cli::cmd_graph, "write the model's compute graph as Graphviz DOT (and PNG)"},
    {"info", mn::cli::cmd_info, "print a model file's architecture, metadata and tensors"},
};

void print_help() {
    std::printf(
        "usage: mnist <command> [options] ...\n"
        "       mnist MODEL IMAGES          (same as: mnist eval MODEL IMAGES)\n\n"
        "Handwritten-digit recognition on a small tensor engine.\n\ncommands:\n");
    for (const Command& c : kCommands) std::printf("  %-10s %s\n", c.name, c.summary);
    std::printf("\nRun 'mnist <command> --help' for a command's options.\n");
}

bool is_file(const char* path) {
    struct stat st {};
    return ::stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int dispatch(int argc, char** argv) {
    if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
        print_help();
        return argc < 2 ? 2 : 0;
    }
    if (!std::strcmp(argv[1], "--version")) {
        std::printf("mnist %s\n", MNIST_VERSION);
        return 0;
    }
    for (const Command& c : kCommands)
        if (!std::strcmp(argv[1], c.name)) return c.run(argc - 2, argv + 2);
    if (is_file(argv[1])) return mn::cli::cmd_eval(argc - 1, argv + 1, true);
    throw mn::cli::UsageError(std::string("unknown command '") + argv[1] + "' (and no such model file)");
}

}  // namespace

int main(int argc, char** argv) {
    // Keep freed memory for the next image instead of handing it back to the kernel: the
    // preprocessing allocates a few image-sized planes per image, and glibc's defaults would
    // return them and fault them in again each time (measured: 2/3 of a 160x120 image's time).
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    // Past a file-size limit (ulimit -f) a write fails with EFBIG, which the writers report
    // ("write failed: File too large") and survive, the old file intact; SIGXFSZ's default
    // would kill the process instead.
    std::signal(SIGXFSZ, SIG_IGN);
    try {
        return dispatch(argc, argv);
    } catch (const mn::cli::UsageError& e) {
        std::fprintf(stderr, "error: %s\nRun 'mnist --help' or 'mnist <command> --help' for more.\n", e.what());
        return 2;
    } catch (const mn::cli::FileError& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    } catch (const std::bad_alloc&) {
        std::fprintf(stderr, "error: out of memory\n");
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}
