#pragma once
// A handwritten number to its digits, left to right. On the plane of ink (image/ink.h):
//   1. connected components (8-connectivity);
//   2. components that share most of their columns (at least half of the narrower one's width)
//      are one digit: a pen lifted inside a stroke, a 5's detached bar, a 4 in two strokes;
//   3. a group may be several digits that touch. Cut candidates are the columns where the
//      group's ink (summed down each column) has a local minimum; among the ways to cut at
//      some of them, the one whose pieces score highest is taken (dynamic programming over the
//      candidates), a piece scoring
//          score(piece) + log prior(width / line height) - 1
//      where score says how digit-like the piece is (the log of a classifier's top
//      probability, or 0 without one), the prior falls off for pieces wider than 0.9 line
//      heights (few digits are) or narrower than 0.08, and the -1 for each piece makes fewer
//      pieces win unless the classifier or the widths say otherwise;
//   4. each piece (its own pixels only) becomes one plane, in order of its left edge.
#include <functional>
#include <vector>

#include "image/image.h"

namespace mn {

struct DigitPiece {
    Box box;      // where it lies in the ink plane
    Plane ink;    // box-sized, the other pieces' pixels zeroed
};

using PieceScore = std::function<double(const Plane& piece)>;

std::vector<DigitPiece> split_digits(const Plane& ink, const PieceScore& score = {});

}  // namespace mn
