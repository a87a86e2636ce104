#include "io/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "engine/error.h"

namespace mn {

namespace {
constexpr size_t kBufferBytes = 1 << 20;
}

AtomicWriter::AtomicWriter(const std::string& path) : path_(path) {
    tmp_path_ = path + ".tmp." + std::to_string(::getpid());
    fd_ = ::open(tmp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) throw Error(std::string("cannot create: ") + std::strerror(errno));
    buf_.reserve(kBufferBytes);
}

AtomicWriter::~AtomicWriter() {
    if (fd_ >= 0) {
        ::close(fd_);
        ::unlink(tmp_path_.c_str());
    }
}

void AtomicWriter::flush_buffer() {
    const uint8_t* p = buf_.data();
    size_t n = buf_.size();
    while (n > 0) {
        ssize_t w = ::write(fd_, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            throw Error(std::string("write failed: ") + std::strerror(errno));
        }
        p += w;
        n -= static_cast<size_t>(w);
    }
    buf_.clear();
}

void AtomicWriter::write(const void* data, size_t n) {
    const uint8_t* p = static_cast<const uint8_t*>(data);
    written_ += n;
    if (buf_.size() + n > kBufferBytes) flush_buffer();
    if (n >= kBufferBytes) {
        buf_.assign(p, p + n);
        flush_buffer();
        return;
    }
    buf_.insert(buf_.end(), p, p + n);
}

void AtomicWriter::pad_to(size_t alignment) {
    static const uint8_t zeros[64] = {};
    while (written_ % alignment != 0) {
        size_t n = alignment - written_ % alignment;
        write(zeros, n < sizeof(zeros) ? n : sizeof(zeros));
    }
}

void AtomicWriter::commit() {
    flush_buffer();
    if (::fsync(fd_) != 0) throw Error(std::string("fsync failed: ") + std::strerror(errno));
    ::close(fd_);
    fd_ = -1;
    if (std::rename(tmp_path_.c_str(), path_.c_str()) != 0) {
        int e = errno;
        ::unlink(tmp_path_.c_str());
        throw Error(std::string("cannot rename into place: ") + std::strerror(e));
    }
}

void write_file_atomic(const std::string& path, const void* data, size_t n) {
    AtomicWriter w(path);
    w.write(data, n);
    w.commit();
}

}  // namespace mn
