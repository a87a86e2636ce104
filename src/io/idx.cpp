#include "io/idx.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>

#include "engine/error.h"
#include "engine/limits.h"
#include "io/atomic_file.h"
#include "io/byte_reader.h"
#include "io/inflate.h"
#include "io/mapped_file.h"

namespace mn {

namespace {

constexpr size_t kImagesHeaderBytes = 16;  // magic + 3 dimensions
constexpr size_t kLabelsHeaderBytes = 8;   // magic + 1 dimension
constexpr uint8_t kTypeUnsignedByte = 0x08;

std::string hex(uint32_t v, int digits) {
    char buf[16];
    std::snprintf(buf, sizeof(buf), "0x%0*X", digits, v);
    return buf;
}

std::string hex32(uint32_t v) { return hex(v, 8); }

const char* type_name(uint8_t type) {
    switch (type) {
        case 0x08: return "unsigned byte";
        case 0x09: return "signed byte";
        case 0x0B: return "int16";
        case 0x0C: return "int32";
        case 0x0D: return "float32";
        case 0x0E: return "float64";
        default: return "unknown";
    }
}

// Reads and checks the 4-byte magic: two zero bytes, the element type, the number of
// dimensions. A label file given where images are expected (or the reverse) gets its own
// message, since that is the likely mistake.
void read_magic(ByteReader& r, uint32_t expected) {
    check(r.size() >= 4, "file is too short to be an IDX file (" + std::to_string(r.size()) +
                             " bytes)");
    uint32_t magic = read_be32(r, "IDX magic");
    if (magic == expected) return;

    const bool want_images = expected == kIdxImagesMagic;
    const char* want = want_images ? "an IDX image file" : "an IDX label file";
    const std::string expected_text = ", expected " + hex32(expected) + " (" + want + ")";
    check((magic >> 16) == 0, "not an IDX file: magic is " + hex32(magic) + expected_text);

    uint8_t type = static_cast<uint8_t>(magic >> 8);
    check(type == kTypeUnsignedByte, "unsupported IDX element type " + hex(type, 2) + " (" +
                                         type_name(type) + "), expected 0x08 (unsigned byte)");
    if (magic == kIdxLabelsMagic)
        throw Error("this is an IDX label file (magic 0x00000801)" + expected_text);
    if (magic == kIdxImagesMagic)
        throw Error("this is an IDX image file (magic 0x00000803)" + expected_text);
    throw Error("IDX file has " + std::to_string(magic & 0xFF) + " dimensions (magic " + hex32(magic) +
                ")" + expected_text);
}

// Header size + payload must equal the data size exactly.
void check_payload(size_t size, size_t header, uint64_t payload, const std::string& described) {
    uint64_t expected = header + payload;
    check(size >= expected, "truncated: header says " + described + " but the file holds " +
                                std::to_string(size) + " bytes (expected " +
                                std::to_string(expected) + ")");
    check(size == expected, "file has " + std::to_string(size - expected) +
                                " unexpected bytes after " + described);
}

// The IDX bytes of a file: the file itself, or its inflated contents when it is gzip data.
// The header is inflated first: it says how large the data is, so a stream that inflates to
// more (a "gzip bomb") stops there, and a header that claims more than the limit stops before
// anything else is inflated.
class IdxBytes {
public:
    IdxBytes(const uint8_t* data, size_t size, uint32_t magic) : data_(data), size_(size) {
        if (!is_gzip(data, size)) return;
        const bool images = magic == kIdxImagesMagic;
        const std::vector<uint8_t> head = gunzip_prefix(data, size, images ? kImagesHeaderBytes : kLabelsHeaderBytes);
        ByteReader r(head.data(), head.size());
        read_magic(r, magic);
        uint64_t expected = read_be32(r, "IDX header");
        if (images) {
            expected = mul_size(expected, read_be32(r, "IDX header"), "image data size");
            expected = mul_size(expected, read_be32(r, "IDX header"), "image data size");
        }
        expected = check_limit(add_size(expected, head.size(), "decompressed size"), limits::kDecompressedBytes,
                               "decompressed size");
        try {
            inflated_ = gunzip(data, size, expected);
        } catch (const OutputLimitError&) {
            throw Error("the gzip data inflates to more than the " + std::to_string(expected) +
                        " bytes its IDX header says");
        }
        data_ = inflated_.data();
        size_ = inflated_.size();
    }
    const uint8_t* data() const { return data_; }
    size_t size() const { return size_; }

private:
    std::vector<uint8_t> inflated_;
    const uint8_t* data_;
    size_t size_;
};

IdxImages parse_plain_images(const uint8_t* data, size_t size, bool in_place = false) {
    ByteReader r(data, size);
    read_magic(r, kIdxImagesMagic);
    IdxImages im;
    im.count = read_be32(r, "IDX header");
    im.rows = read_be32(r, "IDX header");
    im.cols = read_be32(r, "IDX header");
    check(im.count > 0, "header says 0 images");
    check(im.rows >= 1 && im.cols >= 1, "image size " + std::to_string(im.rows) + "x" + std::to_string(im.cols) +
                                            " is not supported (rows and columns must be at least 1)");
    check_limit(uint64_t(im.rows), limits::kIdxSide, "image rows");
    check_limit(uint64_t(im.cols), limits::kIdxSide, "image columns");
    const uint64_t bytes = mul_size(uint64_t(im.count), uint64_t(im.rows * im.cols), "image data size");
    std::string described = std::to_string(im.count) + " images of " + std::to_string(im.rows) +
                            "x" + std::to_string(im.cols);
    check_payload(size, kImagesHeaderBytes, bytes, described);
    const uint8_t* pixels = r.take(static_cast<size_t>(bytes), "pixels");
    if (in_place)
        im.mapped = pixels;
    else
        im.pixels.assign(pixels, pixels + bytes);
    return im;
}

IdxLabels parse_plain_labels(const uint8_t* data, size_t size) {
    ByteReader r(data, size);
    read_magic(r, kIdxLabelsMagic);
    uint32_t count = read_be32(r, "IDX header");
    check(count > 0, "header says 0 labels");
    check_payload(size, kLabelsHeaderBytes, count, std::to_string(count) + " labels");
    const uint8_t* labels = r.take(count, "labels");
    return IdxLabels{std::vector<uint8_t>(labels, labels + count)};
}

void put_be32(uint8_t* p, uint32_t v) {
    p[0] = static_cast<uint8_t>(v >> 24);
    p[1] = static_cast<uint8_t>(v >> 16);
    p[2] = static_cast<uint8_t>(v >> 8);
    p[3] = static_cast<uint8_t>(v);
}

}  // namespace

const uint8_t* IdxImages::image(int64_t i) const {
    if (i < 0 || i >= count)
        throw Error("image index " + std::to_string(i) + " is out of range (0.." + std::to_string(count - 1) + ")");
    return data() + i * image_size();
}

void IdxImages::release(int64_t first, int64_t n) const {
    if (!mapped || n <= 0) return;
    // Whole pages inside the range only: a neighbouring image may share the edge pages.
    const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
    const uintptr_t lo = (reinterpret_cast<uintptr_t>(image(first)) + page - 1) / page * page;
    const uintptr_t hi = reinterpret_cast<uintptr_t>(image(first + n - 1) + image_size()) / page * page;
    if (hi > lo) ::madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_DONTNEED);
}

IdxImages parse_idx_images(const uint8_t* data, size_t size) {
    IdxBytes bytes(data, size, kIdxImagesMagic);
    return parse_plain_images(bytes.data(), bytes.size());
}

IdxLabels parse_idx_labels(const uint8_t* data, size_t size) {
    IdxBytes bytes(data, size, kIdxLabelsMagic);
    return parse_plain_labels(bytes.data(), bytes.size());
}

IdxImages read_idx_images(const std::string& path) {
    auto f = std::make_shared<MappedFile>(path);
    if (is_gzip(f->data(), f->size())) return parse_idx_images(f->data(), f->size());
    IdxImages im = parse_plain_images(f->data(), f->size(), /*in_place=*/true);
    im.mapping = std::move(f);
    return im;
}

IdxLabels read_idx_labels(const std::string& path) {
    MappedFile f(path);
    return parse_idx_labels(f.data(), f.size());
}

void check_labels_match(const IdxImages& images, const IdxLabels& labels, int num_classes) {
    check(images.count == labels.count(),
          "the image file has " + std::to_string(images.count) + " images but the label file has " +
              std::to_string(labels.count()) + " labels");
    for (size_t i = 0; i < labels.labels.size(); ++i) {
        check(labels.labels[i] < num_classes,
              "label " + std::to_string(labels.labels[i]) + " at index " + std::to_string(i) +
                  " is out of range 0.." + std::to_string(num_classes - 1));
    }
}

void write_idx_images(const std::string& path, const IdxImages& images) {
    check(images.count > 0 && images.count <= UINT32_MAX, "cannot write an IDX file of " +
                                                            std::to_string(images.count) + " images");
    check(images.rows >= 1 && images.rows <= int64_t(limits::kIdxSide) && images.cols >= 1 &&
              images.cols <= int64_t(limits::kIdxSide),
          "cannot write images of " + std::to_string(images.rows) + "x" +
              std::to_string(images.cols));
    check(images.mapped || images.pixels.size() == static_cast<uint64_t>(images.count * images.image_size()),
          "pixel buffer holds " + std::to_string(images.pixels.size()) + " bytes, expected " +
              std::to_string(images.count * images.image_size()));
    uint8_t header[kImagesHeaderBytes];
    put_be32(header, kIdxImagesMagic);
    put_be32(header + 4, static_cast<uint32_t>(images.count));
    put_be32(header + 8, static_cast<uint32_t>(images.rows));
    put_be32(header + 12, static_cast<uint32_t>(images.cols));
    AtomicWriter w(path);
    w.write(header, sizeof(header));
    w.write(images.data(), static_cast<size_t>(images.count * images.image_size()));
    w.commit();
}

void write_idx_labels(const std::string& path, const IdxLabels& labels) {
    check(labels.count() > 0 && labels.count() <= UINT32_MAX,
          "cannot write an IDX file of " + std::to_string(labels.count()) + " labels");
    uint8_t header[kLabelsHeaderBytes];
    put_be32(header, kIdxLabelsMagic);
    put_be32(header + 4, static_cast<uint32_t>(labels.count()));
    AtomicWriter w(path);
    w.write(header, sizeof(header));
    w.write(labels.labels.data(), labels.labels.size());
    w.commit();
}

}  // namespace mn
