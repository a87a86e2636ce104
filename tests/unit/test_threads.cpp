// The thread pool: every thread runs each job once, barriers order the phases, and jobs started
// after the workers fell asleep still run.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

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

}  // namespace
}  // namespace mn
