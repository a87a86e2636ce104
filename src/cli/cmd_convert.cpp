// mnist convert IN OUT: any model file we read in, GGUF (or the legacy .bin) out.
#include <cstdio>

#include "cli/commands.h"
#include "cli/common.h"
#include "models/model_io.h"

namespace mn::cli {

int cmd_convert(int argc, char** argv) {
    Args args("convert",
              "Converts a model: a PyTorch state_dict (torch.save of model.state_dict()), a legacy ggml .bin\n"
              "or a GGUF file in; GGUF out, or the legacy .bin when OUT ends in .bin (mnist-fc only).");
    args.positional("IN", "model file to read");
    args.positional("OUT", "file to write (atomically)");
    if (!args.parse(argc, argv)) return 0;
    const std::string in = args.get("IN"), out = args.get("OUT");

    const Model model = on_file(in, [&] { return load_model(in); });
    on_file(out, [&] { save_model(model, out); });
    const bool legacy = is_legacy_path(out);
    std::printf("converted '%s' (%s, %s, %zu tensors, %lld parameters) to '%s' (%s)\n", in.c_str(),
                model.source_format.c_str(), model.arch.c_str(), model.params.size(),
                static_cast<long long>(model.n_params()), out.c_str(), legacy ? "legacy ggml .bin" : "GGUF v3");
    return 0;
}

}  // namespace mn::cli
