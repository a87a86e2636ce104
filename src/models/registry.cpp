#include "models/registry.h"

#include "engine/error.h"

namespace mn {

namespace {
const std::vector<const Architecture*>& all() {
    static const std::vector<const Architecture*> archs = {&mnist_fc_architecture(), &mnist_cnn_architecture()};
    return archs;
}
}  // namespace

std::vector<std::string> architecture_names() {
    std::vector<std::string> names;
    for (const Architecture* a : all()) names.push_back(a->name());
    return names;
}

const Architecture& find_architecture(const std::string& name) {
    for (const Architecture* a : all())
        if (a->name() == name) return *a;
    std::string known;
    for (const std::string& n : architecture_names()) known += (known.empty() ? "" : ", ") + n;
    throw Error("unknown architecture '" + printable(name) + "' (known: " + known + ")");
}

}  // namespace mn
