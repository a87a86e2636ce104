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
    MNIST_INTERNAL = 8
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

const char* mnist_last_error(void);          /* "" when this thread had no failure */
const char* mnist_status_string(mnist_status status); /* "not a valid model", ... */
const char* mnist_version(void);             /* "0.1.0" */

#ifdef __cplusplus
}
#endif

#endif /* MNIST_H */
