// evaluate() on images of a mapped IDX file, which it reads a window at a time (64 KiB of MNIST
// images is 84 of them, or one batch if that is more), against the same images held in memory:
// the same predictions, confidences and loss at every batch size, for ranges that start and
// end inside a window, cross windows at batches that do not divide them, and end at the file's
// last image.
#include <gtest/gtest.h>

#include "engine/executor.h"
#include "models/evaluate.h"
#include "models/model_io.h"
#include "test_support.h"

namespace mn {
namespace {

TEST(Evaluate, MappedImagesReadByWindowsMatchImagesInMemory) {
    MNIST_TEST_SET_OR_SKIP(set);
    ASSERT_TRUE(set->images.mapping) << "the plain IDX test set should be memory-mapped";
    IdxImages in_memory;
    in_memory.count = set->images.count;
    in_memory.rows = set->images.rows;
    in_memory.cols = set->images.cols;
    in_memory.pixels.assign(set->images.data(), set->images.data() + set->images.count * set->images.image_size());

    const Model model = load_model(test::shipped_model("mnist-fc-f32.gguf"));
    Executor executor(2);
    struct Range {
        int64_t first, count, batch;
    };
    const Range ranges[] = {
        {37, 400, 1},     // windows of 84 images, one image at a time
        {37, 400, 5},     // a batch that straddles the end of a window: read again from it
        {100, 250, 7},
        {0, 1000, 100},   // a window of one batch (more than 84 images)
        {9000, 1000, 3},  // the last window cut short by the end of the file
        {9990, 10, 500},  // fewer images than a batch
    };
    for (const Range& r : ranges) {
        const EvalResult mapped = evaluate(model, set->images, &set->labels, r.first, r.count, executor, r.batch);
        const EvalResult held = evaluate(model, in_memory, &set->labels, r.first, r.count, executor, r.batch);
        ASSERT_EQ(mapped.predictions.size(), size_t(r.count));
        EXPECT_EQ(mapped.predictions, held.predictions) << "first " << r.first << ", batch " << r.batch;
        EXPECT_EQ(mapped.confidences, held.confidences) << "first " << r.first << ", batch " << r.batch;
        EXPECT_EQ(mapped.correct, held.correct);
        EXPECT_DOUBLE_EQ(mapped.loss, held.loss);
        EXPECT_GT(mapped.accuracy(), 0.9) << "first " << r.first << ", batch " << r.batch;
    }
}

}  // namespace
}  // namespace mn
