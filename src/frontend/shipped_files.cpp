#include "frontend/shipped_files.h"

#include <filesystem>
#include <system_error>
#include <vector>

namespace mn {

std::string shipped_file(const std::string& rel) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    std::vector<fs::path> candidates;
    if (!ec) {
        const fs::path prefix = exe.parent_path().parent_path();
        candidates.push_back(prefix / rel);
        candidates.push_back(prefix / "share" / "mnistcpp" / rel);
    }
    candidates.push_back(fs::path(MNIST_SOURCE_DIR) / rel);
    for (const fs::path& p : candidates)
        if (fs::exists(p, ec)) return p.string();
    return candidates.front().string();
}

}  // namespace mn
