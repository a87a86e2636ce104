#include "engine/threads.h"

#include <chrono>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define MN_CPU_RELAX() _mm_pause()
#else
#define MN_CPU_RELAX() ((void)0)
#endif

namespace mn {

namespace {
// Inside a job, spin this many rounds before yielding the core: short waits (the other thread
// finishing its share of an op) stay cheap, and an oversubscribed machine still makes progress.
constexpr int kSpinsBeforeYield = 2000;
// Between jobs, a worker keeps watching for the next one this long before it goes to sleep.
constexpr auto kIdleSpin = std::chrono::microseconds(200);

template <typename Done>
void spin_until(Done done) {
    for (int spins = 0; !done(); ++spins) {
        if (spins < kSpinsBeforeYield)
            MN_CPU_RELAX();
        else
            std::this_thread::yield();
    }
}
}  // namespace

int ThreadPool::default_threads() {
    unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : static_cast<int>(n);
}

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads < 1 ? 1 : n_threads) {
    for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
}

bool ThreadPool::wait_for_job(uint64_t seen) {
    auto ready = [&] { return stopping_.load() || generation_.load() != seen; };
    const auto deadline = std::chrono::steady_clock::now() + kIdleSpin;
    for (int spins = 0; !ready(); ++spins) {
        MN_CPU_RELAX();
        if ((spins & 255) == 255 && std::chrono::steady_clock::now() > deadline) {
            std::unique_lock<std::mutex> lock(mutex_);
            ++sleepers_;
            wake_.wait(lock, ready);
            --sleepers_;
            break;
        }
    }
    return !stopping_.load();
}

void ThreadPool::worker_loop(int ith) {
    uint64_t seen = 0;
    while (wait_for_job(seen)) {
        seen = generation_.load();
        (*job_.load())(ith, n_threads_);
        jobs_running_.fetch_sub(1, std::memory_order_acq_rel);
    }
}

void ThreadPool::run(const std::function<void(int, int)>& job) {
    if (n_threads_ == 1) {
        job(0, 1);
        return;
    }
    jobs_running_.store(n_threads_ - 1);
    job_.store(&job);
    generation_.fetch_add(1);
    // A worker that went to sleep needs a notification; spinning ones see the new generation.
    if (sleepers_.load() > 0) {
        { std::lock_guard<std::mutex> lock(mutex_); }
        wake_.notify_all();
    }
    job(0, n_threads_);
    spin_until([&] { return jobs_running_.load(std::memory_order_acquire) == 0; });
}

void ThreadPool::barrier() {
    if (n_threads_ == 1) return;
    const uint32_t phase = barrier_phase_.load(std::memory_order_acquire);
    if (barrier_count_.fetch_add(1, std::memory_order_acq_rel) == n_threads_ - 1) {
        barrier_count_.store(0, std::memory_order_relaxed);
        barrier_phase_.fetch_add(1, std::memory_order_acq_rel);
        return;
    }
    spin_until([&] { return barrier_phase_.load(std::memory_order_acquire) != phase; });
}

}  // namespace mn
