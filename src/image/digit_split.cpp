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

// Columns between two boxes (0 when they overlap).
int column_gap(const Box& a, const Box& b) { return std::max(0, std::max(a.x0, b.x0) - std::min(a.x1, b.x1)); }

void absorb(Group& into, Group& from) {
    into.box = merge(into.box, from.box);
    into.members.insert(into.members.end(), from.members.begin(), from.members.end());
}

// Components grouped into digits (step 2). Two groups are one digit when they share columns
// and one of them is a fragment (under 3/4 of the line's height): a full-height neighbour that
// leans over, such as a 1 beside a 4, stays apart. A fragment left alone (under half the line's
// height) joins the nearest group if that is within a fifth of the line's height.
std::vector<Group> group_components(const Components& comps) {
    std::vector<Group> groups;
    int line = 0;
    for (int32_t id = 0; id < int32_t(comps.list.size()); ++id) {
        groups.push_back({comps.list[size_t(id)].box, {id}});
        line = std::max(line, comps.list[size_t(id)].box.height());
    }
    auto fragment = [&](const Group& g, double share) { return g.box.height() < share * line; };
    for (bool merged = true; merged;) {
        merged = false;
        for (size_t i = 0; i < groups.size() && !merged; ++i)
            for (size_t j = i + 1; j < groups.size() && !merged; ++j)
                if (same_columns(groups[i].box, groups[j].box) &&
                    (fragment(groups[i], 0.75) || fragment(groups[j], 0.75))) {
                    absorb(groups[i], groups[j]);
                    groups.erase(groups.begin() + std::ptrdiff_t(j));
                    merged = true;
                }
    }
    for (size_t i = 0; i < groups.size();) {
        size_t nearest = i;
        if (fragment(groups[i], 0.5))
            for (size_t j = 0; j < groups.size(); ++j)
                if (j != i && !fragment(groups[j], 0.5) &&
                    column_gap(groups[i].box, groups[j].box) * 5 <= line &&
                    (nearest == i || column_gap(groups[i].box, groups[j].box) < column_gap(groups[i].box, groups[nearest].box)))
                    nearest = j;
        if (nearest == i) {
            ++i;
            continue;
        }
        absorb(groups[nearest], groups[i]);
        groups.erase(groups.begin() + std::ptrdiff_t(i));
        i = 0;
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

// Candidate cut columns of a group (step 3): its edges and the local minima of its column sums,
// lowest first, at least 1/10 of the line height from the edges and from each other.
std::vector<int> cut_candidates(const Plane& ink, const Components& comps, const Group& g, int line) {
    std::vector<uint8_t> member(comps.list.size(), 0);
    for (int32_t id : g.members) member[size_t(id)] = 1;
    const int w = g.box.width();
    std::vector<double> column(size_t(w), 0.0);
    for (int y = g.box.y0; y < g.box.y1; ++y)
        for (int x = g.box.x0; x < g.box.x1; ++x) {
            const size_t i = size_t(y) * size_t(ink.w) + size_t(x);
            if (comps.label[i] >= 0 && member[size_t(comps.label[i])]) column[size_t(x - g.box.x0)] += ink.v[i];
        }
    const int spacing = std::max(1, line / 10);
    std::vector<int> minima;
    for (int x = spacing; x <= w - spacing; ++x) {
        const double left = column[size_t(x - 1)], here = x < w ? column[size_t(x)] : 0.0;
        const double right = x + 1 < w ? column[size_t(x + 1)] : 0.0;
        if (here <= left && here <= right) minima.push_back(x);
    }
    std::stable_sort(minima.begin(), minima.end(), [&](int a, int b) { return column[size_t(a)] < column[size_t(b)]; });
    std::vector<int> cuts{0, w};
    for (int x : minima) {
        if (cuts.size() >= 14) break;
        bool apart = true;
        for (int c : cuts) apart = apart && std::abs(c - x) >= spacing;
        if (apart) cuts.push_back(x);
    }
    std::sort(cuts.begin(), cuts.end());
    for (int& c : cuts) c += g.box.x0;
    return cuts;
}

// Log prior of a piece as wide as `ratio` line heights being one digit.
double width_prior(double ratio) {
    if (ratio > 0.9) return -std::pow((ratio - 0.9) / 0.15, 2);
    if (ratio < 0.08) return -std::pow((0.08 - ratio) / 0.02, 2);
    return 0.0;
}

constexpr double kPiecePenalty = 1.0;

// The best way to cut a group into digits (step 3): best[j] = max over i < j of best[i] +
// value(piece between candidates i and j).
std::vector<DigitPiece> cut_group(const Plane& ink, const Components& comps, const Group& g, int line,
                                  const PieceScore& score) {
    const std::vector<int> cuts = cut_candidates(ink, comps, g, line);
    const size_t n = cuts.size();
    std::vector<double> best(n, -1e300);
    std::vector<size_t> from(n, 0);
    std::vector<std::vector<DigitPiece>> piece(n, std::vector<DigitPiece>(n));
    best[0] = 0;
    for (size_t j = 1; j < n; ++j)
        for (size_t i = 0; i < j; ++i) {
            const double ratio = double(cuts[j] - cuts[i]) / line;
            if (ratio > 2.0 || best[i] <= -1e299) continue;  // no digit is that wide: not worth a look
            DigitPiece p = cut_piece(ink, comps, g, cuts[i], cuts[j]);
            double value = width_prior(ratio) - kPiecePenalty;
            if (!p.box.empty() && score) value += score(p.ink);
            if (best[i] + value > best[j]) {
                best[j] = best[i] + value;
                from[j] = i;
            }
            piece[i][j] = std::move(p);
        }
    std::vector<DigitPiece> out;
    if (best[n - 1] <= -1e299) {  // wider than any chain of candidates allows: keep it whole
        out.push_back(cut_piece(ink, comps, g, g.box.x0, g.box.x1));
        return out;
    }
    for (size_t j = n - 1; j > 0; j = from[j])
        if (!piece[from[j]][j].box.empty()) out.push_back(std::move(piece[from[j]][j]));
    std::reverse(out.begin(), out.end());
    return out;
}

}  // namespace

std::vector<DigitPiece> split_digits(const Plane& ink, const PieceScore& score) {
    const Components comps = label_components(ink);
    std::vector<Group> groups = group_components(comps);
    std::sort(groups.begin(), groups.end(), [](const Group& a, const Group& b) { return a.box.x0 < b.box.x0; });
    int line = 1;
    for (const Group& g : groups) line = std::max(line, g.box.height());
    std::vector<DigitPiece> pieces;
    for (const Group& g : groups) {
        // A group narrower than 0.6 line heights is one digit: no cut would pay.
        std::vector<DigitPiece> cut = g.box.width() < 0.6 * line
                                          ? std::vector<DigitPiece>{}
                                          : cut_group(ink, comps, g, line, score);
        if (cut.empty()) cut.push_back(cut_piece(ink, comps, g, g.box.x0, g.box.x1));
        for (DigitPiece& p : cut) pieces.push_back(std::move(p));
    }
    // Groups are in order of their left edges, but a group that is cut may have pieces right of
    // the next group's left edge (groups can share columns): the pieces in order of their own.
    std::stable_sort(pieces.begin(), pieces.end(),
                     [](const DigitPiece& a, const DigitPiece& b) { return a.box.x0 < b.box.x0; });
    return pieces;
}

}  // namespace mn
