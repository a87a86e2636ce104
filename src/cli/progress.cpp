#include "cli/progress.h"

#include <unistd.h>

#include <cstdio>

namespace mn::cli {

ProgressBar::ProgressBar(std::string label) : label_(std::move(label)), start_(std::chrono::steady_clock::now()) {}

bool ProgressBar::enabled() {
    static const bool tty = ::isatty(STDERR_FILENO) == 1;
    return tty;
}

void ProgressBar::update(int64_t done, int64_t total, const std::string& info) {
    if (!enabled()) return;
    const auto now = std::chrono::steady_clock::now();
    // At most ~10 redraws a second, plus the final one.
    if (drawn_ && done < total && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    drawn_ = true;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double rate = elapsed > 0 ? double(done) / elapsed : 0.0;
    const double eta = rate > 0 ? double(total - done) / rate : 0.0;
    constexpr int kWidth = 24;
    const int filled = total > 0 ? static_cast<int>(kWidth * done / total) : 0;
    std::string bar(static_cast<size_t>(filled), '=');
    if (filled < kWidth) bar += '>';
    bar.resize(kWidth, ' ');
    std::fprintf(stderr, "\r\033[K%s [%s] %lld/%lld  %.0f img/s  %s  ETA %.0fs", label_.c_str(), bar.c_str(),
                 static_cast<long long>(done), static_cast<long long>(total), rate, info.c_str(), eta);
    std::fflush(stderr);
}

void ProgressBar::finish() {
    if (drawn_) std::fprintf(stderr, "\r\033[K");
    drawn_ = false;
}

}  // namespace mn::cli
