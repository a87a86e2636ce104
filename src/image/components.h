#pragma once
// Connected components (8-connectivity) of the nonzero pixels of a plane, with what the
// preprocessing asks of each: its box, its area and how much ink it holds.
#include <cstdint>
#include <vector>

#include "image/image.h"

namespace mn {

struct Component {
    Box box;
    int64_t area = 0;      // pixels
    double mass = 0.0;     // sum of the pixel values
    int64_t strong = 0;    // pixels whose value is above the `strong` threshold given to label()
};

struct Components {
    std::vector<int32_t> label;   // per pixel: -1 for zero pixels, else an index into `list`
    std::vector<Component> list;
};

// Labels the pixels of `p` that are > 0. `strong` only feeds Component::strong.
Components label_components(const Plane& p, float strong = 0.0f);

}  // namespace mn
