#include "image/digit_split.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "image/components.h"

namespace mn {

namespace {

struct Group {
    Box box;
    std::vector<int32_t> members;  // component ids
};

Box merge(const Box& a, const Box& b) {
    return {std::min(a.x0, b.x0), std::min(a.y0, b.y0), std::max(a.x1, b.x1), std::max(a.y1, b.y1)};
}

// True when two boxes share at least half of the narrower one's columns.
bool same_columns(const Box& a, const Box& b) {
    const int overlap = std::min(a.x1, b.x1) - std::max(a.x0, b.x0);
    return overlap * 2 >= std::min(a.width(), b.width());
}

// Components grouped into digits (step 2), repeated until no two groups share columns.
std::vector<Group> group_components(const Components& comps) {
    std::vector<Group> groups;
    for (int32_t id = 0; id < int32_t(comps.list.size()); ++id) groups.push_back({comps.list[size_t(id)].box, {id}});
    for (bool merged = true; merged;) {
        merged = false;
        for (size_t i = 0; i < groups.size() && !merged; ++i)
            for (size_t j = i + 1; j < groups.size() && !merged; ++j)
                if (same_columns(groups[i].box, groups[j].box)) {
                    groups[i].box = merge(groups[i].box, groups[j].box);
                    groups[i].members.insert(groups[i].members.end(), groups[j].members.begin(), groups[j].members.end());
                    groups.erase(groups.begin() + std::ptrdiff_t(j));
                    merged = true;
                }
    }
    return groups;
}

// The plane of one group's pixels in columns [x0, x1) of its box.
DigitPiece cut_piece(const Plane& ink, const Components& comps, const Group& g, int x0, int x1) {
    std::vector<uint8_t> member(comps.list.size(), 0);
    for (int32_t id : g.members) member[size_t(id)] = 1;
    // The piece's own rows: the box of its pixels between the two cuts.
    Box box{x1, g.box.y1, x0, g.box.y0};
    for (int y = g.box.y0; y < g.box.y1; ++y)
        for (int x = x0; x < x1; ++x) {
            const int32_t id = comps.label[size_t(y) * size_t(ink.w) + size_t(x)];
            if (id < 0 || !member[size_t(id)]) continue;
            box = merge(box, Box{x, y, x + 1, y + 1});
        }
    DigitPiece piece;
    if (box.empty()) return piece;
    piece.box = box;
    piece.ink = Plane(box.width(), box.height());
    for (int y = box.y0; y < box.y1; ++y)
        for (int x = box.x0; x < box.x1; ++x) {
            const size_t i = size_t(y) * size_t(ink.w) + size_t(x);
            const int32_t id = comps.label[i];
            if (id >= 0 && member[size_t(id)]) piece.ink.at(x - box.x0, y - box.y0) = ink.v[i];
        }
    return piece;
}

// Cut columns for a group of k touching digits (step 3).
std::vector<int> cuts_for(const Plane& ink, const Components& comps, const Group& g, int k) {
    std::vector<uint8_t> member(comps.list.size(), 0);
    for (int32_t id : g.members) member[size_t(id)] = 1;
    std::vector<double> column(size_t(g.box.width()), 0.0);
    for (int y = g.box.y0; y < g.box.y1; ++y)
        for (int x = g.box.x0; x < g.box.x1; ++x) {
            const size_t i = size_t(y) * size_t(ink.w) + size_t(x);
            if (comps.label[i] >= 0 && member[size_t(comps.label[i])]) column[size_t(x - g.box.x0)] += ink.v[i];
        }
    std::vector<int> cuts{g.box.x0};
    const double piece = double(g.box.width()) / k;
    for (int i = 1; i < k; ++i) {
        const int expected = int(std::lround(i * piece));
        const int reach = std::max(1, int(piece / 4));
        int best = expected;
        for (int x = std::max(1, expected - reach); x <= std::min(g.box.width() - 1, expected + reach); ++x)
            if (column[size_t(x)] < column[size_t(best)] ||
                (column[size_t(x)] == column[size_t(best)] && std::abs(x - expected) < std::abs(best - expected)))
                best = x;
        cuts.push_back(std::max(cuts.back() + 1, g.box.x0 + best));
    }
    cuts.push_back(g.box.x1);
    return cuts;
}

}  // namespace

std::vector<DigitPiece> split_digits(const Plane& ink) {
    const Components comps = label_components(ink);
    std::vector<Group> groups = group_components(comps);
    std::sort(groups.begin(), groups.end(), [](const Group& a, const Group& b) { return a.box.x0 < b.box.x0; });
    int line_height = 0;
    for (const Group& g : groups) line_height = std::max(line_height, g.box.height());
    std::vector<DigitPiece> pieces;
    for (const Group& g : groups) {
        const int k = std::max(1, int(std::lround(g.box.width() / (0.8 * line_height))));
        const std::vector<int> cuts = cuts_for(ink, comps, g, k);
        for (size_t i = 0; i + 1 < cuts.size(); ++i) {
            DigitPiece p = cut_piece(ink, comps, g, cuts[i], cuts[i + 1]);
            if (!p.box.empty()) pieces.push_back(std::move(p));
        }
    }
    return pieces;
}

}  // namespace mn
