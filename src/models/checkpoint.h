#pragma once
// Training checkpoints and training metadata. A checkpoint is a GGUF file: the model (tensors and
// metadata, so it also evaluates as a model), the training settings (training.*), the position
// (checkpoint.*) and the optimizer's moments as tensors named optimizer.m.<param> / optimizer.v.<param>.
#include <string>

#include "engine/optim.h"
#include "models/model.h"
#include "models/trainer.h"

namespace mn {

// Records the settings in the model's metadata (keys training.*).
void set_training_metadata(Model& m, const TrainConfig& c, const std::string& data_name);
// Reads them back (missing keys keep the defaults of `fallback`).
TrainConfig training_config_of(const Model& m, const TrainConfig& fallback);

void save_checkpoint(const std::string& path, const Model& m, Optimizer& opt, const TrainPosition& pos);

struct Checkpoint {
    Model model;  // trainable
    TrainPosition position;
    int64_t steps = 0;
    std::shared_ptr<const gguf::File> file;  // holds the optimizer tensors
};
Checkpoint load_checkpoint(const std::string& path);
// Copies the checkpoint's moments and step count into an optimizer built for its model.
void restore_optimizer(Optimizer& opt, const Checkpoint& ck);

}  // namespace mn
