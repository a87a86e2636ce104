#pragma once
// A read-only view of a zip archive held in memory (usually a MappedFile). It parses the
// central directory once, validating every offset and size against the buffer, and then
// hands out pointers to entry data inside that buffer: nothing is copied.
//
// Only stored (method 0) entries can be read, which is what torch.save writes; their CRC-32
// (io/crc32.h) is checked. Nothing is decompressed, so no entry can hold more than the archive
// does; entries whose bytes overlap (the other way to make a "zip bomb") are refused, and the
// entry count and sizes are bounded (engine/limits.h). ZIP64 end records and ZIP64 extra fields are understood;
// multi-disk archives and encryption are not.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mn {

struct ZipEntry {
    std::string name;
    uint16_t method = 0;            // 0 = stored, 8 = deflate, ...
    uint16_t flags = 0;             // general purpose bit flags
    uint32_t crc32 = 0;             // from the central directory
    uint64_t compressed_size = 0;   // bytes the entry takes in the archive
    uint64_t size = 0;              // bytes once decompressed (equal for stored entries)
    uint64_t local_header_offset = 0;
    const uint8_t* data = nullptr;  // first byte of the (possibly compressed) data
};

class ZipReader {
public:
    // Parses and validates the archive's directory; throws Error on anything malformed.
    // The buffer must outlive the reader.
    ZipReader(const uint8_t* data, size_t size);

    const std::vector<ZipEntry>& entries() const { return entries_; }

    // nullptr when there is no entry of that name.
    const ZipEntry* find(std::string_view name) const;

    // The bytes of a stored entry after checking its CRC32. Throws Error for a compressed or
    // encrypted entry, or when the CRC does not match.
    std::span<const uint8_t> contents(const ZipEntry& entry) const;

private:
    struct EndRecord {
        uint64_t entry_count = 0;
        uint64_t directory_size = 0;
        uint64_t directory_offset = 0;
        size_t directory_limit = 0;   // the central directory must end at or before this offset
    };

    size_t find_end_record() const;
    EndRecord read_end_record(size_t eocd_pos) const;
    void read_zip64_end_record(size_t locator_pos, EndRecord& end) const;
    void read_central_directory(const EndRecord& end);
    void locate_data(ZipEntry& entry, size_t limit) const;
    void check_no_overlap() const;

    const uint8_t* data_;
    size_t size_;
    std::vector<ZipEntry> entries_;
    std::unordered_map<std::string, size_t> by_name_;  // name -> index into entries_
};

}  // namespace mn
