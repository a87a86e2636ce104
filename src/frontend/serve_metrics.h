#pragma once
// The server's counters, in Prometheus' text format (GET /metrics): requests by endpoint and
// status, a latency histogram, predictions by model and digit. Lock-free: counters are atomics
// in fixed tables, so every request thread counts without waiting for the others.
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mn {

class ServeMetrics {
public:
    // The endpoints, as labelled in the metrics (a fixed set, so a client cannot grow it).
    enum Endpoint { Predict, Infer, KServe, Models, Health, Metrics, Digits, Static, OtherApi, kNumEndpoints };
    static constexpr const char* kEndpointLabels[kNumEndpoints] = {
        "/api/predict", "/v2/models/{name}/infer", "/v2", "/api/models", "/healthz", "/metrics", "/digits",
        "static",       "other"};
    static constexpr int kStatuses[] = {200, 302, 400, 404, 405, 413, 415, 431, 500, 503};
    static Endpoint endpoint_of(const std::string& path);

    explicit ServeMetrics(std::vector<std::string> models);
    void request(const std::string& path, int status, double seconds);
    void prediction(size_t model, int digit);
    std::string text() const;

private:
    static constexpr int kBuckets = 12;  // upper bounds from 50 us to 1 s, then +Inf
    static constexpr double kBounds[kBuckets] = {5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3,
                                                 5e-3, 1e-2, 2.5e-2, 5e-2, 0.25, 1.0};
    static constexpr size_t kNumStatuses = sizeof(kStatuses) / sizeof(kStatuses[0]) + 1;  // + any other

    std::vector<std::string> models_;
    std::array<std::array<std::atomic<uint64_t>, kNumStatuses>, kNumEndpoints> requests_{};
    std::array<std::atomic<uint64_t>, kBuckets + 1> latency_{};
    std::atomic<uint64_t> latency_ns_{0};
    std::unique_ptr<std::array<std::atomic<uint64_t>, 10>[]> digits_;
};

}  // namespace mn
