#include "frontend/static_files.h"

#include <climits>
#include <cstdlib>
#include <sys/stat.h>

namespace mn {

namespace {
std::string real_path(const std::string& p) {
    char buf[PATH_MAX];
    return ::realpath(p.c_str(), buf) ? std::string(buf) : std::string();
}
}  // namespace

std::string resolve_in(const std::string& root, const std::string& rel) {
    if (rel.empty() || rel.find('\\') != std::string::npos || rel.find('\0') != std::string::npos) return "";
    for (size_t start = 0;;) {
        const size_t end = rel.find('/', start);
        const std::string seg = rel.substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (seg.empty() || seg == "." || seg == "..") return "";
        if (end == std::string::npos) break;
        start = end + 1;
    }
    const std::string base = real_path(root);
    if (base.empty()) return "";
    const std::string file = real_path(base + "/" + rel);
    struct stat st {};
    if (file.size() <= base.size() + 1 || file.compare(0, base.size() + 1, base + "/") != 0) return "";
    if (::stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return "";
    return file;
}

std::string content_type_for(const std::string& path) {
    const size_t dot = path.rfind('.');
    const std::string ext = dot == std::string::npos ? "" : path.substr(dot + 1);
    if (ext == "html") return "text/html; charset=utf-8";
    if (ext == "js") return "text/javascript; charset=utf-8";
    if (ext == "css") return "text/css; charset=utf-8";
    if (ext == "json") return "application/json";
    if (ext == "wasm") return "application/wasm";  // compiled while it downloads
    if (ext == "webmanifest") return "application/manifest+json";
    if (ext == "png") return "image/png";
    if (ext == "svg") return "image/svg+xml";
    if (ext == "ico") return "image/x-icon";
    if (ext == "txt") return "text/plain; charset=utf-8";
    return "application/octet-stream";
}

}  // namespace mn
