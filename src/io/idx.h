#pragma once
// MNIST IDX files (images: magic 0x00000803, labels: magic 0x00000801), plain or gzip-compressed
// (detected by the gzip magic, not the file name). Header fields are big-endian; pixels and
// labels are unsigned bytes and are kept that way.
#include <cstddef>
#include <cstdint>
#include <string>
#include <memory>
#include <vector>

#include "io/mapped_file.h"

namespace mn {

// Images stay uint8. A plain IDX file is used in place through a read-only memory map (its
// pages come in as they are read and can be handed back with release()); a gzip file is
// decompressed into `pixels`, as are images built in memory.
struct IdxImages {
    int64_t count = 0, rows = 0, cols = 0;
    std::vector<uint8_t> pixels;  // owned pixels: image after image, each row-major; empty if mapped
    std::shared_ptr<const MappedFile> mapping;  // set when the pixels live in a mapped file
    const uint8_t* mapped = nullptr;            // first pixel inside `mapping`

    int64_t image_size() const { return rows * cols; }
    const uint8_t* data() const { return mapped ? mapped : pixels.data(); }
    const uint8_t* image(int64_t i) const;  // throws Error when i is out of range
    // Images [first, first + n) will not be read again soon: a mapped file's pages for them are
    // dropped from memory (they would be read back from the file if needed). No-op otherwise.
    void release(int64_t first, int64_t n) const;
};

struct IdxLabels {
    std::vector<uint8_t> labels;

    int64_t count() const { return static_cast<int64_t>(labels.size()); }
};

constexpr uint32_t kIdxImagesMagic = 0x00000803;
constexpr uint32_t kIdxLabelsMagic = 0x00000801;

// Read and validate a whole file. Errors (mn::Error) are one line without the path. Rows and
// columns are at most limits::kIdxSide, a .gz file inflates to at most limits::kDecompressedBytes.
IdxImages read_idx_images(const std::string& path);
IdxLabels read_idx_labels(const std::string& path);

// The same from file contents already in memory (plain or gzip); used by tests and fuzzers.
IdxImages parse_idx_images(const uint8_t* data, size_t size);
IdxLabels parse_idx_labels(const uint8_t* data, size_t size);

// Same number of images and labels, every label in 0..num_classes-1.
void check_labels_match(const IdxImages& images, const IdxLabels& labels, int num_classes = 10);

// Atomic writers of plain (uncompressed) IDX files; they refuse what the readers would reject.
void write_idx_images(const std::string& path, const IdxImages& images);
void write_idx_labels(const std::string& path, const IdxLabels& labels);

}  // namespace mn
