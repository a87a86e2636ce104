// GGUF files (io/gguf.h): parse, read every value and tensor, and write the file back: a file
// the reader accepts must round-trip through the writer to the same keys, values and tensors.
#include <memory>
#include <vector>

#include "fuzz.h"
#include "io/gguf.h"

using namespace mn;

namespace {

void read_all(const gguf::File& f) {
    for (const auto& [key, value] : f.kv()) {
        fuzz::expect(value.to_string().find('\n') == std::string::npos, "a value prints on more than one line");
        if (value.is_array() && value.size() > 0) value.at(value.size() - 1);
    }
    volatile unsigned sink = 0;
    for (const gguf::TensorInfo& t : f.tensors()) {
        sink = sink + fuzz::touch(t.data, t.nbytes);
    }
}

void same_file(const gguf::File& a, const gguf::File& b) {
    fuzz::expect(a.kv().size() == b.kv().size(), "round trip changed the key count");
    for (size_t i = 0; i < a.kv().size(); ++i)
        fuzz::expect(a.kv()[i] == b.kv()[i], "round trip changed a key or value");
    fuzz::expect(a.tensors().size() == b.tensors().size(), "round trip changed the tensor count");
    for (size_t i = 0; i < a.tensors().size(); ++i) {
        const gguf::TensorInfo &x = a.tensors()[i], &y = b.tensors()[i];
        fuzz::expect(x.name == y.name && x.type == y.type && x.n_dims == y.n_dims && x.nbytes == y.nbytes,
                     "round trip changed a tensor");
        for (int d = 0; d < gguf::kMaxDims; ++d) fuzz::expect(x.ne[d] == y.ne[d], "round trip changed a shape");
        fuzz::expect(std::memcmp(x.data, y.data, x.nbytes) == 0, "round trip changed tensor data");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::unique_ptr<gguf::File> f;
    fuzz::run([&] {
        f = std::make_unique<gguf::File>(gguf::File::from_memory(data, size));
        read_all(*f);
    });
    if (!f) return 0;
    // What the reader accepts, the writer writes and the reader reads back the same (an Error
    // here escapes: a finding).
    const std::vector<uint8_t> bytes = gguf::Writer::from_file(*f).to_bytes();
    same_file(*f, gguf::File::from_memory(bytes.data(), bytes.size()));
    return 0;
}
