#pragma once
// What `mnist serve` answers, as a function from request to response (the transport is
// frontend/http_server.h):
//   POST /api/predict[?model=NAME][&number]   an image, 784 raw bytes or JSON {"pixels": [...]}
//   GET  /v2, /v2/health/live, /v2/health/ready, /v2/models/NAME[/ready]
//   POST /v2/models/NAME/infer                KServe v2 (Open Inference Protocol), a batch
//   GET  /healthz, /api/models, /metrics      liveness, the models, Prometheus counters
//   GET  /digits/random, /digits/N.png        MNIST test digits (the page's "random digit")
//   GET  /models/FILE                         the model files being served
//   GET  /, /FILE                             the web demo and its files (a folder)
// Errors are JSON {"error": "..."} with 400, 404, 405, 413 or 415.
#include <memory>
#include <string>
#include <vector>

#include "frontend/http_server.h"
#include "frontend/serve_metrics.h"
#include "io/idx.h"
#include "session/session.h"
#include "session/status.h"

namespace mn {

struct ServedModel {
    std::string name;  // the file name without extension: "mnist-cnn-f32"
    std::string path;
    std::unique_ptr<Session> session;
};

struct ServeConfig {
    std::vector<ServedModel> models;  // the first is the default
    std::string web_dir;              // served at / ("" = none)
    std::string digits_dir;           // t10k-images/labels-idx*-ubyte for /digits ("" = none)
};

class ServeApi {
public:
    explicit ServeApi(ServeConfig config);
    http::Response handle(const http::Request& req);
    // Counts every response (given to the server as its observer).
    void observe(const http::Request& req, const http::Response& r, double seconds);
    const ServeConfig& config() const { return config_; }

private:
    http::Response predict(const http::Request& req);
    http::Response kserve(const http::Request& req);
    http::Response infer(const http::Request& req, size_t model);
    http::Response digits(const http::Request& req);
    http::Response file(const http::Request& req);
    const ServedModel* find_model(const std::string& name, size_t* index) const;

    ServeConfig config_;
    ServeMetrics metrics_;
    IdxImages digit_images_;
    IdxLabels digit_labels_;
};

// The HTTP status of a session failure: 400 for bad input, 413 for an image too large, ...
int http_status(Status s);

}  // namespace mn
