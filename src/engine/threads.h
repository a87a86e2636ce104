#pragma once
// A pool of persistent worker threads. run() hands one job to every thread (the calling thread
// is thread 0) and returns when all have finished; inside a job, barrier() lines the threads up
// between graph nodes. Between jobs a worker spins for a short while before it sleeps on a
// condition variable, so back-to-back jobs (batches, training steps) start within a microsecond
// while an idle pool costs nothing. No thread is ever created per op.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace mn {

class ThreadPool {
public:
    explicit ThreadPool(int n_threads);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int size() const { return n_threads_; }
    // Calls job(ith, nth) once on each of the nth threads. Not re-entrant.
    void run(const std::function<void(int ith, int nth)>& job);
    // All threads of the current job wait here until every one has arrived.
    void barrier();

    static int default_threads();  // the machine's cores

private:
    void worker_loop(int ith);
    bool wait_for_job(uint64_t seen);  // false when the pool is stopping

    int n_threads_;
    std::vector<std::thread> workers_;

    std::mutex mutex_;
    std::condition_variable wake_;
    std::atomic<const std::function<void(int, int)>*> job_{nullptr};
    std::atomic<uint64_t> generation_{0};
    std::atomic<int> sleepers_{0};
    std::atomic<bool> stopping_{false};
    alignas(64) std::atomic<int> jobs_running_{0};

    alignas(64) std::atomic<int> barrier_count_{0};
    alignas(64) std::atomic<uint32_t> barrier_phase_{0};
};

}  // namespace mn
