#include "CSoftmaxReference.h"
#include <immintrin.h>
#include <math.h>

#define SPLAT(v) _mm256_set1_ps(v)

// e^x for x <= 0: the Cody-Waite reduction and degree-7 polynomial of Backprop's VectorExp.
static inline __m256 exp_nonpositive(__m256 x) {
    __m256 lower = SPLAT(-87.3f), keep = _mm256_cmp_ps(x, lower, _CMP_NLT_US);
    __m256 xc = _mm256_max_ps(x, lower), magic = SPLAT(12582912.f);
    __m256 t = _mm256_fmadd_ps(xc, SPLAT(1.4426950408889634f), magic);
    __m256 n = _mm256_sub_ps(t, magic);
    __m256 r = _mm256_fmadd_ps(n, SPLAT(2.1219444e-4f), _mm256_fmadd_ps(n, SPLAT(-0.693359375f), xc));
    __m256 p = SPLAT(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, SPLAT(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, SPLAT(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, SPLAT(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, SPLAT(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, SPLAT(5.0000001201e-1f));
    p = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), SPLAT(1));
    __m256i bits = _mm256_sub_epi32(_mm256_castps_si256(t), _mm256_set1_epi32(0x4B400000));
    __m256 scale = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(bits, _mm256_set1_epi32(127)), 23));
    return _mm256_and_ps(_mm256_mul_ps(p, scale), keep);
}

static inline float sum8(__m256 v) {
    __m128 a = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    a = _mm_hadd_ps(a, a);
    return _mm_cvtss_f32(_mm_hadd_ps(a, a));
}

static inline float max8(__m256 v) {
    __m128 a = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    a = _mm_max_ps(a, _mm_shuffle_ps(a, a, 0x4e));
    return _mm_cvtss_f32(_mm_max_ps(a, _mm_shuffle_ps(a, a, 0xb1)));
}

// max_i beta·x_i over a row, then e_i = exp(beta·x_i − max) into `e` (which may be the output
// row), prefetching the next row of x and, when given, the next row of the output. Returns Σ e_i.
static inline float row_exponentials(const float *xr, float *e, long columns, float beta,
                                     const float *nextX, const float *nextY) {
    __m256 vm = SPLAT(-INFINITY);
    for (long i = 0; i < columns; i += 8) vm = _mm256_max_ps(vm, _mm256_mul_ps(_mm256_loadu_ps(xr + i), SPLAT(beta)));
    float m = max8(vm);
    __m256 vs = _mm256_setzero_ps();
    for (long i = 0; i < columns; i += 8) {
        if (nextX) _mm_prefetch((const char *)(nextX + i), _MM_HINT_T0);
        if (nextY) _mm_prefetch((const char *)(nextY + i), _MM_HINT_T0);
        __m256 v = exp_nonpositive(_mm256_fmadd_ps(_mm256_loadu_ps(xr + i), SPLAT(beta), SPLAT(-m)));
        _mm256_storeu_ps(e + i, v);
        vs = _mm256_add_ps(vs, v);
    }
    return sum8(vs);
}

void reference_softmax(const float *x, float *y, long rows, long columns, float beta) {
    for (long r = 0; r < rows; r++) {
        const float *xr = x + r * columns;
        float *yr = y + r * columns;
        int next = r + 1 < rows;
        float s = row_exponentials(xr, yr, columns, beta, next ? xr + columns : 0, next ? yr + columns : 0);
        __m256 inverse = SPLAT(1 / s);
        for (long i = 0; i < columns; i += 8) _mm256_storeu_ps(yr + i, _mm256_mul_ps(_mm256_loadu_ps(yr + i), inverse));
    }
}

void reference_softmax_streamed(const float *x, float *y, long rows, long columns, float beta) {
    float scratch[columns] __attribute__((aligned(64)));
    __m256 pending = _mm256_setzero_ps();
    float *pendingAt = 0;
    for (long r = 0; r < rows; r++) {
        const float *xr = x + r * columns;
        float *yr = y + r * columns;
        float s = row_exponentials(xr, scratch, columns, beta, r + 1 < rows ? xr + columns : 0, 0);
        __m256 inverse = SPLAT(1 / s);
        long i = 0;
        // y + r*columns is 32-byte aligned (columns % 8 == 0); a line split between rows waits.
        if (pendingAt) {
            _mm256_stream_ps(pendingAt, pending);
            _mm256_stream_ps(yr, _mm256_mul_ps(_mm256_load_ps(scratch), inverse));
            i = 8; pendingAt = 0;
        }
        long end = columns;
        if (((unsigned long)(yr + columns) & 63) != 0) end = columns - 8;
        for (; i < end; i += 8) _mm256_stream_ps(yr + i, _mm256_mul_ps(_mm256_load_ps(scratch + i), inverse));
        if (end < columns) { pending = _mm256_mul_ps(_mm256_load_ps(scratch + end), inverse); pendingAt = yr + end; }
    }
    if (pendingAt) _mm256_stream_ps(pendingAt, pending);
    _mm_sfence();
}

void reference_softmax_vjp(const float *g, const float *y, float *out, long rows, long columns, float beta) {
    for (long r = 0; r < rows; r++) {
        const float *gr = g + r * columns, *yr = y + r * columns;
        float *o = out + r * columns;
        int next = r + 1 < rows;
        __m256 d0 = _mm256_setzero_ps(), d1 = _mm256_setzero_ps();
        long i = 0;
        for (; i + 16 <= columns; i += 16) {
            d0 = _mm256_fmadd_ps(_mm256_loadu_ps(gr + i), _mm256_loadu_ps(yr + i), d0);
            d1 = _mm256_fmadd_ps(_mm256_loadu_ps(gr + i + 8), _mm256_loadu_ps(yr + i + 8), d1);
        }
        for (; i < columns; i += 8) d0 = _mm256_fmadd_ps(_mm256_loadu_ps(gr + i), _mm256_loadu_ps(yr + i), d0);
        __m256 vd = SPLAT(sum8(_mm256_add_ps(d0, d1))), vb = SPLAT(beta);
        for (i = 0; i < columns; i += 8) {
            if (next) {
                _mm_prefetch((const char *)(gr + columns + i), _MM_HINT_T0);
                _mm_prefetch((const char *)(yr + columns + i), _MM_HINT_T0);
            }
            __m256 v = _mm256_mul_ps(_mm256_mul_ps(vb, _mm256_loadu_ps(yr + i)), _mm256_sub_ps(_mm256_loadu_ps(gr + i), vd));
            _mm256_stream_ps(o + i, v);
        }
    }
    _mm_sfence();
}
