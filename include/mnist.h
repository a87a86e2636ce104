/* mnist.h: the C API of mnist.cpp, for C callers, other languages and the WebAssembly page.
 *
 *   mnist_model* m = mnist_load_file("models/mnist-cnn-f32.gguf");
 *   if (!m) { fprintf(stderr, "%s\n", mnist_last_error()); return 1; }
 *   int digit; float probs[10];
 *   if (mnist_predict(m, pixels, &digit, probs) != MNIST_OK) { ... mnist_last_error() ... }
 *   mnist_free(m);
 *
 * A model loads from a file or from bytes in memory: GGUF, the legacy ggml .bin or a PyTorch
 * state_dict (found by the first bytes). One model may be used from several threads at once.
 * Pixels are 8-bit, row-major, rows top to bottom. A 28x28 input is MNIST's: 0 = background,
 * 255 = ink. Any other image (1 gray, 2 gray + alpha, 3 RGB, 4 RGBA channels, interleaved) is
 * made MNIST-like first: ink side found, background removed, cropped, scaled to fit 20x20 and
 * centred by its centre of mass.
 *
 * Networks also train here (mnist_trainer_*, below), on the engine's own automatic
 * differentiation, a few batches per call, so a caller (the web page's worker) can report
 * progress and pause between calls.
 *
 * Every call that can fail returns a status (or NULL); mnist_last_error() then holds a one-line
 * message, kept per thread until that thread's next failing call. */
#ifndef MNIST_H
#define MNIST_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MNIST_SIDE 28
#define MNIST_PIXELS 784 /* MNIST_SIDE * MNIST_SIDE */

typedef enum mnist_status {
    MNIST_OK = 0,
    MNIST_INVALID_ARGUMENT = 1, /* a null pointer, a wrong size */
    MNIST_CANNOT_READ = 2,      /* the file cannot be opened or read */
    MNIST_BAD_MODEL = 3,        /* not a model file, malformed, or an unknown network */
    MNIST_BAD_IMAGE = 4,        /* malformed pixels */
    MNIST_IMAGE_TOO_LARGE = 5,  /* more pixels than the limit (40 megapixels) */
    MNIST_NO_DIGIT = 6,         /* the image holds no ink */
    MNIST_OUT_OF_MEMORY = 7,
    MNIST_INTERNAL = 8,
    MNIST_BAD_DATA = 9          /* not IDX images and labels, or not a set a network can train on */
} mnist_status;

typedef struct mnist_model mnist_model; /* opaque */

/* NULL on failure (see mnist_last_error). The buffer is copied: it may be freed right after. */
mnist_model* mnist_load_file(const char* path);
mnist_model* mnist_load_buffer(const void* data, size_t size);
void mnist_free(mnist_model* model); /* NULL is fine */

/* "mnist-fc", "mnist-cnn" */
const char* mnist_model_arch(const mnist_model* model);
/* How many probabilities each prediction writes (10 for every shipped model). */
int mnist_model_classes(const mnist_model* model);

/* One 28x28 image (MNIST_PIXELS bytes). `digit` and `probs` (mnist_model_classes floats) may
 * each be NULL. */
mnist_status mnist_predict(mnist_model* model, const uint8_t* pixels, int* digit, float* probs);

/* n images one after another (n * MNIST_PIXELS bytes): n digits, n * classes probabilities. */
mnist_status mnist_predict_batch(mnist_model* model, const uint8_t* pixels, size_t n, int* digits, float* probs);

/* One digit in any image. `input` (may be NULL) receives the MNIST_PIXELS bytes the model saw. */
mnist_status mnist_predict_image(mnist_model* model, const uint8_t* pixels, int width, int height, int channels,
                                 int* digit, float* probs, uint8_t* input);

/* Several digits side by side, read left to right: `number` receives them as a NUL-terminated
 * string ("2026") and `confidences` (may be NULL) each digit's probability; `capacity` is the
 * size of `number` in bytes (confidences holds capacity - 1 floats). */
mnist_status mnist_read_number(mnist_model* model, const uint8_t* pixels, int width, int height, int channels,
                               char* number, size_t capacity, float* confidences);

/* Where the model looks: the gradient of class `cls`'s score (its logit, before the softmax)
 * with respect to each of the MNIST_PIXELS pixels of a 28x28 image (scaled 0..1), computed by
 * the engine's automatic differentiation. `gradient` receives MNIST_PIXELS floats; a positive
 * value means more ink there would raise the score. */
mnist_status mnist_saliency(mnist_model* model, const uint8_t* pixels, int cls, float* gradient);

/* The MNIST-like 28x28 of an image, without a model. */
mnist_status mnist_preprocess(const uint8_t* pixels, int width, int height, int channels, uint8_t* out);

/* ---- data sets and training ---------------------------------------------------------------
 *
 *   mnist_dataset* set = mnist_dataset_load(images, images_size, labels, labels_size);
 *   mnist_trainer* t = mnist_trainer_new("mnist-cnn", "fast", set, 55000, 5000, 0, 0, 42);
 *   mnist_train_progress p;
 *   do {
 *       if (mnist_trainer_step(t, 20, &p) != MNIST_OK) { ... mnist_last_error() ... }
 *       printf("%d/%d images, loss %.3f\n", p.images_done, p.images_total, p.loss);
 *   } while (!p.finished);
 *   mnist_model* m = mnist_trainer_model(t);        (a model like a loaded one)
 *   void* gguf; size_t size; mnist_trainer_save_buffer(t, &gguf, &size); ... free(gguf);
 *   mnist_trainer_free(t); mnist_dataset_free(set);
 *
 * Training runs on the calling thread (no threads are started), one call at a time per trainer. */

typedef struct mnist_dataset mnist_dataset; /* opaque: labelled 28x28 images */
typedef struct mnist_trainer mnist_trainer; /* opaque: a network being trained */

/* Labelled images from IDX files in memory (MNIST's train-images-idx3-ubyte and
 * train-labels-idx1-ubyte, plain or gzip-compressed: found by their first bytes). The bytes are
 * decoded and checked (28x28 images, one label 0-9 per image) and may be freed right after.
 * NULL on failure: MNIST_BAD_DATA (or MNIST_INVALID_ARGUMENT for a NULL pointer). */
mnist_dataset* mnist_dataset_load(const void* images, size_t images_size, const void* labels, size_t labels_size);
size_t mnist_dataset_count(const mnist_dataset* data); /* 0 for NULL */
void mnist_dataset_free(mnist_dataset* data);          /* NULL is fine */

/* Images [first, first + count) of a data set scored by a model: `correct` (may be NULL) receives
 * how many it predicts right, `loss` (may be NULL) the mean cross-entropy. The same figures as
 * `mnist eval MODEL IMAGES LABELS` for the same images. */
mnist_status mnist_evaluate(mnist_model* model, const mnist_dataset* data, size_t first, size_t count,
                            size_t* correct, double* loss);

/* What `mnist train ARCH --preset PRESET` does when given no options: epochs, images per
 * optimizer step, and the learning rate (the peak one with a one-cycle schedule). Each pointer
 * may be NULL. arch: "mnist-fc" or "mnist-cnn"; preset: NULL or "" (the default), for mnist-cnn
 * also "seeds", "ggml" or "fast". MNIST_INVALID_ARGUMENT for an unknown network or preset. */
mnist_status mnist_train_recipe(const char* arch, const char* preset, int* epochs, int* batch, float* learning_rate);

/* A new network (initialised from `seed`) to train with its preset's recipe (optimizer, rate
 * schedule, batch, label smoothing, random shifts) on images [0, n_train) of `data`, validated
 * after each epoch on the n_val images after them (n_val may be 0). epochs and learning_rate
 * of 0 (or less) take the recipe's. The images are copied: `data` may be freed right after.
 * NULL on failure (MNIST_INVALID_ARGUMENT: an unknown network or preset, n_train 0, more images
 * than the set holds). */
mnist_trainer* mnist_trainer_new(const char* arch, const char* preset, const mnist_dataset* data, size_t n_train,
                                 size_t n_val, int epochs, float learning_rate, uint32_t seed);
void mnist_trainer_free(mnist_trainer* trainer); /* NULL is fine */

/* Where a run stands (mnist_trainer_step fills it in). Eight ints, then four doubles. */
typedef struct mnist_train_progress {
    int epoch;             /* the epoch under way, from 0 (= epochs once finished) */
    int epochs;
    int batch;             /* batches done in that epoch */
    int batches_per_epoch;
    int images_done;       /* images trained on so far, every epoch together */
    int images_total;      /* epochs * n_train */
    int finished;          /* 1 once every epoch is done */
    int epoch_done;        /* 1 when this call ended an epoch: loss, accuracy and validation_* are its */
    double loss;           /* mean training loss (the recipe's: with label smoothing) over the epoch so far */
    double accuracy;       /* share of training images predicted right over the epoch so far */
    double validation_loss;     /* of the last finished epoch; -1 before the first, or without n_val */
    double validation_accuracy; /* the same */
} mnist_train_progress;

/* Trains up to `batches` optimizer steps, stopping early at the end of an epoch (after its
 * validation), and fills in `progress` (may be NULL). Once finished it trains no more and
 * returns MNIST_OK with progress->finished = 1; batches = 0 only reports. Between calls the run
 * may wait as long as the caller likes (a pause); the result is the same as without pauses. */
mnist_status mnist_trainer_step(mnist_trainer* trainer, int batches, mnist_train_progress* progress);

/* The network as it is now, as a model of its own (predict, evaluate, saliency; free it with
 * mnist_free): later steps do not change it. NULL on failure. */
mnist_model* mnist_trainer_model(mnist_trainer* trainer);

/* The network as it is now as a GGUF file in memory (what `mnist train` writes: the model and
 * its training.* settings): *data is allocated with malloc (release it with free()), *size its
 * bytes. mnist_load_buffer and `mnist eval` read it. */
mnist_status mnist_trainer_save_buffer(mnist_trainer* trainer, void** data, size_t* size);

const char* mnist_last_error(void);          /* "" when this thread had no failure */
const char* mnist_status_string(mnist_status status); /* "not a valid model", ... */
const char* mnist_version(void);             /* "0.1.0" */

#ifdef __cplusplus
}
#endif

#endif /* MNIST_H */
