#pragma once
// A one-line progress bar for long work, redrawn in place on a terminal (stderr). When stderr is
// not a terminal (logs, CI) nothing is drawn: callers print a summary line per stage instead.
#include <chrono>
#include <cstdint>
#include <string>

namespace mn::cli {

class ProgressBar {
public:
    explicit ProgressBar(std::string label);
    // done out of total items; `info` is appended (e.g. "loss 0.1234").
    void update(int64_t done, int64_t total, const std::string& info);
    void finish();  // clears the line
    static bool enabled();

private:
    std::string label_;
    std::chrono::steady_clock::time_point start_, last_draw_;
    bool drawn_ = false;
};

}  // namespace mn::cli
