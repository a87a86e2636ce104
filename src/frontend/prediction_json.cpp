#include "frontend/prediction_json.h"

#include <algorithm>
#include <numeric>

namespace mn {

nlohmann::json prediction_json(const Prediction& p) {
    return {{"digit", p.digit}, {"probabilities", p.probs}};
}

nlohmann::json image_prediction_json(const ImagePrediction& p, bool input) {
    nlohmann::json j = prediction_json(p.prediction);
    j["box"] = {p.box.x0, p.box.y0, p.box.width(), p.box.height()};
    if (input) j["input"] = std::vector<int>(p.input.begin(), p.input.end());
    return j;
}

nlohmann::json number_json(const NumberReading& r, bool input) {
    nlohmann::json digits = nlohmann::json::array();
    for (const ImagePrediction& d : r.digits) digits.push_back(image_prediction_json(d, input));
    return {{"number", r.number}, {"digits", digits}};
}

std::vector<int> top_classes(const Prediction& p, int k) {
    std::vector<int> order(p.probs.size());
    std::iota(order.begin(), order.end(), 0);
    k = std::min<int>(k, int(order.size()));
    std::partial_sort(order.begin(), order.begin() + k, order.end(),
                      [&](int a, int b) { return p.probs[size_t(a)] > p.probs[size_t(b)]; });
    order.resize(size_t(k));
    return order;
}

}  // namespace mn
