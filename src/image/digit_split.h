#pragma once
// A handwritten number to its digits, left to right. On the plane of ink (image/ink.h):
//   1. connected components (8-connectivity);
//   2. components that share most of their columns (at least half of the narrower one's width)
//      are one digit: a pen lifted inside a stroke, a 5's detached bar, a 4 in two strokes;
//   3. a group much wider than the number is tall is digits that touch: it is cut into
//      k = round(width / (0.8 * line height)) pieces, each cut at the column with the least
//      ink within a quarter of a piece of where an even split would put it;
//   4. each piece (its own pixels only) becomes one plane, in order of its left edge.
#include <vector>

#include "image/image.h"

namespace mn {

struct DigitPiece {
    Box box;      // where it lies in the ink plane
    Plane ink;    // box-sized, the other pieces' pixels zeroed
};

std::vector<DigitPiece> split_digits(const Plane& ink);

}  // namespace mn
