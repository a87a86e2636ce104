#pragma once
// The legacy ggml MNIST model format (ggml-model-f32.bin, from the original ggml MNIST
// example): an int32 magic 0x67676d6c (bytes 6c 6d 67 67, "ggml" read little-endian), then,
// for each tensor until the end of the file: int32 n_dims, n_dims int32 sizes innermost
// first (ggml `ne` order), then the values. The values are float32 (older descriptions of
// the format say int32; the real files hold float32). Tensors have no names: for the fully
// connected network they are fc1.weight ne [784,500], fc1.bias [500], fc2.weight [500,10],
// fc2.bias [10], in that order.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mn {

struct LegacyTensor {
    int n_dims = 0;
    int64_t ne[4] = {1, 1, 1, 1};  // unused trailing dimensions are 1
    std::vector<float> data;

    int64_t nelements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
};

constexpr uint32_t kLegacyGgmlMagic = 0x67676d6c;
constexpr int kLegacyGgmlMaxTensors = 64;

bool is_legacy_ggml(const uint8_t* data, size_t size);

// Reads and validates a whole file. Errors (mn::Error) are one line without the path.
std::vector<LegacyTensor> read_legacy_ggml(const std::string& path);
// The same from file contents already in memory; used by tests and fuzzers.
std::vector<LegacyTensor> parse_legacy_ggml(const uint8_t* data, size_t size);

// Atomic writer; refuses what the reader would reject.
void write_legacy_ggml(const std::string& path, const std::vector<LegacyTensor>& tensors);

}  // namespace mn
