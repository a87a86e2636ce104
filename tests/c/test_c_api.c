/* The C API from C: load the shipped models from a file and from a buffer, predict test
 * digits one by one and in a batch, read an image, and fail cleanly on a bad buffer. Exits 0
 * when every check passes; prints what failed otherwise. Usage: test_c_api SOURCE_DIR DATA_DIR */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mnist.h"

static int failures = 0;
#define CHECK(cond)                                                    \
    do {                                                               \
        if (!(cond)) {                                                 \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            ++failures;                                                \
        }                                                              \
    } while (0)

static unsigned char* read_all(const char* path, size_t* size) {
    FILE* f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char* data = malloc((size_t)n);
    *size = fread(data, 1, (size_t)n, f);
    fclose(f);
    return data;
}

int main(int argc, char** argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: test_c_api SOURCE_DIR DATA_DIR\n");
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/t10k-images-idx3-ubyte", argv[2]);
    size_t images_size = 0, labels_size = 0;
    unsigned char* images = read_all(path, &images_size);
    snprintf(path, sizeof path, "%s/t10k-labels-idx1-ubyte", argv[2]);
    unsigned char* labels = read_all(path, &labels_size);
    if (!images || !labels) {
        printf("SKIP: MNIST test set not found in %s\n", argv[2]);
        return 77;
    }
    const int n = 200;
    const unsigned char* pixels = images + 16; /* after the IDX header */
    const unsigned char* truth = labels + 8;

    snprintf(path, sizeof path, "%s/models/mnist-cnn-f32.gguf", argv[1]);
    mnist_model* cnn = mnist_load_file(path);
    CHECK(cnn != NULL);
    if (!cnn) fprintf(stderr, "%s\n", mnist_last_error());
    CHECK(strcmp(mnist_model_arch(cnn), "mnist-cnn") == 0);
    CHECK(mnist_model_classes(cnn) == 10);

    size_t fc_size = 0;
    snprintf(path, sizeof path, "%s/models/mnist-fc-f32.gguf", argv[1]);
    unsigned char* fc_bytes = read_all(path, &fc_size);
    mnist_model* fc = mnist_load_buffer(fc_bytes, fc_size);
    free(fc_bytes); /* the model keeps its own copy */
    CHECK(fc != NULL);

    int correct = 0;
    int digits[200];
    float probs[200 * 10];
    for (int i = 0; i < n; ++i) {
        int digit = -1;
        float p[10];
        CHECK(mnist_predict(cnn, pixels + i * MNIST_PIXELS, &digit, p) == MNIST_OK);
        float sum = 0;
        for (int k = 0; k < 10; ++k) sum += p[k];
        CHECK(sum > 0.999f && sum < 1.001f);
        correct += digit == truth[i];
        digits[i] = digit;
    }
    printf("mnist-cnn: %d of %d test digits right\n", correct, n);
    CHECK(correct >= n * 97 / 100);

    int batch[200];
    CHECK(mnist_predict_batch(cnn, pixels, (size_t)n, batch, probs) == MNIST_OK);
    for (int i = 0; i < n; ++i) CHECK(batch[i] == digits[i]);

    int fc_correct = 0;
    CHECK(mnist_predict_batch(fc, pixels, (size_t)n, batch, NULL) == MNIST_OK);
    for (int i = 0; i < n; ++i) fc_correct += batch[i] == truth[i];
    printf("mnist-fc: %d of %d test digits right\n", fc_correct, n);
    CHECK(fc_correct >= n * 95 / 100);

    /* A test digit drawn dark on light in a 112x84 RGB image, off-centre. */
    enum { W = 112, H = 84 };
    static unsigned char rgb[W * H * 3];
    memset(rgb, 230, sizeof rgb);
    for (int y = 0; y < 56; ++y)
        for (int x = 0; x < 56; ++x) {
            unsigned char v = pixels[(y / 2) * 28 + x / 2]; /* digit 0 (a 7) at twice its size */
            unsigned char* px = rgb + ((y + 20) * W + x + 50) * 3;
            px[0] = px[1] = px[2] = (unsigned char)(230 - v * 200 / 255);
        }
    int digit = -1;
    unsigned char input[MNIST_PIXELS];
    CHECK(mnist_predict_image(cnn, rgb, W, H, 3, &digit, NULL, input) == MNIST_OK);
    CHECK(digit == truth[0]);
    unsigned char pre[MNIST_PIXELS];
    CHECK(mnist_preprocess(rgb, W, H, 3, pre) == MNIST_OK);
    CHECK(memcmp(pre, input, MNIST_PIXELS) == 0);

    /* Where the model looks: a gradient for every pixel; classes out of range refused. */
    float gradient[MNIST_PIXELS];
    CHECK(mnist_saliency(cnn, pixels, digits[0], gradient) == MNIST_OK);
    float largest = 0;
    for (int i = 0; i < MNIST_PIXELS; ++i) {
        const float a = gradient[i] < 0 ? -gradient[i] : gradient[i];
        largest = a > largest ? a : largest;
    }
    CHECK(largest > 0.01f);
    CHECK(mnist_saliency(cnn, pixels, 10, gradient) == MNIST_INVALID_ARGUMENT);
    CHECK(strstr(mnist_last_error(), "class 10 is not between 0 and 9") != NULL);

    /* Failures: a status, a message, and no model. */
    const unsigned char junk[8] = {'J', 'U', 'N', 'K', 1, 2, 3, 4};
    CHECK(mnist_load_buffer(junk, sizeof junk) == NULL);
    CHECK(strstr(mnist_last_error(), "not a model file") != NULL);
    CHECK(mnist_load_file("/no/such/model.gguf") == NULL);
    CHECK(strstr(mnist_last_error(), "cannot open") != NULL);
    CHECK(mnist_predict(cnn, NULL, &digit, NULL) == MNIST_INVALID_ARGUMENT);
    static unsigned char blank[32 * 32];
    CHECK(mnist_predict_image(cnn, blank, 32, 32, 1, &digit, NULL, NULL) == MNIST_NO_DIGIT);
    CHECK(strcmp(mnist_status_string(MNIST_NO_DIGIT), "no digit in the image") == 0);
    CHECK(mnist_predict_image(cnn, blank, 100000, 100000, 1, &digit, NULL, NULL) == MNIST_IMAGE_TOO_LARGE);
    printf("mnist %s: last error \"%s\"\n", mnist_version(), mnist_last_error());

    mnist_free(cnn);
    mnist_free(fc);
    mnist_free(NULL);
    free(images);
    free(labels);
    if (failures) {
        fprintf(stderr, "%d checks failed\n", failures);
        return 1;
    }
    printf("PASS\n");
    return 0;
}
