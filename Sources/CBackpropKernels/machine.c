// Machine limits: a multiply-add loop at the core's peak rate, and STREAM's triad.
#include "CBackpropDispatch.h"

#pragma clang fp contract(off)

/// Twelve chains of `acc = STEP` on W-lane vectors. The empty assembly statement takes each
/// accumulator as an operand (in a register of class REG), so the compiler must compute every
/// step and cannot fold the loop away; it emits no instruction.
#define CHAINS(NAME, TARGET, W, REG, STEP)                                                     \
    TARGET static double NAME(long iterations) {                                             \
        typedef float V __attribute__((ext_vector_type(W)));                                 \
        V acc[12];                                                                           \
        for (int c = 0; c < 12; c++) acc[c] = (V)(1.0f + 0.001f * (float)c);                 \
        const V x = (V)0.999999f, y = (V)0.000001f;                                          \
        for (long i = 0; i < iterations; i++) {                                              \
            for (int c = 0; c < 12; c++) {                                                   \
                acc[c] = STEP;                                                               \
                __asm__ volatile("" : "+" REG(acc[c]));                                      \
            }                                                                                \
        }                                                                                    \
        return 2.0 * W * 12.0 * (double)iterations;                                          \
    }

CHAINS(chains_baseline, , 4, "x", acc[c] * x + y)

#define TRIAD(NAME, TARGET)                                                                    \
    TARGET static void NAME(double *a, const double *b, const double *c, double s, long n) {   \
        for (long i = 0; i < n; i++) a[i] = b[i] + s * c[i];                                 \
    }

TRIAD(triad_baseline, )

#if defined(__x86_64__)
CHAINS(chains_avx2, __attribute__((target("avx2,fma"))), 8, "x", __builtin_elementwise_fma(acc[c], x, y))
CHAINS(chains_avx512, __attribute__((target("avx512f,avx2,fma"))), 16, "v", __builtin_elementwise_fma(acc[c], x, y))
TRIAD(triad_avx2, __attribute__((target("avx2,fma"))))
TRIAD(triad_avx512, __attribute__((target("avx512f,avx2,fma"))))
#endif

double backprop_multiply_add_chains(int isa, long iterations) {
#if defined(__x86_64__)
    if (isa == BACKPROP_ISA_AVX512) return chains_avx512(iterations);
    if (isa == BACKPROP_ISA_AVX2) return chains_avx2(iterations);
#endif
    (void)isa;
    return chains_baseline(iterations);
}

void backprop_triad(double *a, const double *b, const double *c, double s, long n, int isa) {
#if defined(__x86_64__)
    if (isa == BACKPROP_ISA_AVX512) { triad_avx512(a, b, c, s, n); return; }
    if (isa == BACKPROP_ISA_AVX2) { triad_avx2(a, b, c, s, n); return; }
#endif
    (void)isa;
    triad_baseline(a, b, c, s, n);
}
