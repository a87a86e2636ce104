#pragma once
// Reads a PyTorch state_dict saved with `torch.save(model.state_dict(), path)`: a zip archive
// holding `<top>/data.pkl` (a pickle of an OrderedDict of tensors) and one stored entry
// `<top>/data/<key>` per storage. Nothing of Python or PyTorch is needed.
//
// Every tensor comes out as contiguous row-major float32, whatever its layout in the file
// (storage offset and strides are honoured, so transposed views read correctly):
//   - FloatStorage is copied; HalfStorage, BFloat16Storage and DoubleStorage are converted;
//   - integer and bool storages (Long, Int, Short, Char, Byte, Bool) are converted to float
//     too, so entries such as BatchNorm's `num_batches_tracked` (a 0-dim LongStorage
//     tensor, shape {}) keep their place in the list. Integers beyond 2^24 lose precision;
//     callers that do not know a name can ignore it.
// Parameters saved as such (torch._utils._rebuild_parameter) are read as their tensor.
// A value that is not a tensor, quantized or sparse tensors, and big-endian archives are
// rejected with an Error, as is anything that reads outside its storage. A tensor holds at
// most limits::kTensorElements elements and may exceed its storage's element count (by
// repeating elements through zero strides) only up to 2^20 elements; all tensors together hold
// at most as many elements as the archive has bytes, plus 2^20 (and limits::kModelElements),
// so that a small hostile file cannot make the reader allocate much more than its own size.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mn {

struct NamedArray {
    std::string name;
    std::vector<int64_t> shape;  // PyTorch order, outermost first; empty for a 0-dim tensor
    std::vector<float> data;     // contiguous, row-major
};

// Reads the file at `path`, keeping the dict's order. Throws Error (without the path in the
// message) on anything malformed or unsupported.
std::vector<NamedArray> read_torch_state_dict(const std::string& path);

// The same, from an archive already in memory.
std::vector<NamedArray> parse_torch_state_dict(const uint8_t* data, size_t size);

// True when the bytes start like a zip archive ("PK\x03\x04"), as torch.save files do.
bool looks_like_zip(const uint8_t* data, size_t size);

}  // namespace mn
