#pragma once
// Graphviz DOT export of any graph: one box per tensor with its op, shape, type and name.
// Weights (params and other leaves with data) are drawn apart from activations.
#include <string>

#include "engine/graph.h"

namespace mn {

std::string graph_to_dot(const Graph& graph, const std::string& title = "mnist");

}  // namespace mn
