// mnist info MODEL: what a model file holds.
#include <cstdio>

#include "cli/commands.h"
#include "cli/common.h"
#include "models/model_io.h"

namespace mn::cli {

int cmd_info(int argc, char** argv) {
    Args args("info", "Prints a model file's format, architecture, metadata and tensors.");
    args.positional("MODEL", "model file");
    if (!args.parse(argc, argv)) return 0;
    const std::string path = args.get("MODEL");
    const Model model = on_file(path, [&] { return load_model(path); });
    std::printf("%s: %s, architecture %s, %lld parameters\n", path.c_str(), model.source_format.c_str(),
                model.arch.c_str(), static_cast<long long>(model.n_params()));
    std::printf("metadata:\n");
    for (const auto& [key, value] : model.metadata) std::printf("  %-32s %s\n", key.c_str(), value.to_string().c_str());
    std::printf("tensors:\n");
    for (const Tensor* t : model.params)
        std::printf("  %-16s %-6s %s\n", t->name, std::string(dtype_name(t->type)).c_str(), t->shape_string().c_str());
    return 0;
}

}  // namespace mn::cli
