#pragma once
// The architectures this build knows. Adding a network = one file defining its Architecture
// and one line in registry.cpp.
#include "models/model.h"

namespace mn {

const Architecture& mnist_fc_architecture();
const Architecture& mnist_cnn_architecture();

}  // namespace mn
