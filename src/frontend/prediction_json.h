#pragma once
// Predictions as JSON, the same for `mnist predict --json` and the server.
#include <nlohmann/json.hpp>

#include "session/session.h"

namespace mn {

// {"digit": 7, "probabilities": [10 numbers]}
nlohmann::json prediction_json(const Prediction& p);
// The same plus "box": [x, y, width, height] and, with `input`, "input": the 784 pixels the
// model saw.
nlohmann::json image_prediction_json(const ImagePrediction& p, bool input);
// {"number": "2026", "digits": [one image_prediction_json each]}
nlohmann::json number_json(const NumberReading& r, bool input);

// The k most probable classes, most probable first.
std::vector<int> top_classes(const Prediction& p, int k);

}  // namespace mn
