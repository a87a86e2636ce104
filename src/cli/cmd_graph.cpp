// mnist graph MODEL -o FILE.dot [--png]: the inference graph as Graphviz DOT.
#include <cstdio>
#include <cstdlib>

#include "cli/commands.h"
#include "cli/common.h"
#include "engine/dot_export.h"
#include "io/atomic_file.h"
#include "models/inference.h"
#include "models/model_io.h"

namespace mn::cli {

namespace {
bool have_program(const char* name) {
    const std::string cmd = std::string("command -v ") + name + " >/dev/null 2>&1";
    return std::system(cmd.c_str()) == 0;
}

std::string shell_quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}
}  // namespace

int cmd_graph(int argc, char** argv) {
    Args args("graph", "Writes the model's inference graph (images -> logits -> probs -> predicted) as Graphviz DOT.");
    args.positional("MODEL", "model file");
    args.option("output", "FILE", "DOT file to write", "mnist.dot", "o");
    args.option("batch", "B", "batch size the graph is built for", "1", "b");
    args.flag("png", "also render FILE.png with graphviz's dot, when it is installed");
    if (!args.parse(argc, argv)) return 0;
    const std::string model_path = args.get("MODEL"), out = args.get("output");
    const int64_t batch = args.get_int("batch", 1, 65536);

    const Model model = on_file(model_path, [&] { return load_model(model_path); });
    Context ctx;
    const InferenceGraph g = build_inference_graph(ctx, model, batch);
    const std::string dot = graph_to_dot(g.graph, model.arch);
    on_file(out, [&] { write_file_atomic(out, dot.data(), dot.size()); });
    std::printf("wrote %s: %zu nodes, %zu leaves\n", out.c_str(), g.graph.nodes.size(), g.graph.leafs.size());

    if (args.has("png")) {
        if (!have_program("dot")) {
            std::fprintf(stderr, "warning: graphviz's 'dot' is not installed; skipped the PNG (apt-get install graphviz)\n");
            return 0;
        }
        const std::string png = out + ".png";
        const std::string cmd = "dot -Tpng " + shell_quote(out) + " -o " + shell_quote(png);
        if (std::system(cmd.c_str()) != 0) throw FileError(out, "graphviz's dot failed to render it");
        std::printf("wrote %s\n", png.c_str());
    } else {
        std::printf("render it with: dot -Tpng %s -o %s.png\n", out.c_str(), out.c_str());
    }
    return 0;
}

}  // namespace mn::cli
