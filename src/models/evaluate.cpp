#include "models/evaluate.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <fcntl.h>
#include <unistd.h>

#include "models/inference.h"

namespace mn {

double cross_entropy(const float* z, int64_t n, int label) {
    double mx = z[0];
    for (int64_t i = 1; i < n; ++i) mx = std::max(mx, double(z[i]));
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += std::exp(double(z[i]) - mx);
    return mx + std::log(sum) - z[label];
}

namespace {

// Images of a mapped file, read into one small buffer a window at a time: each is read once,
// so there is no point in faulting the whole file into this process's memory. The window is a
// batch, or 64 KiB of images if that is more (at batch 1, one read per image cost about a fifth
// of the FC network's time per image).
class BatchReader {
public:
    BatchReader(const IdxImages& images, int64_t batch) : images_(images) {
        if (!images.mapping) return;
        fd_ = ::open(images.mapping->path().c_str(), O_RDONLY | O_CLOEXEC);
        const int64_t size = std::max<int64_t>(1, images.image_size());
        window_ = std::min(images.count, std::max(batch, (kWindowBytes + size - 1) / size));
        buffer_.resize(static_cast<size_t>(window_ * images.image_size()));
    }
    ~BatchReader() {
        if (fd_ >= 0) ::close(fd_);
    }
    BatchReader(const BatchReader&) = delete;
    BatchReader& operator=(const BatchReader&) = delete;

    // Pixels of images [first, first + n), from the file when it can, else from memory.
    const uint8_t* read(int64_t first, int64_t n) {
        const uint8_t* in_memory = images_.image(first);
        if (fd_ < 0 || n > window_) return in_memory;
        if (first < held_first_ || first + n > held_first_ + held_) {
            held_ = 0;
            const int64_t count = std::min(window_, images_.count - first);
            const size_t bytes = static_cast<size_t>(count * images_.image_size());
            const off_t offset = static_cast<off_t>(in_memory - images_.mapping->data());
            size_t got = 0;
            while (got < bytes) {
                const ssize_t r = ::pread(fd_, buffer_.data() + got, bytes - got, offset + static_cast<off_t>(got));
                if (r <= 0) return in_memory;  // the map still has them
                got += static_cast<size_t>(r);
            }
            held_first_ = first;
            held_ = count;
        }
        return buffer_.data() + (first - held_first_) * images_.image_size();
    }

private:
    static constexpr int64_t kWindowBytes = 64 * 1024;
    const IdxImages& images_;
    int fd_ = -1;
    int64_t window_ = 0;                 // images the buffer holds
    int64_t held_first_ = 0, held_ = 0;  // the images it holds now
    std::vector<uint8_t> buffer_;
};

}  // namespace

EvalResult evaluate(const Model& m, const IdxImages& images, const IdxLabels* labels, int64_t first, int64_t count,
                    Executor& executor, int64_t batch) {
    EvalResult r;
    r.count = count;
    r.predictions.resize(static_cast<size_t>(count));
    r.confidences.resize(static_cast<size_t>(count));
    if (count == 0) return r;
    Predictor p(m, std::min(batch, count), executor);
    r.activation_bytes = p.activation_bytes();
    double loss_sum = 0.0;
    const auto start = std::chrono::steady_clock::now();
    BatchReader reader(images, p.batch());
    for (int64_t done = 0; done < count; done += p.batch()) {
        const int64_t n = std::min(p.batch(), count - done);
        p.run(reader.read(first + done, n), n);
        for (int64_t i = 0; i < n; ++i) {
            const int pred = p.predicted(i);
            r.predictions[static_cast<size_t>(done + i)] = pred;
            r.confidences[static_cast<size_t>(done + i)] = p.probs(i)[pred];
            if (!labels) continue;
            const int label = labels->labels[static_cast<size_t>(first + done + i)];
            r.correct += pred == label;
            // -log of the graph's softmax; recomputed from the logits only where that
            // probability underflowed (a confident mistake).
            const double prob = p.probs(i)[label];
            loss_sum += prob > 1e-30 ? -std::log(prob) : cross_entropy(p.logits(i), p.n_classes(), label);
        }
    }
    r.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    r.loss = loss_sum / double(count);
    return r;
}

}  // namespace mn
