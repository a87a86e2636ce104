#pragma once
// A read-only memory map of a whole file. Model weights are used straight from the map
// (no copy); the map lives as long as the object.
#include <cstddef>
#include <cstdint>
#include <string>

namespace mn {

class MappedFile {
public:
    // Throws Error("<path>: ...") if the file cannot be opened or mapped.
    explicit MappedFile(const std::string& path);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const uint8_t* data() const { return data_; }
    size_t size() const { return size_; }
    const std::string& path() const { return path_; }

private:
    std::string path_;
    const uint8_t* data_ = nullptr;
    size_t size_ = 0;
    bool mapped_ = false;
};

}  // namespace mn
