// The reference MLP training step (BENCHMARKS.md `mlp-step`: 784 → 512 → ReLU → 512 → ReLU → 10,
// softmax cross-entropy, plain SGD with learning rate 0.01, batch 128) written by hand in C on
// OpenBLAS: no graph, no tensors, no allocation but the step's own buffers. It is the floor
// for any library whose matrix products are OpenBLAS's: the eight products a step needs, plus
// the fewest passes over memory around them (bias rows copied into the output before the
// product accumulates onto it, ReLU and its derivative, the softmax rows, the bias sums), with
// the elementwise loops split over OpenMP threads. The weight update is applied inside the
// weight-gradient product, W += (−η)·Gᵀ·X (α = −η, β = 1), as `backprop` applies plain SGD, so
// ∂L/∂W is never written out.
//
// Prints one JSON line in the schema of `backprop bench --json`: the median step in
// milliseconds, and, timed in the same process on the same buffers, the eight products alone
// ("gemms_ms").
//
//     gcc -O2 -march=native -fopenmp step_floor.c -o step_floor /usr/lib/x86_64-linux-gnu/libopenblas.so.0 -lm
//     OMP_WAIT_POLICY=passive ./step_floor THREADS [SECONDS] [separate]
//
// With `separate`, the update runs as its own pass instead (∂L/∂W computed into a cleared buffer,
// then W −= η·∂L/∂W): the form the fused one replaces, for comparing the two (the products alone
// are timed in the fused forms either way).
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <omp.h>

// CBLAS (cblas.h), declared here so that only the runtime library is needed.
enum { RowMajor = 101, NoTrans = 111, Trans = 112 };
void cblas_sgemm(int order, int transA, int transB, int m, int n, int k, float alpha, const float *a, int lda,
                 const float *b, int ldb, float beta, float *c, int ldc);
void openblas_set_num_threads(int threads);

enum { BATCH = 128, LAYERS = 3 };
static const int inputs[LAYERS] = {784, 512, 512}, outputs[LAYERS] = {512, 512, 10};
static float *weight[LAYERS], *bias[LAYERS];

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int ascending(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

/// C[m×n] = op(A)·op(B) (+ bias on every row when given), C freshly allocated. Without a bias
/// C is cleared and the product accumulates (β = 1): OpenBLAS's own β = 0 pass is slower.
static float *product(int ta, int tb, int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                      const float *rowBias) {
    float *c = malloc(sizeof(float) * m * n);
    if (rowBias) {
        for (int i = 0; i < m; i++) memcpy(c + (long)i * n, rowBias, sizeof(float) * n);
    } else {
        memset(c, 0, sizeof(float) * m * n);
    }
    cblas_sgemm(RowMajor, ta ? Trans : NoTrans, tb ? Trans : NoTrans, m, n, k, 1, a, lda, b, ldb, 1, c, n);
    return c;
}

/// Σ over the rows of g [rows×cols], freshly allocated.
static float *columnSums(const float *g, int rows, int cols) {
    float *s = calloc(cols, sizeof(float));
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) s[j] += g[(long)i * cols + j];
    return s;
}

/// Whether the update runs as its own pass after the weight gradients are written out.
static int separateUpdate;

/// W += (−η)·Gᵀ·X for the weight W [m×n], from G [BATCH×m] and X [BATCH×n]: in the product itself,
/// or (`separateUpdate`) by writing Gᵀ·X out and subtracting η times it in a second pass.
static void updateWeight(float *w, int m, int n, const float *g, const float *x) {
    if (!separateUpdate) {
        cblas_sgemm(RowMajor, Trans, NoTrans, m, n, BATCH, -0.01f, g, m, x, n, 1, w, n);
        return;
    }
    float *gw = product(1, 0, m, n, BATCH, g, m, x, n, NULL);
    const long count = (long)m * n;
#pragma omp parallel for if (omp_get_max_threads() > 1)
    for (long i = 0; i < count; i++) w[i] -= 0.01f * gw[i];
    free(gw);
}

static void step(const float *x, const int *labels) {
    const int n1 = BATCH * 512;
    // Forward.
    float *h1 = product(0, 1, BATCH, 512, 784, x, 784, weight[0], 784, bias[0]);
    float *a1 = malloc(sizeof(float) * n1);
#pragma omp parallel for if (omp_get_max_threads() > 1)
    for (int i = 0; i < n1; i++) a1[i] = h1[i] > 0 ? h1[i] : 0;
    float *h2 = product(0, 1, BATCH, 512, 512, a1, 512, weight[1], 512, bias[1]);
    float *a2 = malloc(sizeof(float) * n1);
#pragma omp parallel for if (omp_get_max_threads() > 1)
    for (int i = 0; i < n1; i++) a2[i] = h2[i] > 0 ? h2[i] : 0;
    float *z = product(0, 1, BATCH, 10, 512, a2, 512, weight[2], 512, bias[2]);
    // Mean softmax cross-entropy and its gradient (softmax − one-hot) / batch.
    float *gz = malloc(sizeof(float) * BATCH * 10);
    double loss = 0;
    for (int i = 0; i < BATCH; i++) {
        const float *row = z + i * 10;
        float *g = gz + i * 10, top = row[0], sum = 0;
        for (int j = 1; j < 10; j++) top = row[j] > top ? row[j] : top;
        for (int j = 0; j < 10; j++) sum += g[j] = expf(row[j] - top);
        loss += logf(sum) - (row[labels[i]] - top);
        for (int j = 0; j < 10; j++) g[j] = (g[j] / sum - (j == labels[i])) / BATCH;
    }
    // Backward: input gradients G·W (each before its weight moves), ReLU's derivative, bias
    // sums, and plain SGD: each weight W += (−η)·Gᵀ·X in its gradient's product.
    float *gb3 = columnSums(gz, BATCH, 10);
    float *g2 = product(0, 0, BATCH, 512, 10, gz, 10, weight[2], 512, NULL);
    updateWeight(weight[2], 10, 512, gz, a2);
#pragma omp parallel for if (omp_get_max_threads() > 1)
    for (int i = 0; i < n1; i++) g2[i] = h2[i] > 0 ? g2[i] : 0;
    float *gb2 = columnSums(g2, BATCH, 512);
    float *g1 = product(0, 0, BATCH, 512, 512, g2, 512, weight[1], 512, NULL);
    updateWeight(weight[1], 512, 512, g2, a1);
#pragma omp parallel for if (omp_get_max_threads() > 1)
    for (int i = 0; i < n1; i++) g1[i] = h1[i] > 0 ? g1[i] : 0;
    float *gb1 = columnSums(g1, BATCH, 512);
    updateWeight(weight[0], 512, 784, g1, x);
    float *gb[LAYERS] = {gb1, gb2, gb3};
    for (int l = 0; l < LAYERS; l++) {
        for (int j = 0; j < outputs[l]; j++) bias[l][j] -= 0.01f * gb[l][j];
        free(gb[l]);
    }
    free(h1); free(a1); free(h2); free(a2); free(z); free(gz); free(g2); free(g1);
    if (!isfinite(loss)) { fprintf(stderr, "step_floor: the loss is not finite\n"); exit(1); }
}

/// The step's eight products alone, on the same shapes and in the same forms: the three
/// weight-gradient products add −η·Gᵀ·X onto buffers of the weights' shapes.
static void products(const float *x, float **scratch) {
    for (int i = 0; i < 5; i++) free(scratch[i]);
    const float *a = scratch[8], *g = scratch[9], *gz = scratch[10];
    scratch[0] = product(0, 1, BATCH, 512, 784, x, 784, weight[0], 784, NULL);
    scratch[1] = product(0, 1, BATCH, 512, 512, a, 512, weight[1], 512, NULL);
    scratch[2] = product(0, 1, BATCH, 10, 512, a, 512, weight[2], 512, NULL);
    scratch[3] = product(0, 0, BATCH, 512, 10, gz, 10, weight[2], 512, NULL);
    scratch[4] = product(0, 0, BATCH, 512, 512, g, 512, weight[1], 512, NULL);
    cblas_sgemm(RowMajor, Trans, NoTrans, 10, 512, BATCH, -0.01f, gz, 10, a, 512, 1, scratch[5], 512);
    cblas_sgemm(RowMajor, Trans, NoTrans, 512, 512, BATCH, -0.01f, g, 512, a, 512, 1, scratch[6], 512);
    cblas_sgemm(RowMajor, Trans, NoTrans, 512, 784, BATCH, -0.01f, g, 512, x, 784, 1, scratch[7], 784);
}

/// Median milliseconds of `body` over at least `seconds` (and 5 runs) after 3 warm-up runs.
static double medianMilliseconds(void (*body)(const void *), const void *context, double seconds) {
    static double times[100000];
    int count = 0;
    for (int i = 0; i < 3; i++) body(context);
    const double start = now();
    while (count < 5 || (now() - start < seconds && count < 100000)) {
        const double t0 = now();
        body(context);
        times[count++] = (now() - t0) * 1e3;
    }
    qsort(times, count, sizeof(double), ascending);
    return times[count / 2];
}

static const int *trainingLabels;
static void runStep(const void *x) { step(x, trainingLabels); }
static float *scratch[11];
static void runProducts(const void *x) { products(x, scratch); }

int main(int argc, char **argv) {
    const int threads = argc > 1 ? atoi(argv[1]) : 1;
    const double seconds = argc > 2 ? atof(argv[2]) : 1;
    separateUpdate = argc > 3 && strcmp(argv[3], "separate") == 0;
    if (threads < 1 || (argc > 3 && !separateUpdate)) {
        fprintf(stderr, "usage: step_floor THREADS [SECONDS] [separate]\n");
        return 2;
    }
    // Freed buffers stay with the process, as `backprop` keeps them (AllocatorTuning).
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    openblas_set_num_threads(threads);
    omp_set_num_threads(threads);
    unsigned state = 2;
    for (int l = 0; l < LAYERS; l++) {
        const long count = (long)inputs[l] * outputs[l];
        weight[l] = malloc(sizeof(float) * count);
        bias[l] = calloc(outputs[l], sizeof(float));
        const float scale = sqrtf(2.0f / inputs[l]);   // He initialisation, uniform of the same variance
        for (long i = 0; i < count; i++) weight[l][i] = scale * 1.7320508f * (2.0f * (state = state * 1664525u + 1013904223u) / 4294967296.0f - 1.0f);
    }
    float *x = malloc(sizeof(float) * BATCH * 784);
    static int labels[BATCH];
    for (int i = 0; i < BATCH * 784; i++) x[i] = 2.0f * (state = state * 1664525u + 1013904223u) / 4294967296.0f - 1.0f;
    for (int i = 0; i < BATCH; i++) labels[i] = ((state = state * 1664525u + 1013904223u) >> 16) % 10;
    trainingLabels = labels;
    scratch[8] = calloc(BATCH * 512, sizeof(float));
    scratch[9] = calloc(BATCH * 512, sizeof(float));
    scratch[10] = calloc(BATCH * 10, sizeof(float));
    scratch[5] = calloc(10 * 512, sizeof(float));
    scratch[6] = calloc(512 * 512, sizeof(float));
    scratch[7] = calloc(512 * 784, sizeof(float));
    const double stepMs = medianMilliseconds(runStep, x, seconds);
    const double productsMs = medianMilliseconds(runProducts, x, seconds);
    printf("{\"workload\": \"mlp-step\", \"shape\": \"784-512-512-10 b128\", \"threads\": %d, "
           "\"backend\": \"%s\", \"median_ms\": %.4f, \"gemms_ms\": %.4f}\n", threads,
           separateUpdate ? "c-openblas-floor-separate-update" : "c-openblas-floor", stepMs, productsMs);
    return 0;
}
