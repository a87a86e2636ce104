#include "cli/train_log.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include <fcntl.h>
#include <unistd.h>

#include "cli/common.h"
#include "io/atomic_file.h"

namespace mn::cli {

namespace {
constexpr size_t kMaxLineBytes = 4096;  // the lines written here are a few hundred bytes
}  // namespace

TrainLog::TrainLog(std::string log_path, std::string plot_path, bool resuming, int64_t steps)
    : log_path_(std::move(log_path)), plot_path_(std::move(plot_path)) {
    if (log_path_.empty()) return;
    std::string kept;
    if (resuming) {
        std::ifstream in(log_path_);
        for (std::string text; std::getline(in, text);) {
            // (a line cut short by a kill does not parse, and is dropped; so is one far longer
            // than any this writes, which is not ours)
            if (text.size() > kMaxLineBytes) continue;
            const nlohmann::ordered_json line = nlohmann::ordered_json::parse(text, nullptr, false);
            if (line.is_discarded() || !line.is_object() || !line.contains("step") || !line["step"].is_number_integer() ||
                line["step"].get<int64_t>() > steps)
                continue;
            kept += text + "\n";
            remember_epoch(line);
        }
    }
    on_file(log_path_, [&] {
        write_file_atomic(log_path_, kept.data(), kept.size());
        fd_ = ::open(log_path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
        check(fd_ >= 0, std::string("cannot open for appending: ") + std::strerror(errno));
    });
}

TrainLog::~TrainLog() {
    if (fd_ >= 0) ::close(fd_);
}

void TrainLog::remember_epoch(const nlohmann::ordered_json& line) {
    if (line.value("kind", "") != "epoch") return;
    auto optional = [&](const char* key) -> std::optional<double> {
        return line.contains(key) && line[key].is_number() ? std::optional<double>(line[key].get<double>()) : std::nullopt;
    };
    epochs_.push_back({line.value("epoch", int64_t{0}), line.value("train_loss", 0.0), line.value("train_accuracy", 0.0),
                       optional("val_loss"), optional("val_accuracy")});
}

void TrainLog::add(const nlohmann::ordered_json& line) {
    if (fd_ >= 0) {
        // One write per line, appended: a reader sees whole lines (or, after a kill, a last one cut short).
        const std::string text = line.dump() + "\n";
        on_file(log_path_, [&] {
            const ssize_t n = ::write(fd_, text.data(), text.size());
            check(n == static_cast<ssize_t>(text.size()), std::string("write failed: ") + (n < 0 ? std::strerror(errno) : "short write"));
        });
    }
    if (line.value("kind", "") != "epoch") return;
    remember_epoch(line);
    if (plot_path_.empty()) return;
    const std::string svg = report::training_curves_svg(epochs_);
    on_file(plot_path_, [&] { write_file_atomic(plot_path_, svg.data(), svg.size()); });
}

}  // namespace mn::cli
