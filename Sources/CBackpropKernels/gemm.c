// The GEMM micro-kernels for AVX2 and AVX-512 (see impl/gemm_tile.h and GemmMicroKernel.swift).
//
// Within one scalar type every tile computes each entry of C with the same operations in the
// same order (fused multiply-adds in increasing p, then one add to C), whatever its shape: the
// AVX2 and AVX-512 kernels give the same result bit for bit as long as the K blocking is the
// same (it is: KC depends on the scalar type only).
#include "CBackpropDispatch.h"

#if defined(__x86_64__)
#pragma clang fp contract(off)

#define AVX2_TARGET __attribute__((target("avx2,fma")))
#define AVX512_TARGET __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma")))

/// Float 4×24 on AVX2. The generic tile's code for this shape needs all 16 vector registers
/// (12 accumulators, 3 B vectors, 1 broadcast), and the compiler's instruction scheduler, by
/// starting a broadcast before the previous row's last FMA, needs a 17th: one accumulator went
/// to the stack and back on every step, a store-to-load round trip in its dependency chain.
/// The loop is therefore written out in assembly, with the generic tile's operations in the
/// same order (same result, bit for bit).
AVX2_TARGET void backprop_sgemm_tile_avx2(long kc, const float *a, const float *b, float *c, long ldc, int accumulate) {
    typedef float V __attribute__((ext_vector_type(8)));
    typedef float VU __attribute__((ext_vector_type(8), aligned(4)));
    V c00 = (V)0, c01 = (V)0, c02 = (V)0, c10 = (V)0, c11 = (V)0, c12 = (V)0;
    V c20 = (V)0, c21 = (V)0, c22 = (V)0, c30 = (V)0, c31 = (V)0, c32 = (V)0;
    // C is read at the end: ask for its lines now (as the generic tile does).
    if (accumulate) {
        for (int r = 0; r < 4; r++) {
            __builtin_prefetch(c + r * ldc, 1, 3);
            __builtin_prefetch(c + r * ldc + 23, 1, 3);
        }
    }
    if (kc > 0) {
        __asm__ volatile(
            "1:\n\t"
            "vmovups (%[b]), %%ymm12\n\t"
            "vmovups 32(%[b]), %%ymm13\n\t"
            "vmovups 64(%[b]), %%ymm14\n\t"
            "vbroadcastss (%[a]), %%ymm15\n\t"
            "vfmadd231ps %%ymm12, %%ymm15, %[c00]\n\t"
            "vfmadd231ps %%ymm13, %%ymm15, %[c01]\n\t"
            "vfmadd231ps %%ymm14, %%ymm15, %[c02]\n\t"
            "vbroadcastss 4(%[a]), %%ymm15\n\t"
            "vfmadd231ps %%ymm12, %%ymm15, %[c10]\n\t"
            "vfmadd231ps %%ymm13, %%ymm15, %[c11]\n\t"
            "vfmadd231ps %%ymm14, %%ymm15, %[c12]\n\t"
            "vbroadcastss 8(%[a]), %%ymm15\n\t"
            "vfmadd231ps %%ymm12, %%ymm15, %[c20]\n\t"
            "vfmadd231ps %%ymm13, %%ymm15, %[c21]\n\t"
            "vfmadd231ps %%ymm14, %%ymm15, %[c22]\n\t"
            "vbroadcastss 12(%[a]), %%ymm15\n\t"
            "vfmadd231ps %%ymm12, %%ymm15, %[c30]\n\t"
            "vfmadd231ps %%ymm13, %%ymm15, %[c31]\n\t"
            "vfmadd231ps %%ymm14, %%ymm15, %[c32]\n\t"
            "addq $16, %[a]\n\t"
            "addq $96, %[b]\n\t"
            "decq %[k]\n\t"
            "jnz 1b\n\t"
            : [c00] "+x"(c00), [c01] "+x"(c01), [c02] "+x"(c02), [c10] "+x"(c10), [c11] "+x"(c11),
              [c12] "+x"(c12), [c20] "+x"(c20), [c21] "+x"(c21), [c22] "+x"(c22), [c30] "+x"(c30),
              [c31] "+x"(c31), [c32] "+x"(c32), [a] "+r"(a), [b] "+r"(b), [k] "+r"(kc)
            :
            : "xmm12", "xmm13", "xmm14", "xmm15", "cc", "memory");
    }
    V rows[4][3] = {{c00, c01, c02}, {c10, c11, c12}, {c20, c21, c22}, {c30, c31, c32}};
    for (int r = 0; r < 4; r++) {
        float *row = c + r * ldc;
        for (int v = 0; v < 3; v++) {
            V x = rows[r][v];
            if (accumulate) x = *(const VU *)(row + v * 8) + x;
            *(VU *)(row + v * 8) = x;
        }
    }
}

#define TILE_TARGET AVX2_TARGET
#define TILE_NAME backprop_dgemm_tile_avx2
#define TILE_T double
#define TILE_W 4
#define TILE_MR 6
#define TILE_NV 2
#include "impl/gemm_tile.h"

#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wpsabi"
#define TILE_NAME backprop_sgemm_tile_avx512_on_avx2
#define TILE_T float
#define TILE_W 16
#define TILE_MR 8
#define TILE_NV 3
#include "impl/gemm_tile.h"

#define TILE_NAME backprop_dgemm_tile_avx512_on_avx2
#define TILE_T double
#define TILE_W 8
#define TILE_MR 8
#define TILE_NV 3
#include "impl/gemm_tile.h"
#pragma clang diagnostic pop
#undef TILE_TARGET

#define TILE_TARGET AVX512_TARGET
#define TILE_NAME backprop_sgemm_tile_avx512
#define TILE_T float
#define TILE_W 16
#define TILE_MR 8
#define TILE_NV 3
#include "impl/gemm_tile.h"

#define TILE_NAME backprop_dgemm_tile_avx512
#define TILE_T double
#define TILE_W 8
#define TILE_MR 8
#define TILE_NV 3
#include "impl/gemm_tile.h"
#undef TILE_TARGET

#else

// Not x86-64: never called (backprop_cpu_isa returns the baseline), defined so the module links.
#define NO_TILE(name, T) \
    void name(long kc, const T *a, const T *b, T *c, long ldc, int accumulate) { \
        (void)kc; (void)a; (void)b; (void)c; (void)ldc; (void)accumulate; __builtin_trap(); }
NO_TILE(backprop_sgemm_tile_avx2, float)
NO_TILE(backprop_dgemm_tile_avx2, double)
NO_TILE(backprop_sgemm_tile_avx512, float)
NO_TILE(backprop_dgemm_tile_avx512, double)
NO_TILE(backprop_sgemm_tile_avx512_on_avx2, float)
NO_TILE(backprop_dgemm_tile_avx512_on_avx2, double)

#endif
