#include "image/components.h"

#include <algorithm>

namespace mn {

Components label_components(const Plane& p, float strong) {
    Components c;
    c.label.assign(p.size(), -1);
    std::vector<int64_t> stack;
    for (int y = 0; y < p.h; ++y)
        for (int x = 0; x < p.w; ++x) {
            const int64_t start = int64_t(y) * p.w + x;
            if (p.v[size_t(start)] <= 0.0f || c.label[size_t(start)] >= 0) continue;
            const int32_t id = static_cast<int32_t>(c.list.size());
            Component comp;
            comp.box = {x, y, x + 1, y + 1};
            c.label[size_t(start)] = id;
            stack.assign(1, start);
            // Flood fill with an explicit stack: a component may hold millions of pixels.
            while (!stack.empty()) {
                const int64_t i = stack.back();
                stack.pop_back();
                const int px = int(i % p.w), py = int(i / p.w);
                const float v = p.v[size_t(i)];
                comp.area += 1;
                comp.mass += v;
                comp.strong += v > strong;
                comp.box.x0 = std::min(comp.box.x0, px);
                comp.box.x1 = std::max(comp.box.x1, px + 1);
                comp.box.y0 = std::min(comp.box.y0, py);
                comp.box.y1 = std::max(comp.box.y1, py + 1);
                for (int dy = -1; dy <= 1; ++dy)
                    for (int dx = -1; dx <= 1; ++dx) {
                        const int nx = px + dx, ny = py + dy;
                        if (nx < 0 || ny < 0 || nx >= p.w || ny >= p.h) continue;
                        const int64_t j = int64_t(ny) * p.w + nx;
                        if (p.v[size_t(j)] <= 0.0f || c.label[size_t(j)] >= 0) continue;
                        c.label[size_t(j)] = id;
                        stack.push_back(j);
                    }
            }
            c.list.push_back(comp);
        }
    return c;
}

}  // namespace mn
