#pragma once
// Atomic file writes: data goes to a temporary file beside the target (an unnamed one where
// the system has them, O_TMPFILE), is flushed to disk, then renamed over the target. A crash,
// a kill, a full disk or a file-size limit leaves either the old file or the new one, never
// half of one; the failures of a write are an Error ("write failed: No space left on device").
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mn {

class AtomicWriter {
public:
    explicit AtomicWriter(const std::string& path);  // throws Error if the temp file cannot be created
    ~AtomicWriter();                                  // removes the temp file unless commit() ran
    AtomicWriter(const AtomicWriter&) = delete;
    AtomicWriter& operator=(const AtomicWriter&) = delete;

    void write(const void* data, size_t n);
    void pad_to(size_t alignment);  // zero bytes up to the next multiple of alignment
    size_t written() const { return written_; }
    void commit();  // flush, fsync, rename over the target

private:
    std::string path_, tmp_path_;
    int fd_ = -1;
    bool unnamed_ = false;  // fd_ is an O_TMPFILE file, named tmp_path_ only in commit()
    size_t written_ = 0;
    std::vector<uint8_t> buf_;
    void flush_buffer();
};

// Convenience: writes a whole buffer atomically.
void write_file_atomic(const std::string& path, const void* data, size_t n);

}  // namespace mn
