// The thread pool: every thread runs each job once, barriers order the phases, and jobs started
// after the workers fell asleep still run. The executor on it: parallel_for covers every index
// once, and a graph computes the same bits again and again on a number of threads. (These run under ThreadSanitizer
// too: scripts/test_sanitizers.sh.)
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <functional>
#include <initializer_list>
#include <chrono>
#include <thread>
#include <vector>

#include "engine/allocator.h"
#include "engine/executor.h"
#include "engine/ops.h"
#include "engine/threads.h"

namespace mn {
namespace {

TEST(ThreadPool, EveryThreadRunsEachJobAndBarriersOrderPhases) {
    for (int n : {1, 2, 3, 4}) {
        ThreadPool pool(n);
        std::vector<int> slots(static_cast<size_t>(n));
        for (int round = 0; round < 200; ++round) {
            std::atomic<int> calls{0}, bad{0};
            pool.run([&](int ith, int nth) {
                ++calls;
                slots[static_cast<size_t>(ith)] = round;
                pool.barrier();
                // After the barrier every thread must see every other thread's write.
                for (int i = 0; i < nth; ++i)
                    if (slots[static_cast<size_t>(i)] != round) ++bad;
                pool.barrier();
            });
            ASSERT_EQ(calls.load(), n);
            ASSERT_EQ(bad.load(), 0);
        }
    }
}

TEST(ThreadPool, WakesWorkersThatWentToSleep) {
    ThreadPool pool(3);
    for (int i = 0; i < 3; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));  // longer than the idle spin
        std::atomic<int> calls{0};
        pool.run([&](int, int) { ++calls; });
        EXPECT_EQ(calls.load(), 3);
    }
}

TEST(Executor, ParallelForCoversEveryIndexOnce) {
    for (int threads : {1, 2, 3, 4}) {
        Executor ex(threads);
        for (int64_t n : {0, 1, 7, 1000, 4097}) {
            std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
            ex.parallel_for(n, 64, [&](int64_t begin, int64_t end) {
                for (int64_t i = begin; i < end; ++i) ++hits[static_cast<size_t>(i)];
            });
            for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[static_cast<size_t>(i)].load(), 1) << n << " " << i;
        }
    }
}

// Values in [-1, 1] from each element's index.
void fill_pattern(std::initializer_list<Tensor*> tensors) {
    for (Tensor* t : tensors)
        for (int64_t i = 0; i < t->nelements(); ++i) t->f32()[i] = float((i * 7919) % 201 - 100) / 100.0f;
}

// The output of the graph `build` makes, computed `repeats` times on one executor of `threads`.
std::vector<std::vector<float>> outputs(const std::function<Tensor*(Context&)>& build, int threads, int repeats) {
    Context ctx;
    Tensor* y = build(ctx);
    y->flags |= kFlagOutput;
    Graph g;
    g.build_forward(y);
    GraphAllocator alloc;
    alloc.allocate(g);
    Executor ex(threads);
    std::vector<std::vector<float>> runs;
    for (int repeat = 0; repeat < repeats; ++repeat) {
        ex.compute(g);
        runs.emplace_back(y->f32(), y->f32() + y->nelements());
    }
    return runs;
}

TEST(Executor, AGraphComputesTheSameForAThreadCountAndCloseForAny) {
    // relu(W x + b) for a batch: the GEMM, its packing and epilogue shared between threads.
    const int64_t w_ne[] = {300, 200}, x_ne[] = {300, 64}, b_ne[] = {200};
    Context weights(Context::tensor_arena_bytes(DType::F32, 2, w_ne) + Context::tensor_arena_bytes(DType::F32, 2, x_ne) +
                    Context::tensor_arena_bytes(DType::F32, 1, b_ne));
    Tensor* w = weights.new_tensor(DType::F32, {300, 200});
    Tensor* x = weights.new_tensor(DType::F32, {300, 64});
    Tensor* b = weights.new_tensor(DType::F32, {200});
    fill_pattern({w, x, b});
    std::vector<float> one_thread;
    for (int threads : {1, 2, 3, 4}) {
        const auto runs = outputs([&](Context& ctx) { return relu(ctx, add(ctx, mul_mat(ctx, w, x), b)); }, threads, 3);
        const std::vector<float>& first = runs[0];
        // The same bits every time for a thread count (what makes training repeatable);
        // across thread counts the kernels may sum in another order (the last bits).
        for (size_t repeat = 1; repeat < runs.size(); ++repeat)
            ASSERT_EQ(runs[repeat], first) << threads << " threads, run " << repeat;
        if (one_thread.empty()) one_thread = first;
        for (size_t i = 0; i < first.size(); ++i)
            ASSERT_NEAR(first[i], one_thread[i], 1e-4f * (1 + std::fabs(one_thread[i]))) << threads << " threads, " << i;
    }
}

// One image through an FC network: every op is small enough for thread 0 alone, so the calling
// thread runs the whole graph and the pool is not woken; the result is the one thread's, bit
// for bit, on any number of threads, again and again.
TEST(Executor, AGraphOfSmallOpsComputesExactlyAsOnOneThread) {
    const int64_t w1_ne[] = {784, 500}, x_ne[] = {784, 1}, b1_ne[] = {500}, w2_ne[] = {500, 10};
    Context weights(Context::tensor_arena_bytes(DType::F32, 2, w1_ne) + Context::tensor_arena_bytes(DType::F32, 2, x_ne) +
                    Context::tensor_arena_bytes(DType::F32, 1, b1_ne) + Context::tensor_arena_bytes(DType::F32, 2, w2_ne));
    Tensor* w1 = weights.new_tensor(DType::F32, {784, 500});
    Tensor* x = weights.new_tensor(DType::F32, {784, 1});
    Tensor* b1 = weights.new_tensor(DType::F32, {500});
    Tensor* w2 = weights.new_tensor(DType::F32, {500, 10});
    fill_pattern({w1, x, b1, w2});
    for (int64_t i = 0; i < x->nelements(); i += 3) x->f32()[i] = 0.0f;  // zero pixels, as in an image
    const auto fc = [&](Context& ctx) {
        return soft_max(ctx, mul_mat(ctx, w2, relu(ctx, add(ctx, mul_mat(ctx, w1, x), b1))));
    };
    const std::vector<float> one_thread = outputs(fc, 1, 1)[0];
    for (int threads : {1, 2, 3, 4}) {
        const auto runs = outputs(fc, threads, 3);
        for (size_t repeat = 0; repeat < runs.size(); ++repeat)
            ASSERT_EQ(runs[repeat], one_thread) << threads << " threads, run " << repeat;
    }
}

}  // namespace
}  // namespace mn
