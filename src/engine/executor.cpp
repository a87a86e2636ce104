#include "engine/executor.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <cstdlib>

#include "engine/error.h"
#include "engine/forward.h"

namespace mn {

Executor::Executor(int n_threads) : pool_(n_threads) {
    const char* env = std::getenv("MNIST_PROFILE");
    profile_ = env && *env && *env != '0';
    op_times_.resize(static_cast<size_t>(Op::Count_));
}

Executor::~Executor() {
    if (!profile_) return;
    double total = 0;
    for (const OpTime& t : op_times_) total += t.ms;
    std::fprintf(stderr, "op profile (%d threads), %.1f ms in all:\n", pool_.size(), total);
    std::vector<size_t> order;
    for (size_t i = 0; i < op_times_.size(); ++i)
        if (op_times_[i].calls) order.push_back(i);
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return op_times_[a].ms > op_times_[b].ms; });
    for (size_t i : order)
        std::fprintf(stderr, "  %-26s %10.1f ms %6.1f%% %10lld calls\n", op_name(static_cast<Op>(i)), op_times_[i].ms,
                     100.0 * op_times_[i].ms / total, static_cast<long long>(op_times_[i].calls));
}

void Executor::compute(const Graph& graph) {
    const int nth = pool_.size();
    size_t need = 0;
    for (const Tensor* node : graph.nodes) need = std::max(need, forward_work_bytes(node, nth));
    need = (need + 63) / 64 * 64;
    if (need > work_per_thread_) {
        void* p = std::aligned_alloc(64, need * nth);
        check(p != nullptr, "out of memory allocating the work buffer");
        std::memset(p, 0, need * nth);  // fault the pages in once, here
        work_.reset(static_cast<uint8_t*>(p));
        work_per_thread_ = need;
    }
    pool_.run([&](int ith, int n) {
        ComputeParams params{ith, n, work_.get() ? work_.get() + ith * work_per_thread_ : nullptr, work_per_thread_};
        for (Tensor* node : graph.nodes) {
            if (op_is_view(node->op)) continue;
            const auto start = profile_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
            forward(params, node);
            pool_.barrier();
            if (profile_ && ith == 0) {
                OpTime& t = op_times_[static_cast<size_t>(node->op)];
                t.ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
                ++t.calls;
            }
        }
    });
}

}  // namespace mn
