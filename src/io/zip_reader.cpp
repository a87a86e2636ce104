#include "io/zip_reader.h"

#include <algorithm>
#include <cstdio>
#include <numeric>

#include "engine/error.h"
#include "engine/limits.h"
#include "io/quoted_name.h"
#include "io/byte_reader.h"
#include "io/crc32.h"

namespace mn {

namespace {

constexpr uint32_t kLocalHeaderSig = 0x04034b50;       // "PK\3\4"
constexpr uint32_t kCentralHeaderSig = 0x02014b50;     // "PK\1\2"
constexpr uint32_t kEndRecordSig = 0x06054b50;         // "PK\5\6"
constexpr uint32_t kZip64EndRecordSig = 0x06064b50;    // "PK\6\6"
constexpr uint32_t kZip64LocatorSig = 0x07064b50;      // "PK\6\7"
constexpr size_t kEndRecordSize = 22;
constexpr size_t kZip64LocatorSize = 20;
constexpr size_t kZip64EndRecordSize = 56;
constexpr size_t kCentralHeaderSize = 46;
constexpr size_t kLocalHeaderSize = 30;
constexpr size_t kMaxCommentSize = 0xFFFF;
constexpr uint16_t kZip64ExtraId = 0x0001;
constexpr uint16_t kFlagEncrypted = 0x0001;


std::string hex32(uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08x", v);
    return buf;
}

// A 64-bit offset or size from the file, as a size_t, after checking it lies within `limit`
// (offsets from a hostile file may exceed what size_t holds on a 32-bit host).
size_t checked_offset(uint64_t value, size_t limit, const char* what) {
    check(value <= limit, std::string("zip ") + what + " " + std::to_string(value) +
                              " is past the end of the archive");
    return static_cast<size_t>(value);
}

}  // namespace

ZipReader::ZipReader(const uint8_t* data, size_t size) : data_(data), size_(size) {
    size_t eocd_pos = find_end_record();
    EndRecord end = read_end_record(eocd_pos);
    read_central_directory(end);
}

// The end record sits at the very end, after a comment of up to 64 KiB, so only that window
// is searched, from the back. A candidate is accepted when its comment fits in the file.
size_t ZipReader::find_end_record() const {
    check(size_ >= kEndRecordSize, "not a zip archive (too small for an end of central directory record)");
    size_t last = size_ - kEndRecordSize;
    size_t first = last > kMaxCommentSize ? last - kMaxCommentSize : 0;
    for (size_t pos = last + 1; pos-- > first;) {
        ByteReader r(data_ + pos, size_ - pos);
        if (r.u32() != kEndRecordSig) continue;
        r.seek(20);
        size_t comment = r.u16();
        if (comment <= r.remaining()) return pos;
    }
    throw Error("not a zip archive (no end of central directory record)");
}

ZipReader::EndRecord ZipReader::read_end_record(size_t eocd_pos) const {
    ByteReader r(data_ + eocd_pos, kEndRecordSize);
    r.u32();  // signature, already matched
    uint16_t disk = r.u16();
    uint16_t directory_disk = r.u16();
    uint16_t entries_on_disk = r.u16();
    EndRecord end;
    end.entry_count = r.u16();
    end.directory_size = r.u32();
    end.directory_offset = r.u32();
    end.directory_limit = eocd_pos;

    // A ZIP64 locator right before the end record points at the ZIP64 end record, whose
    // 64-bit fields replace the (then usually saturated) 16/32-bit ones.
    if (eocd_pos >= kZip64LocatorSize) {
        size_t locator_pos = eocd_pos - kZip64LocatorSize;
        ByteReader loc(data_ + locator_pos, kZip64LocatorSize);
        if (loc.u32() == kZip64LocatorSig) {
            read_zip64_end_record(locator_pos, end);
            return end;
        }
    }
    check(disk == 0 && directory_disk == 0 && entries_on_disk == end.entry_count,
          "multi-disk zip archives are not supported");
    return end;
}

void ZipReader::read_zip64_end_record(size_t locator_pos, EndRecord& end) const {
    ByteReader loc(data_ + locator_pos, kZip64LocatorSize);
    loc.u32();  // signature
    uint32_t record_disk = loc.u32();
    uint64_t record_offset = loc.u64();
    uint32_t disk_count = loc.u32();
    check(record_disk == 0 && disk_count <= 1, "multi-disk zip archives are not supported");

    size_t pos = checked_offset(record_offset, locator_pos, "ZIP64 end record offset");
    check(locator_pos - pos >= kZip64EndRecordSize, "zip ZIP64 end record is truncated");
    ByteReader r(data_ + pos, locator_pos - pos);
    check(r.u32() == kZip64EndRecordSig, "zip ZIP64 end record has a bad signature");
    r.u64();  // size of the rest of the record
    r.u16();  // version made by
    r.u16();  // version needed
    uint32_t disk = r.u32();
    uint32_t directory_disk = r.u32();
    uint64_t entries_on_disk = r.u64();
    end.entry_count = r.u64();
    end.directory_size = r.u64();
    end.directory_offset = r.u64();
    end.directory_limit = pos;
    check(disk == 0 && directory_disk == 0 && entries_on_disk == end.entry_count,
          "multi-disk zip archives are not supported");
}

namespace {

// Fields of a central directory header that may be widened by a ZIP64 extra field.
struct WideFields {
    uint64_t size, compressed_size, local_header_offset;
};

// The ZIP64 extra field holds, in this order, only the fields whose 32-bit value is saturated.
void apply_zip64_extra(std::string_view extra, WideFields& f, const std::string& name) {
    ByteReader r(reinterpret_cast<const uint8_t*>(extra.data()), extra.size());
    while (r.remaining() >= 4) {
        uint16_t id = r.u16();
        uint16_t len = r.u16();
        check(len <= r.remaining(), "zip entry " + quoted_name(name) + " has a truncated extra field");
        ByteReader field(r.take(len), len);
        if (id != kZip64ExtraId) continue;
        const char* what = "ZIP64 extra field";
        if (f.size == 0xFFFFFFFF) f.size = field.u64(what);
        if (f.compressed_size == 0xFFFFFFFF) f.compressed_size = field.u64(what);
        if (f.local_header_offset == 0xFFFFFFFF) f.local_header_offset = field.u64(what);
        return;
    }
}

}  // namespace

void ZipReader::read_central_directory(const EndRecord& end) {
    size_t offset = checked_offset(end.directory_offset, end.directory_limit, "central directory offset");
    size_t length = checked_offset(end.directory_size, end.directory_limit - offset, "central directory size");
    check_limit(end.entry_count, limits::kArchiveEntries, "zip entry count");
    // Every header takes at least 46 bytes, which bounds the count before anything is reserved.
    check(end.entry_count <= length / kCentralHeaderSize,
          "zip central directory claims " + std::to_string(end.entry_count) + " entries but has room for " +
              std::to_string(length / kCentralHeaderSize));

    ByteReader r(data_ + offset, length);
    entries_.reserve(static_cast<size_t>(end.entry_count));
    for (uint64_t i = 0; i < end.entry_count; ++i) {
        const char* what = "zip central directory";
        check(r.u32(what) == kCentralHeaderSig, "zip central directory entry " + std::to_string(i) +
                                                    " has a bad signature");
        ZipEntry e;
        r.u16(what);  // version made by
        r.u16(what);  // version needed
        e.flags = r.u16(what);
        e.method = r.u16(what);
        r.u32(what);  // modification time and date
        e.crc32 = r.u32(what);
        WideFields wide;
        wide.compressed_size = r.u32(what);
        wide.size = r.u32(what);
        uint16_t name_len = r.u16(what);
        uint16_t extra_len = r.u16(what);
        uint16_t comment_len = r.u16(what);
        r.u16(what);  // disk number start
        r.u16(what);  // internal attributes
        r.u32(what);  // external attributes
        wide.local_header_offset = r.u32(what);
        e.name = std::string(r.str(name_len, "zip entry name"));
        std::string_view extra = r.str(extra_len, "zip extra field");
        r.take(comment_len, "zip entry comment");

        check(!e.name.empty(), "zip central directory entry " + std::to_string(i) + " has an empty name");
        apply_zip64_extra(extra, wide, e.name);
        e.size = check_limit(wide.size, limits::kArchiveEntryBytes, "zip entry " + quoted_name(e.name) + " size");
        e.compressed_size = check_limit(wide.compressed_size, limits::kArchiveEntryBytes,
                                        "zip entry " + quoted_name(e.name) + " compressed size");
        e.local_header_offset = wide.local_header_offset;
        locate_data(e, offset);
        check(by_name_.emplace(e.name, entries_.size()).second,
              "zip archive has two entries named " + quoted_name(e.name));
        entries_.push_back(std::move(e));
    }
    check_no_overlap();
}

// Entries whose bytes overlap are how a small "zip bomb" makes a reader go through the same
// data many times; an archive writer never makes them.
void ZipReader::check_no_overlap() const {
    std::vector<size_t> order(entries_.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return entries_[a].local_header_offset < entries_[b].local_header_offset;
    });
    for (size_t i = 1; i < order.size(); ++i) {
        const ZipEntry& prev = entries_[order[i - 1]];
        const ZipEntry& cur = entries_[order[i]];
        // Both lie inside the buffer (locate_data checked), so none of this overflows.
        const size_t prev_end = size_t(prev.data - data_) + size_t(prev.compressed_size);
        check(prev_end <= cur.local_header_offset,
              "zip entries " + quoted_name(prev.name) + " and " + quoted_name(cur.name) + " overlap");
    }
}

// Reads the entry's local header to find where its data starts; the local header's own
// name and extra lengths may differ from the central directory's (torch pads here).
// Entry data lies before the central directory (`limit`), which also rules out overlaps.
void ZipReader::locate_data(ZipEntry& e, size_t limit) const {
    size_t header = checked_offset(e.local_header_offset, limit, "local header offset");
    ByteReader r(data_ + header, limit - header);
    const char* what = "zip local header";
    check(r.u32(what) == kLocalHeaderSig, "zip entry " + quoted_name(e.name) + " has a bad local header signature");
    // version, flags, method, time, date, CRC and sizes: zero here when a data descriptor
    // follows the data (as torch.save writes), so the central directory's values are used
    r.take(kLocalHeaderSize - 4 - 4, what);  // all but the signature and the two lengths
    uint16_t name_len = r.u16(what);
    uint16_t extra_len = r.u16(what);
    std::string_view local_name = r.str(name_len, what);
    r.take(extra_len, what);
    check(local_name == e.name, "zip entry " + quoted_name(e.name) + " has a different name in its local header");
    check(e.compressed_size <= r.remaining(),
          "zip entry " + quoted_name(e.name) + " extends past the end of the archive");
    e.data = r.data() + r.pos();
}

const ZipEntry* ZipReader::find(std::string_view name) const {
    auto it = by_name_.find(std::string(name));
    return it == by_name_.end() ? nullptr : &entries_[it->second];
}

std::span<const uint8_t> ZipReader::contents(const ZipEntry& e) const {
    std::string name = quoted_name(e.name);
    check(!(e.flags & kFlagEncrypted), "zip entry " + name + " is encrypted; encrypted entries are not supported");
    check(e.method == 0, "zip entry " + name + " is compressed (method " + std::to_string(e.method) +
                             "); only stored entries are supported");
    check(e.size == e.compressed_size, "zip entry " + name + " is stored but its two sizes differ (" +
                                           std::to_string(e.size) + " vs " + std::to_string(e.compressed_size) + ")");
    size_t n = static_cast<size_t>(e.size);  // fits: locate_data checked it against the buffer
    uint32_t actual = crc32(e.data, n);
    check(actual == e.crc32, "zip entry " + name + " fails its CRC-32 check (directory says " + hex32(e.crc32) +
                                 ", data gives " + hex32(actual) + ")");
    return {e.data, n};
}

}  // namespace mn
