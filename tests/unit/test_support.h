#pragma once
// Helpers shared by the unit tests: where the sources and a scratch folder are, a per-test
// temporary directory, and whole-file reads and writes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "engine/error.h"
#include "io/idx.h"
#include "kernels/kernels.h"

#ifndef MNIST_SOURCE_DIR
#define MNIST_SOURCE_DIR "."
#endif
#ifndef MNIST_TEST_TMP
#define MNIST_TEST_TMP "/tmp"
#endif

namespace mn::test {

using Bytes = std::vector<uint8_t>;

// The SIMD levels this CPU runs, scalar first; kernel tests force each in turn.
inline std::vector<CpuLevel> supported_levels() {
    std::vector<CpuLevel> levels;
    for (CpuLevel l : {CpuLevel::Scalar, CpuLevel::Avx2, CpuLevel::Avx512, CpuLevel::WasmSimd})
        if (cpu_level_supported(l)) levels.push_back(l);
    return levels;
}

// Puts the best level back when a test that forced one ends.
struct LevelGuard {
    ~LevelGuard() { set_cpu_level(detect_cpu_level()); }
};

// A directory of its own for the running test (tests may run in parallel), removed after.
class TempDir {
public:
    explicit TempDir(const std::string& prefix) {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        path_ = std::filesystem::path(MNIST_TEST_TMP) /
                (prefix + "_" + info->test_suite_name() + "_" + info->name() + "_" + std::to_string(::getpid()));
        std::filesystem::remove_all(path_);
        std::filesystem::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string file(const std::string& name) const { return (path_ / name).string(); }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

inline Bytes read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

inline void write_file(const std::string& path, const Bytes& b) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// Runs fn, which must throw mn::Error with `part` in its message.
template <typename Fn>
void expect_error(Fn fn, const std::string& part) {
    try {
        fn();
        ADD_FAILURE() << "expected an error containing '" << part << "'";
    } catch (const mn::Error& e) {
        EXPECT_NE(std::string(e.what()).find(part), std::string::npos)
            << "message: " << e.what() << "\nexpected to contain: " << part;
    }
}

inline std::string mnist_data_dir() {
    const char* env = std::getenv("MNIST_DATA_DIR");
    return env && *env ? env : std::string(MNIST_SOURCE_DIR) + "/data/mnist";
}

inline std::string shipped_model(const std::string& name) { return std::string(MNIST_SOURCE_DIR) + "/models/" + name; }

// The MNIST test set, read once per process; null when it is absent (tests then skip).
struct MnistTestSet {
    IdxImages images;
    IdxLabels labels;
};

inline const MnistTestSet* mnist_test_set() {
    static const std::unique_ptr<MnistTestSet> set = []() -> std::unique_ptr<MnistTestSet> {
        const std::string dir = mnist_data_dir();
        if (!std::filesystem::exists(dir + "/t10k-images-idx3-ubyte")) return nullptr;
        auto s = std::make_unique<MnistTestSet>();
        s->images = read_idx_images(dir + "/t10k-images-idx3-ubyte");
        s->labels = read_idx_labels(dir + "/t10k-labels-idx1-ubyte");
        return s;
    }();
    return set.get();
}

#define MNIST_TEST_SET_OR_SKIP(var)                                                         \
    const ::mn::test::MnistTestSet* var = ::mn::test::mnist_test_set();                     \
    if (!var) GTEST_SKIP() << "MNIST test set not found (run scripts/fetch_data.sh)"

}  // namespace mn::test
