#include "engine/dot_export.h"

#include <sstream>
#include <unordered_map>

#include "engine/op_table.h"

namespace mn {

namespace {

std::string escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '"' || c == '\\' || c == '{' || c == '}' || c == '|' || c == '<' || c == '>') out += '\\';
        out += c;
    }
    return out;
}

enum class Kind { Weight, Input, Activation, Output };

Kind kind_of(const Tensor* t) {
    if (t->flags & kFlagOutput) return Kind::Output;
    if (t->flags & kFlagInput) return Kind::Input;
    if (t->op == Op::None) return Kind::Weight;
    return Kind::Activation;
}

const char* fill_of(Kind k) {
    switch (k) {
        case Kind::Weight: return "#fde9c9";
        case Kind::Input: return "#d6eaf8";
        case Kind::Output: return "#d5f5e3";
        case Kind::Activation: return "#ffffff";
    }
    return "#ffffff";
}

}  // namespace

namespace {
// The steps graph rewrites folded into a node (engine/fusion.h), so the picture shows them.
std::string fused_steps(const Tensor* t) {
    const auto fused = op_def(t->op).fused;
    return fused ? fused(t) : "";
}
}  // namespace

std::string graph_to_dot(const Graph& graph, const std::string& title) {
    std::unordered_map<const Tensor*, std::string> ids;
    auto id_of = [&](const Tensor* t) {
        auto it = ids.find(t);
        if (it != ids.end()) return it->second;
        return ids[t] = "t" + std::to_string(ids.size());
    };
    auto label_of = [](const Tensor* t) {
        std::string op = op_name(t->op) + fused_steps(t);
        if (t->op == Op::None) op = t->flags & kFlagParam ? "param" : t->flags & kFlagInput ? "input" : "constant";
        const std::string shape = escape(t->shape_string()) + " " + std::string(dtype_name(t->type));
        if (!t->name[0]) return "{" + escape(op) + "|" + shape + "}";  // intermediate values need no name
        return "{" + escape(t->name) + "|" + escape(op) + "|" + shape + "}";
    };

    std::ostringstream out;
    out << "digraph \"" << escape(title) << "\" {\n"
        << "  rankdir=TB;\n  newrank=true;\n"
        << "  node [shape=record, style=\"filled,rounded\", fontname=\"Helvetica\", fontsize=10];\n";
    // Weights sit in a cluster of their own so the data path reads top to bottom.
    out << "  subgraph cluster_weights {\n    label=\"weights\";\n    style=dashed;\n";
    for (const Tensor* t : graph.leafs)
        if (kind_of(t) == Kind::Weight)
            out << "    " << id_of(t) << " [label=\"" << label_of(t) << "\", fillcolor=\"" << fill_of(Kind::Weight)
                << "\"];\n";
    out << "  }\n";
    for (const Tensor* t : graph.leafs)
        if (kind_of(t) != Kind::Weight)
            out << "  " << id_of(t) << " [label=\"" << label_of(t) << "\", fillcolor=\"" << fill_of(kind_of(t))
                << "\"];\n";
    for (const Tensor* t : graph.nodes)
        out << "  " << id_of(t) << " [label=\"" << label_of(t) << "\", fillcolor=\"" << fill_of(kind_of(t)) << "\"];\n";
    for (const Tensor* t : graph.nodes)
        for (int i = 0; i < kMaxSrc; ++i)
            if (t->src[i])
                out << "  " << id_of(t->src[i]) << " -> " << id_of(t) << " [label=\"" << char('a' + i) << "\"];\n";
    out << "}\n";
    return out.str();
}

}  // namespace mn
