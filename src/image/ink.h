#pragma once
// From any photo, scan or canvas to a plane of ink: 0 where there is none (exactly), up to 1
// at full stroke strength, whichever way round the picture was (dark on light or light on
// dark) and however unevenly it was lit. The steps, each a function below:
//
//   luminance    gray in [0, 1] (alpha composited over the side the drawing is not), images
//                above kWorkPixels averaged down by a whole factor first
//   polarity     ink is the side of the border's median with more energy in its tail
//   background   a quadratic surface fitted to the background pixels (re-fitted as the ink
//                mask improves); ink signal s = 1 - L / B for dark ink (paper: lighting
//                multiplies), s = L - B for light ink (a screen: glow adds)
//   threshold    Otsu's threshold T on s; a low threshold T_low just above the background's
//                noise (median + 3 robust sigma); hysteresis: a region above T_low is ink when
//                it holds pixels above T, at least 5% as many as the largest region
//   levels       ink = (s - T_low) / (L_ink - T_low) clamped to [0, 1], L_ink the median of s
//                over the pixels above T, so anti-aliased edges keep their gray levels
#include <cstdint>

#include "image/image.h"

namespace mn {

// Larger images are averaged down by a whole factor to at most this many pixels (a digit does
// not need more, and the cost stays bounded).
constexpr int64_t kWorkPixels = 1 << 20;

struct InkMap {
    Plane ink;             // 0 = no ink, 1 = full stroke
    bool dark_ink = false;  // the picture was dark ink on a light background
    int64_t ink_pixels = 0;
};

// Gray levels in [0, 1] of an 8-bit image, averaged down to at most kWorkPixels.
Plane luminance(const ImageView& img);

// Otsu's threshold over the values of `v` (256 bins between their min and max): the value that
// splits them into two classes of the largest between-class variance.
float otsu_threshold(const std::vector<float>& v);

InkMap extract_ink(const ImageView& img);
InkMap extract_ink(const Plane& luminance);

}  // namespace mn
