#include "engine/executor.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <cstdlib>

#include "engine/error.h"
#include "engine/forward.h"
#include "engine/op_table.h"

namespace mn {

Executor::Executor(int n_threads) : pool_(n_threads) {
    const char* env = std::getenv("MNIST_PROFILE");
    if (env && std::strcmp(env, "shapes") == 0)
        profile_ = Profile::ByShape;
    else if (env && *env && *env != '0')
        profile_ = Profile::ByOp;
}

namespace {
// "mul_mat [16, 196000] <- [72, 16] [8, 14, 14, 1000]"
std::string shape_label(const Tensor* t) {
    std::string s = std::string(op_name(t->op)) + " " + t->shape_string() + " <-";
    for (const Tensor* src : t->src)
        if (src) s += " " + src->shape_string();
    return s;
}
}  // namespace

Executor::~Executor() {
    if (profile_ == Profile::Off) return;
    double total = 0;
    std::vector<std::pair<std::string, OpTime>> order(op_times_.begin(), op_times_.end());
    for (const auto& [name, t] : order) total += t.ms;
    std::fprintf(stderr, "op profile (%d threads), %.1f ms in all:\n", pool_.size(), total);
    std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.second.ms > b.second.ms; });
    for (const auto& [name, t] : order)
        std::fprintf(stderr, "  %-26s %10.1f ms %6.1f%% %10lld calls\n", name.c_str(), t.ms, 100.0 * t.ms / total,
                     static_cast<long long>(t.calls));
}

void Executor::parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
    if (n <= grain || pool_.size() == 1) {  // one share: waking the other threads would cost more
        if (n > 0) fn(0, n);
        return;
    }
    pool_.run([&](int ith, int nth) {
        int64_t begin, end;
        split_range(n, ith, nth, grain, begin, end);
        if (begin < end) fn(begin, end);
    });
}

namespace {
// Ops this small cost less on one thread than the barrier it takes to share them (the last
// layers of one image: a 500x10 product, a softmax over 10 values). Work is elements read or
// written, and for a product its multiply-adds: one image through the FC network's first layer
// (784 x 500, 392K of them, most skipped for zero pixels) took 4.3 us on one thread and 5-7 us
// shared between two (Zen 5, the whole network, `mnist eval --batch 1`).
constexpr int64_t kSerialWork = 32 * 1024;
constexpr int64_t kSerialMultiplyAdds = 512 * 1024;

bool runs_on_one_thread(const Tensor* t) {
    if (op_def(t->op).always_shared) return false;
    if (t->op == Op::MulMat) return t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3] * t->src[0]->ne[0] < kSerialMultiplyAdds;
    int64_t work = t->nelements();
    for (const Tensor* s : t->src)
        if (s) work = std::max(work, s->nelements());
    return work < kSerialWork;
}
}  // namespace

void Executor::compute(const Graph& graph) {
    const int nth = pool_.size();
    // The nodes to evaluate, and which of them thread 0 does alone.
    std::vector<Tensor*> nodes;
    std::vector<char> serial;
    for (Tensor* node : graph.nodes) {
        if (op_is_view(node->op)) continue;
        nodes.push_back(node);
        serial.push_back(nth > 1 && runs_on_one_thread(node));
    }
    size_t need = 0;
    for (size_t i = 0; i < nodes.size(); ++i) need = std::max(need, forward_work_bytes(nodes[i], serial[i] ? 1 : nth));
    need = (need + 63) / 64 * 64;
    if (need > work_per_thread_) {
        void* p = std::aligned_alloc(64, need * nth);
        check(p != nullptr, "out of memory allocating the work buffer");
        std::memset(p, 0, need * nth);  // fault the pages in once, here
        work_.reset(static_cast<uint8_t*>(p));
        work_per_thread_ = need;
    }
    const bool timed = profile_ != Profile::Off;
    const auto record = [&](const Tensor* node, std::chrono::steady_clock::time_point start) {
        OpTime& t = op_times_[profile_ == Profile::ByShape ? shape_label(node) : op_name(node->op)];
        t.ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
        ++t.calls;
    };
    // Every node on thread 0 (one image through the FC network): the calling thread runs them,
    // and the pool is not woken at all.
    if (nth > 1 && std::all_of(serial.begin(), serial.end(), [](char s) { return s != 0; })) {
        const ComputeParams alone{0, 1, work_.get(), work_per_thread_, work_.get(), &pool_};
        for (Tensor* node : nodes) {
            const auto start = timed ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
            forward(alone, node);
            if (timed) record(node, start);
        }
        return;
    }
    pool_.run([&](int ith, int n) {
        ComputeParams shared{ith, n, work_.get() ? work_.get() + ith * work_per_thread_ : nullptr, work_per_thread_,
                             work_.get(), &pool_};
        ComputeParams alone = shared;
        alone.nth = 1;
        for (size_t i = 0; i < nodes.size(); ++i) {
            Tensor* node = nodes[i];
            const auto start = timed ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
            if (!serial[i])
                forward(shared, node);
            else if (ith == 0)
                forward(alone, node);
            // Thread 0 goes from one serial node to the next without waiting for anybody; every
            // other step needs all threads' results, or thread 0's, before it.
            if (!(serial[i] && i + 1 < nodes.size() && serial[i + 1])) pool_.barrier();
            if (timed && ith == 0) record(node, start);
        }
    });
}

}  // namespace mn
