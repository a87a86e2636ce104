#include "frontend/serve_api.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <random>

#include <nlohmann/json.hpp>

#include "engine/error.h"
#include "frontend/image_file.h"
#include "frontend/prediction_json.h"
#include "frontend/static_files.h"
#include "io/mapped_file.h"
#include "session/status.h"

namespace mn {

using http::Request;
using http::Response;
using nlohmann::json;

int http_status(Status s) {
    switch (s) {
        case Status::Ok: return 200;
        case Status::InvalidArgument:
        case Status::BadImage:
        case Status::BadData:
        case Status::NoDigit: return 400;
        case Status::ImageTooLarge: return 413;
        case Status::CannotRead:
        case Status::BadModel:
        case Status::Internal: return 500;
        case Status::OutOfMemory: return 503;
    }
    return 500;
}

namespace {

// A JSON parser's message, one short printable line: it quotes what it last read, which may be
// any bytes (a NUL, a newline, bytes that are not UTF-8) and as long as the body.
std::string json_error(const std::exception& e) {
    constexpr size_t kMax = 300;
    std::string s = e.what();
    if (s.size() > kMax) s = s.substr(0, kMax) + "...";
    for (char& c : s)
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
    return s;
}

Response json_response(int status, const json& j) {
    Response r;
    r.status = status;
    // (bytes of the request quoted in an error message may not be UTF-8: replaced, not thrown)
    r.body = j.dump(-1, ' ', false, json::error_handler_t::replace);
    return r;
}

Response error(int status, const std::string& message) { return json_response(status, {{"error", message}}); }

Response method_not_allowed(const char* allowed) {
    Response r = error(405, std::string("method not allowed: use ") + allowed);
    r.headers.emplace_back("Allow", allowed);
    return r;
}

// "image/png; charset=..." → "image/png", lower case.
std::string media_type(const char* header) {
    std::string t = header ? header : "";
    t = t.substr(0, t.find(';'));
    while (!t.empty() && t.back() == ' ') t.pop_back();
    for (char& c : t) c = char(std::tolower(static_cast<unsigned char>(c)));
    return t;
}

// A request body as JSON, nested at most limits::kJsonDepth deep (the pixels' walk below
// recurses, and no request needs more than [N, 1, 28, 28]).
json parse_json(const std::string& body) {
    return json::parse(body, [](int depth, json::parse_event_t, json&) {
        if (uint64_t(depth) > limits::kJsonDepth)
            throw StatusError(Status::InvalidArgument,
                              "JSON nested deeper than " + std::to_string(limits::kJsonDepth) + " levels");
        return true;
    });
}

long long micros_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count();
}

// A value from a request, for an error message: at most 60 characters of it.
std::string shown(const json& v) {
    const std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
    return s.size() > 60 ? s.substr(0, 60) + "..." : s;
}

// Pixels from JSON: 784 numbers, flat or as 28 rows of 28, each from 0 to `scale` (255 for
// bytes; 1 for KServe's FP32 and FP64), as bytes 0..255.
void append_pixels(const json& v, double scale, std::vector<uint8_t>& out) {
    if (v.is_array()) {
        for (const json& x : v) append_pixels(x, scale, out);
        return;
    }
    if (!v.is_number()) throw StatusError(Status::InvalidArgument, "pixels must be numbers, got " + shown(v));
    const double x = v.get<double>();
    if (!(x >= 0 && x <= scale))
        throw StatusError(Status::InvalidArgument,
                          "pixel value " + v.dump() + " is outside 0.." + (scale == 1 ? "1" : "255"));
    out.push_back(uint8_t(std::lround(x * 255.0 / scale)));
}

}  // namespace

ServeApi::ServeApi(ServeConfig config) : config_(std::move(config)), metrics_([&] {
    std::vector<std::string> names;
    for (const ServedModel& m : config_.models) names.push_back(m.name);
    return names;
}()) {
    if (!config_.digits_dir.empty()) {
        digit_images_ = read_idx_images(config_.digits_dir + "/t10k-images-idx3-ubyte");
        digit_labels_ = read_idx_labels(config_.digits_dir + "/t10k-labels-idx1-ubyte");
        check_labels_match(digit_images_, digit_labels_);
    }
}

const ServedModel* ServeApi::find_model(const std::string& name, size_t* index) const {
    for (size_t i = 0; i < config_.models.size(); ++i)
        if (config_.models[i].name == name) {
            if (index) *index = i;
            return &config_.models[i];
        }
    return nullptr;
}

void ServeApi::observe(const Request& req, const Response& r, double seconds) {
    metrics_.request(req.path, r.status, seconds);
}

Response ServeApi::handle(const Request& req) {
    const std::string& p = req.path;
    const bool get = req.method == "GET" || req.method == "HEAD";
    if (p == "/api/predict") return predict(req);
    if (p == "/v2" || p.rfind("/v2/", 0) == 0) return kserve(req);
    if (p == "/healthz") return get ? json_response(200, {{"status", "ok"}}) : method_not_allowed("GET");
    if (p == "/metrics") {
        if (!get) return method_not_allowed("GET");
        Response r;
        r.content_type = "text/plain; version=0.0.4";
        r.body = metrics_.text();
        return r;
    }
    if (p == "/api/models") {
        if (!get) return method_not_allowed("GET");
        json list = json::array();
        for (const ServedModel& m : config_.models)
            list.push_back({{"name", m.name},
                            {"arch", m.session->model().arch},
                            {"format", m.session->model().source_format},
                            {"parameters", m.session->model().n_params()},
                            {"file", "/models/" + m.path.substr(m.path.rfind('/') + 1)}});
        return json_response(200, {{"models", list}, {"default", config_.models.front().name}});
    }
    if (p.rfind("/api/", 0) == 0) return error(404, "no such endpoint: " + p);
    if (p.rfind("/digits/", 0) == 0) return digits(req);
    return file(req);
}

Response ServeApi::predict(const Request& req) {
    if (req.method != "POST") return method_not_allowed("POST");
    size_t index = 0;
    const char* wanted = req.query("model");
    const ServedModel* m = wanted ? find_model(wanted, &index) : &config_.models.front();
    if (!m) return error(404, std::string("no model '") + wanted + "' (GET /api/models lists them)");
    // curl --data-binary says application/x-www-form-urlencoded unless told otherwise: as good
    // as no type at all (the body is sniffed).
    std::string type = media_type(req.header("Content-Type"));
    if (type == "application/x-www-form-urlencoded") type.clear();
    const auto* body = reinterpret_cast<const uint8_t*>(req.body.data());
    const bool image = type.rfind("image/", 0) == 0 ||
                       ((type.empty() || type == "application/octet-stream") && !image_format(body, req.body.size()).empty());
    try {
        const auto t0 = std::chrono::steady_clock::now();
        json out;
        if (image) {
            if (image_format(body, req.body.size()).empty())
                return error(415, "unsupported image type: send PNG, JPEG, GIF, BMP, PGM or PPM");
            const DecodedImage img = decode_image(body, req.body.size());
            if (req.has_query("number")) {
                const NumberReading r = m->session->read_number(img.view());
                for (const ImagePrediction& d : r.digits) metrics_.prediction(index, d.prediction.digit);
                out = number_json(r, true);
            } else {
                const ImagePrediction r = m->session->predict_image(img.view());
                metrics_.prediction(index, r.prediction.digit);
                out = image_prediction_json(r, true);
            }
        } else {
            std::vector<uint8_t> pixels;
            if (type == "application/json") {
                const json j = parse_json(req.body);
                if (!j.is_object() || !j.contains("pixels"))
                    return error(400, "expected a JSON object {\"pixels\": [784 numbers from 0 to 255]}");
                append_pixels(j["pixels"], 255, pixels);
            } else if (type.empty() || type == "application/octet-stream") {
                pixels.assign(body, body + req.body.size());
            } else {
                return error(415, "unsupported content type '" + printable(type) +
                                      "': send an image, 784 raw bytes (application/octet-stream) or JSON");
            }
            if (pixels.size() != 784)
                return error(400, "expected 784 pixels (28x28, 0 = background, 255 = ink), got " +
                                      std::to_string(pixels.size()));
            const Prediction r = m->session->predict(pixels.data());
            metrics_.prediction(index, r.digit);
            out = prediction_json(r);
        }
        out["model"] = m->name;
        out["time_us"] = micros_since(t0);
        return json_response(200, out);
    } catch (const StatusError& e) {
        return error(http_status(e.status()), e.what());
    } catch (const json::exception& e) {
        return error(400, "invalid JSON: " + json_error(e));
    }
}

Response ServeApi::kserve(const Request& req) {
    const std::string& p = req.path;
    const bool get = req.method == "GET" || req.method == "HEAD";
    if (p == "/v2" || p == "/v2/") {
        if (!get) return method_not_allowed("GET");
        return json_response(200, {{"name", "mnist.cpp"}, {"version", MNIST_VERSION}, {"extensions", json::array()}});
    }
    if (p == "/v2/health/live" || p == "/v2/health/ready") {
        if (!get) return method_not_allowed("GET");
        return json_response(200, {{p == "/v2/health/live" ? "live" : "ready", true}});
    }
    const std::string prefix = "/v2/models/";
    if (p.rfind(prefix, 0) != 0) return error(404, "no such endpoint: " + p);
    const std::string rest = p.substr(prefix.size());
    const std::string name = rest.substr(0, rest.find('/'));
    const std::string action = rest.size() > name.size() ? rest.substr(name.size()) : "";
    size_t index = 0;
    const ServedModel* m = find_model(name, &index);
    if (!m) return error(404, "no model '" + printable(name) + "'");
    if (action == "/infer") return req.method == "POST" ? infer(req, index) : method_not_allowed("POST");
    if (!get) return method_not_allowed("GET");
    if (action == "/ready") return json_response(200, {{"name", m->name}, {"ready", true}});
    if (!action.empty()) return error(404, "no such endpoint: " + p);
    const int classes = m->session->n_classes();
    return json_response(
        200, {{"name", m->name},
              {"versions", {"1"}},
              {"platform", "mnist.cpp"},
              {"inputs", {{{"name", "pixels"}, {"datatype", "UINT8"}, {"shape", {-1, 784}}}}},
              {"outputs",
               {{{"name", "probabilities"}, {"datatype", "FP32"}, {"shape", {-1, classes}}},
                {{"name", "digit"}, {"datatype", "INT64"}, {"shape", {-1}}}}},
              {"parameters",
               {{"arch", m->session->model().arch},
                {"pixels", "28x28 row-major, 0 = background; UINT8/INT* 0..255, FP32/FP64 0..1; shape [N, 784], "
                           "[N, 28, 28] or [N, 1, 28, 28]"}}}});
}

// The Open Inference Protocol's infer: one input tensor of N images, two outputs.
Response ServeApi::infer(const Request& req, size_t index) {
    const ServedModel& m = config_.models[index];
    try {
        const json j = parse_json(req.body);
        if (!j.is_object() || !j.contains("inputs") || !j["inputs"].is_array() || j["inputs"].size() != 1)
            return error(400, "expected {\"inputs\": [one tensor {\"name\", \"shape\", \"datatype\", \"data\"}]}");
        const json& in = j["inputs"][0];
        if (!in.is_object() || !in.contains("shape") || !in.contains("datatype") || !in.contains("data"))
            return error(400, "an input tensor needs \"name\", \"shape\", \"datatype\" and \"data\"");
        int64_t count = 1;
        for (const json& d : in["shape"]) {
            if (!d.is_number_integer() || d.get<int64_t>() < 1 || d.get<int64_t>() > (1 << 20))
                return error(400, "shape must hold positive integers, got " + shown(in["shape"]));
            count *= d.get<int64_t>();
            if (count > (int64_t(1) << 26)) return error(413, "tensor too large");
        }
        const std::string type = in["datatype"].get<std::string>();
        const bool is_float = type == "FP32" || type == "FP64";
        if (!is_float && type != "UINT8" && type.rfind("INT", 0) != 0)
            return error(400, "datatype " + type + " is not supported: use UINT8, INT32, INT64, FP32 or FP64");
        if (count % 784 != 0) return error(400, "the shape holds " + std::to_string(count) + " values, not N x 784");
        std::vector<uint8_t> pixels;
        pixels.reserve(std::min(size_t(count), req.body.size() / 2));  // a value takes 2 bytes or more
        append_pixels(in["data"], is_float ? 1.0 : 255.0, pixels);
        if (int64_t(pixels.size()) != count)
            return error(400, "data holds " + std::to_string(pixels.size()) + " values but the shape says " +
                                  std::to_string(count));
        const size_t n = pixels.size() / 784;
        const std::vector<Prediction> preds = m.session->predict_batch(pixels.data(), n);
        json probs = json::array(), digits = json::array();
        for (const Prediction& p : preds) {
            for (float x : p.probs) probs.push_back(x);
            digits.push_back(p.digit);
            metrics_.prediction(index, p.digit);
        }
        json out = {{"model_name", m.name},
                    {"model_version", "1"},
                    {"outputs",
                     {{{"name", "probabilities"}, {"datatype", "FP32"}, {"shape", {n, m.session->n_classes()}}, {"data", probs}},
                      {{"name", "digit"}, {"datatype", "INT64"}, {"shape", {n}}, {"data", digits}}}}};
        if (j.contains("id")) out["id"] = j["id"];
        return json_response(200, out);
    } catch (const StatusError& e) {
        return error(http_status(e.status()), e.what());
    } catch (const json::exception& e) {
        return error(400, "invalid request: " + json_error(e));
    }
}

Response ServeApi::digits(const Request& req) {
    if (req.method != "GET" && req.method != "HEAD") return method_not_allowed("GET");
    if (digit_images_.count == 0) return error(404, "no test digits here (mnist serve --digits DIR)");
    const std::string name = req.path.substr(std::strlen("/digits/"));
    if (name == "random") {
        static std::atomic<uint64_t> draws{std::random_device{}()};
        const uint64_t i = std::mt19937_64(draws.fetch_add(1))() % uint64_t(digit_images_.count);
        return json_response(200, {{"index", i},
                                   {"label", digit_labels_.labels[size_t(i)]},
                                   {"url", "/digits/" + std::to_string(i) + ".png"}});
    }
    const size_t dot = name.find(".png");
    const std::string number = name.substr(0, dot);
    if (dot == std::string::npos || dot + 4 != name.size() || number.empty() || number.size() > 6 ||
        number.find_first_not_of("0123456789") != std::string::npos || std::stoll(number) >= digit_images_.count)
        return error(404, "no such digit: " + req.path + " (there are " + std::to_string(digit_images_.count) + ")");
    Response r;
    const std::vector<uint8_t> png = encode_png(digit_images_.image(std::stoll(number)), 28, 28, 1);
    r.content_type = "image/png";
    r.body.assign(png.begin(), png.end());
    r.headers.emplace_back("Cache-Control", "max-age=86400");
    return r;
}

Response ServeApi::file(const Request& req) {
    if (req.method != "GET" && req.method != "HEAD") return method_not_allowed("GET");
    std::string path;
    if (req.path.rfind("/models/", 0) == 0) {
        const std::string name = req.path.substr(std::strlen("/models/"));
        for (const ServedModel& m : config_.models)
            if (m.path.substr(m.path.rfind('/') + 1) == name) path = m.path;
    }
    // Anything else, and the web demo's own copies of models this server does not serve, from
    // the web folder.
    if (path.empty() && config_.web_dir.empty())
        return error(404, "not found: " + req.path + " (no web demo here: scripts/build_web.sh builds it)");
    if (path.empty()) path = resolve_in(config_.web_dir, req.path == "/" ? "index.html" : req.path.substr(1));
    if (path.empty()) return error(404, "not found: " + req.path);
    try {
        const MappedFile f(path);
        Response r;
        r.content_type = content_type_for(path);
        r.body.assign(reinterpret_cast<const char*>(f.data()), f.size());
        return r;
    } catch (const Error&) {
        return error(404, "not found: " + req.path);
    }
}

}  // namespace mn
