#pragma once
// The last steps of MNIST's own recipe, from a plane of ink to the 28x28 the models take: crop
// to the ink's bounding box, scale it (keeping the aspect ratio) so that its longer side is
// 20 pixels, averaging each output pixel over the area it covers, and place it in the 28x28
// field so that its centre of mass lies at the centre, (14, 14).
#include <array>
#include <cstdint>

#include "image/image.h"
#include "image/ink.h"

namespace mn {

constexpr int kMnistSide = 28;  // the field
constexpr int kMnistFit = 20;   // the box the digit is scaled to fit
using MnistPixels = std::array<uint8_t, kMnistSide * kMnistSide>;  // row-major, 0 = background

// The box around the pixels > 0 (empty when there are none).
Box ink_box(const Plane& ink);

// `src` resampled to w x h: each output pixel is the mean of the input over the rectangle it
// covers (fractions of pixels weighted by their share), so shrinking anti-aliases and growing
// keeps edges where they were.
Plane resample_area(const Plane& src, int w, int h);

// Sum of v * (x + 0.5) / sum of v, and the same for y: the centre of mass in pixel units.
void centre_of_mass(const Plane& p, double& cx, double& cy);

// MNIST-style input of the ink inside `box` (the whole plane by default). All zero if none.
MnistPixels mnist_input(const Plane& ink, Box box);
MnistPixels mnist_input(const Plane& ink);

// Any single-digit image, start to end: extract_ink, then mnist_input.
MnistPixels mnist_input(const ImageView& img);

}  // namespace mn
