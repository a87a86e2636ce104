// IDX images and labels (io/idx.h), plain or gzip-compressed: the first byte says which the
// rest is (even: images, odd: labels).
#include "fuzz.h"
#include "io/idx.h"

using namespace mn;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const bool labels = data[0] & 1;
    fuzz::run([&] {
        if (labels) {
            const IdxLabels l = parse_idx_labels(data + 1, size - 1);
            fuzz::expect(l.count() > 0, "an empty label file was accepted");
            volatile unsigned sink = fuzz::touch(l.labels.data(), l.labels.size());
            (void)sink;
        } else {
            const IdxImages im = parse_idx_images(data + 1, size - 1);
            fuzz::expect(im.count > 0 && im.rows > 0 && im.cols > 0, "an empty image file was accepted");
            volatile unsigned sink = fuzz::touch(im.image(im.count - 1), size_t(im.image_size()));
            (void)sink;
        }
    });
    return 0;
}
