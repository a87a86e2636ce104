// A main for the fuzz targets where libFuzzer is not linked in (GCC builds, or clang without
// -DMNIST_FUZZ=ON): runs the target once on each file named, or on each file in each folder
// named, as `target -runs=0 DIR...` does under libFuzzer. ctest replays the seeds and the
// regression inputs this way in every build.
//   usage: fuzz_<name> FILE|DIR...
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace fs = std::filesystem;

namespace {

void run_file(const fs::path& path) {
    std::ifstream f(path, std::ios::binary);
    const std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
    // A copy in an allocation of exactly the input's size (as libFuzzer makes), so that a read
    // past its end is a read past the allocation.
    std::unique_ptr<uint8_t[]> exact(new uint8_t[std::max<size_t>(bytes.size(), 1)]);
    std::copy(bytes.begin(), bytes.end(), exact.get());
    LLVMFuzzerTestOneInput(exact.get(), bytes.size());
}

}  // namespace

int main(int argc, char** argv) {
    size_t n = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg.rfind("-", 0) == 0) continue;  // libFuzzer flags, ignored here
        if (fs::is_directory(arg)) {
            std::vector<fs::path> files;
            for (const auto& e : fs::recursive_directory_iterator(arg))
                if (e.is_regular_file()) files.push_back(e.path());
            std::sort(files.begin(), files.end());
            for (const fs::path& p : files) run_file(p), ++n;
        } else if (fs::is_regular_file(arg)) {
            run_file(arg), ++n;
        } else {
            std::fprintf(stderr, "%s: no such file or folder\n", arg.c_str());
            return 1;
        }
    }
    std::printf("replayed %zu inputs\n", n);
    return 0;
}
