#pragma once
// mnist train --log FILE [--log-every N] and --plot FILE: the run as JSON lines, appended as it
// trains (a "run" line when it starts, an "epoch" line after each epoch, a "step" line every N
// optimizer steps), and its training curves (report/training_curves.h), written again
// (atomically) after every epoch, so both can be watched while it trains.
//
// Every line has "kind" and "step" (optimizer steps taken so far). A new run starts the log
// afresh; a resumed one keeps the lines up to its checkpoint's step and drops the later ones (a
// run killed after its checkpoint wrote them; they will be written again) and any that are not
// ours (not JSON, cut short, over 4 KB), then appends. The
// plot shows every epoch of the log, the earlier runs' included.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "report/training_curves.h"

namespace mn::cli {

class TrainLog {
public:
    // Either path may be empty (no log, no plot). `steps` is where the run starts: 0 for a new
    // one, the checkpoint's optimizer steps when resuming.
    TrainLog(std::string log_path, std::string plot_path, bool resuming, int64_t steps);
    ~TrainLog();
    TrainLog(const TrainLog&) = delete;
    TrainLog& operator=(const TrainLog&) = delete;

    // Appends one line ("kind" set by the caller); an "epoch" line also redraws the plot.
    void add(const nlohmann::ordered_json& line);

private:
    std::string log_path_, plot_path_;
    int fd_ = -1;
    std::vector<report::EpochPoint> epochs_;
    void remember_epoch(const nlohmann::ordered_json& line);
};

}  // namespace mn::cli
