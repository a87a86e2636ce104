// The request bodies of `mnist serve` (frontend/serve_api.h), as the HTTP layer hands them
// over. The first byte picks the request, the rest is its body:
//   0 POST /api/predict, application/octet-stream (784 raw bytes, or an image sniffed)
//   1 POST /api/predict, image/png           3 POST /api/predict, application/json
//   2 POST /api/predict?number, image/png    4 POST /v2/models/mnist-fc-f32/infer (KServe v2)
// Every answer is JSON with a 2xx or 4xx status: a 5xx (an internal error) is a finding.
#include <memory>

#include <nlohmann/json.hpp>

#include "frontend/serve_api.h"
#include "fuzz.h"

using namespace mn;

namespace {

ServeApi& api() {
    static ServeApi* a = [] {
        ServeConfig c;
        ServedModel m;
        m.name = "mnist-fc-f32";
        m.path = fuzz::shipped_model("mnist-fc-f32.gguf");
        m.session = std::make_unique<Session>(m.path);
        c.models.push_back(std::move(m));
        return new ServeApi(std::move(c));
    }();
    return *a;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    http::Request req;
    req.method = "POST";
    req.client = "127.0.0.1";
    static const char* kTypes[] = {"application/octet-stream", "image/png", "image/png", "application/json",
                                   "application/json"};
    const int kind = data[0] % 5;
    req.path = kind == 4 ? "/v2/models/mnist-fc-f32/infer" : "/api/predict";
    req.headers.emplace_back("Content-Type", kTypes[kind]);
    if (kind == 2) req.args.push_back({"number", "", false});
    req.body.assign(reinterpret_cast<const char*>(data + 1), size - 1);

    const http::Response r = api().handle(req);
    fuzz::expect(r.status >= 200 && r.status < 500, ("status " + std::to_string(r.status) + ": " + r.body).c_str());
    const nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
    fuzz::expect(!j.is_discarded() && j.is_object(), "the answer is not a JSON object");
    if (r.status >= 400) {
        fuzz::expect(j.contains("error") && j["error"].is_string(), "an error without its message");
        fuzz::check_message(j["error"].get<std::string>().c_str());
    }
    return 0;
}
