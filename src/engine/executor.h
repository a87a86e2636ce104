#pragma once
// Evaluates a graph on the CPU: every thread of the pool walks the nodes in order, computes its
// share of each, and waits at a barrier before the next node.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/graph.h"
#include "engine/threads.h"

namespace mn {

class Executor {
public:
    explicit Executor(int n_threads = ThreadPool::default_threads());
    ~Executor();
    int n_threads() const { return pool_.size(); }
    void compute(const Graph& graph);
    // fn(begin, end) on every thread for its share of [0, n), in whole multiples of grain: the
    // pool for the work around a graph (filling a batch, the optimizer's update).
    void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t begin, int64_t end)>& fn);

    // With MNIST_PROFILE=1 in the environment, time per op kind is summed over every compute()
    // and printed to stderr when the executor is destroyed; MNIST_PROFILE=shapes keeps apart
    // nodes of one kind with different shapes (which layer of the model, forward or backward).
    struct OpTime {
        double ms = 0;
        int64_t calls = 0;
    };

private:
    enum class Profile { Off, ByOp, ByShape } profile_ = Profile::Off;
    std::map<std::string, OpTime> op_times_;
    ThreadPool pool_;
    std::unique_ptr<uint8_t, void (*)(void*)> work_{nullptr, std::free};
    size_t work_per_thread_ = 0;
};

}  // namespace mn
