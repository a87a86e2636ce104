#pragma once
// Reading and writing whole models. The format is detected from the file's first bytes:
//   "GGUF"            GGUF v3 (architecture from general.architecture; weights mmap'ed)
//   0x67676d6c        the seeds' legacy ggml .bin (mnist-fc only; no names, fixed order)
//   "PK\x03\x04"      a PyTorch state_dict written by torch.save
#include <cstdint>
#include <memory>
#include <span>
#include <vector>
#include <string>

#include "models/model.h"

namespace mn {

// Every loader reads a span of bytes; the model is validated against its architecture once,
// here. GGUF tensors point into the bytes, which `owner` keeps alive (the other formats copy).
Model load_model(std::span<const uint8_t> bytes, std::shared_ptr<const void> owner);
Model load_model(const std::string& path);                     // the file, memory-mapped
Model load_model_from_memory(const uint8_t* data, size_t size);  // copies the bytes

// A model from an open GGUF file, without validation; tensors whose names start with
// `skip_prefix` (e.g. a checkpoint's optimizer state) are left out.
Model model_from_gguf(const std::shared_ptr<const gguf::File>& file, const std::string& skip_prefix = "");

// GGUF v3, written atomically; loads in ggml's own mnist tools.
void save_model_gguf(const Model& m, const std::string& path);
// The same file's bytes, in memory (what the web page downloads).
std::vector<uint8_t> model_gguf_bytes(const Model& m);
// The seeds' legacy format (mnist-fc only), written atomically.
void save_model_legacy(const Model& m, const std::string& path);
// By extension: ".bin" → legacy, anything else → GGUF.
bool is_legacy_path(const std::string& path);
void save_model(const Model& m, const std::string& path);

}  // namespace mn
