#include "io/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "engine/error.h"

namespace mn {

namespace {

constexpr size_t kBufferBytes = 1 << 20;

std::string folder_of(const std::string& path) {
    const size_t slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

[[noreturn]] void fail(const char* what, int err) { throw Error(std::string(what) + ": " + std::strerror(err)); }

}  // namespace

AtomicWriter::AtomicWriter(const std::string& path) : path_(path) {
    tmp_path_ = path + ".tmp." + std::to_string(::getpid());
#if defined(O_TMPFILE) && !defined(__EMSCRIPTEN__)
    // A file without a name until commit(): a writer killed before then leaves nothing behind.
    // It is named through /proc (see open(2)); without /proc, or on a file system that has no
    // unnamed files, a named temporary file is used instead.
    if (::access("/proc/self/fd", X_OK) == 0) {
        fd_ = ::open(folder_of(path).c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
        unnamed_ = fd_ >= 0;
    }
#endif
    if (fd_ < 0) fd_ = ::open(tmp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) fail("cannot create", errno);
    buf_.reserve(kBufferBytes);
}

AtomicWriter::~AtomicWriter() {
    if (fd_ >= 0) {
        ::close(fd_);
        if (!unnamed_) ::unlink(tmp_path_.c_str());
    }
}

void AtomicWriter::flush_buffer() {
    const uint8_t* p = buf_.data();
    size_t n = buf_.size();
    while (n > 0) {
        ssize_t w = ::write(fd_, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            fail("write failed", errno);  // ENOSPC, EFBIG (SIGXFSZ ignored), EIO, ...
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

// The data reaches the disk before the file takes the target's name, and the rename reaches
// it before commit returns: after a crash at any point the target is the old file or the new
// one, whole.
void AtomicWriter::commit() {
    flush_buffer();
    if (::fsync(fd_) != 0) fail("fsync failed", errno);
    if (unnamed_) {
        const std::string self = "/proc/self/fd/" + std::to_string(fd_);
        ::unlink(tmp_path_.c_str());  // a stale one from a writer of the same pid, killed
        if (::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, tmp_path_.c_str(), AT_SYMLINK_FOLLOW) != 0)
            fail("cannot name the written file", errno);
    }
    ::close(fd_);
    fd_ = -1;
    if (std::rename(tmp_path_.c_str(), path_.c_str()) != 0) {
        const int e = errno;
        ::unlink(tmp_path_.c_str());
        fail("cannot rename into place", e);
    }
    // Best effort: some file systems cannot sync a folder, and the new file is in place anyway.
    const int dir = ::open(folder_of(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
        ::fsync(dir);
        ::close(dir);
    }
}

void write_file_atomic(const std::string& path, const void* data, size_t n) {
    AtomicWriter w(path);
    w.write(data, n);
    w.commit();
}

}  // namespace mn
