#include "frontend/shipped_files.h"

#include <filesystem>
#include <system_error>
#include <vector>

namespace mn {

namespace {
namespace fs = std::filesystem;

// <exe>/../tree_rel, <exe>/../share/mnistcpp/installed_rel, <source tree>/tree_rel.
std::vector<fs::path> candidates(const std::string& tree_rel, const std::string& installed_rel) {
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    std::vector<fs::path> c;
    if (!ec) {
        const fs::path prefix = exe.parent_path().parent_path();
        c.push_back(prefix / tree_rel);
        c.push_back(prefix / "share" / "mnistcpp" / installed_rel);
    }
    c.push_back(fs::path(MNIST_SOURCE_DIR) / tree_rel);
    return c;
}

std::string first_existing(const std::vector<fs::path>& paths) {
    std::error_code ec;
    for (const fs::path& p : paths)
        if (fs::exists(p, ec)) return p.string();
    return "";
}
}  // namespace

std::string shipped_file(const std::string& rel) {
    const std::vector<fs::path> c = candidates(rel, rel);
    const std::string found = first_existing(c);
    return found.empty() ? c.front().string() : found;
}

std::string web_site_dir() { return first_existing(candidates("build-web/site", "web")); }

}  // namespace mn
