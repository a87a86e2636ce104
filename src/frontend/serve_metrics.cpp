#include "frontend/serve_metrics.h"

#include <cmath>
#include <cstdio>

namespace mn {

ServeMetrics::Endpoint ServeMetrics::endpoint_of(const std::string& path) {
    auto starts = [&](const char* p) { return path.rfind(p, 0) == 0; };
    auto ends = [&](const char* p) {
        const size_t n = std::char_traits<char>::length(p);
        return path.size() >= n && path.compare(path.size() - n, n, p) == 0;
    };
    if (path == "/api/predict") return Predict;
    if (starts("/v2/models/") && ends("/infer")) return Infer;
    if (path == "/v2" || starts("/v2/")) return KServe;
    if (path == "/api/models") return Models;
    if (path == "/healthz") return Health;
    if (path == "/metrics") return Metrics;
    if (starts("/digits/")) return Digits;
    if (starts("/api/")) return OtherApi;
    return Static;
}

ServeMetrics::ServeMetrics(std::vector<std::string> models)
    : models_(std::move(models)), digits_(new std::array<std::atomic<uint64_t>, 10>[models_.size()]) {
    for (size_t m = 0; m < models_.size(); ++m)
        for (auto& d : digits_[m]) d = 0;
}

void ServeMetrics::request(const std::string& path, int status, double seconds) {
    size_t s = kNumStatuses - 1;
    for (size_t i = 0; i + 1 < kNumStatuses; ++i)
        if (kStatuses[i] == status) s = i;
    requests_[endpoint_of(path)][s].fetch_add(1, std::memory_order_relaxed);
    int b = 0;
    while (b < kBuckets && seconds > kBounds[b]) ++b;
    latency_[size_t(b)].fetch_add(1, std::memory_order_relaxed);
    latency_ns_.fetch_add(uint64_t(std::llround(seconds * 1e9)), std::memory_order_relaxed);
}

void ServeMetrics::prediction(size_t model, int digit) {
    if (model < models_.size() && digit >= 0 && digit < 10)
        digits_[model][size_t(digit)].fetch_add(1, std::memory_order_relaxed);
}

std::string ServeMetrics::text() const {
    std::string t;
    char line[256];
    t += "# HELP mnist_http_requests_total HTTP requests answered, by endpoint and status.\n"
         "# TYPE mnist_http_requests_total counter\n";
    for (size_t e = 0; e < kNumEndpoints; ++e)
        for (size_t s = 0; s < kNumStatuses; ++s) {
            const uint64_t n = requests_[e][s].load(std::memory_order_relaxed);
            if (n == 0) continue;
            const std::string status = s + 1 < kNumStatuses ? std::to_string(kStatuses[s]) : "other";
            std::snprintf(line, sizeof line, "mnist_http_requests_total{endpoint=\"%s\",status=\"%s\"} %llu\n",
                          kEndpointLabels[e], status.c_str(), static_cast<unsigned long long>(n));
            t += line;
        }
    t += "# HELP mnist_http_request_duration_seconds Time from a request's headers to its response.\n"
         "# TYPE mnist_http_request_duration_seconds histogram\n";
    uint64_t cumulative = 0;
    for (int b = 0; b <= kBuckets; ++b) {
        cumulative += latency_[size_t(b)].load(std::memory_order_relaxed);
        if (b < kBuckets)
            std::snprintf(line, sizeof line, "mnist_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n", kBounds[b],
                          static_cast<unsigned long long>(cumulative));
        else
            std::snprintf(line, sizeof line, "mnist_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
                          static_cast<unsigned long long>(cumulative));
        t += line;
    }
    std::snprintf(line, sizeof line,
                  "mnist_http_request_duration_seconds_sum %.9f\nmnist_http_request_duration_seconds_count %llu\n",
                  double(latency_ns_.load(std::memory_order_relaxed)) * 1e-9, static_cast<unsigned long long>(cumulative));
    t += line;
    t += "# HELP mnist_predictions_total Digits predicted, by model and digit.\n"
         "# TYPE mnist_predictions_total counter\n";
    for (size_t m = 0; m < models_.size(); ++m)
        for (int d = 0; d < 10; ++d) {
            std::snprintf(line, sizeof line, "mnist_predictions_total{model=\"%s\",digit=\"%d\"} %llu\n",
                          models_[m].c_str(), d,
                          static_cast<unsigned long long>(digits_[m][size_t(d)].load(std::memory_order_relaxed)));
            t += line;
        }
    return t;
}

}  // namespace mn
