// GEMM operand packing for the AVX2 and AVX-512 Float kernels (see GemmPacking.swift, which
// packs for the Swift kernels): the same layout, moved in 256-bit vectors, with 8×8 (or 4×8)
// register transposes where the operand is stored the other way round.
#include "CBackpropDispatch.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#define AVX2 __attribute__((target("avx2,fma")))
#define AVX2_INLINE static inline __attribute__((always_inline)) AVX2

/// Copies `width` floats (a multiple of 4) from src to dst.
AVX2_INLINE void copy_piece(const float *src, float *dst, long width) {
    long j = 0;
    for (; j + 8 <= width; j += 8) _mm256_storeu_ps(dst + j, _mm256_loadu_ps(src + j));
    if (j < width) _mm_storeu_ps(dst + j, _mm_loadu_ps(src + j));
}

/// Contiguous pieces: op[i][p] = x[p·ld + i]. dst[panel·W·depth + p·W + r] = x[p·ld + panel·W + r].
/// In bands of eight storage rows, each band's pieces of every panel (as GemmPacking.packRows).
AVX2 static void pack_contiguous(long count, long depth, long width, const float *x, long ld, float *dst) {
    const long fullPanels = count / width, rest = count - fullPanels * width;
    const long panelStride = width * depth;
    for (long p0 = 0; p0 < depth; p0 += 8) {
        const long p1 = p0 + 8 < depth ? p0 + 8 : depth;
        for (long panel = 0; panel < fullPanels; panel++) {
            const float *src = x + panel * width;
            float *out = dst + panel * panelStride;
            if ((width & 3) == 0) {
                for (long p = p0; p < p1; p++) copy_piece(src + p * ld, out + p * width, width);
            } else {
                for (long p = p0; p < p1; p++) memcpy(out + p * width, src + p * ld, (size_t)width * sizeof(float));
            }
        }
        if (rest > 0) {
            const float *src = x + fullPanels * width;
            float *out = dst + fullPanels * panelStride;
            for (long p = p0; p < p1; p++) {
                for (long j = 0; j < rest; j++) out[p * width + j] = src[p * ld + j];
                for (long j = rest; j < width; j++) out[p * width + j] = 0;
            }
        }
    }
}

/// Eight rows of eight floats (rows `ld` apart) into eight columns: dst[q·stride .. +8] holds
/// element q of each row.
AVX2_INLINE void transpose_8x8(const float *x, long ld, float *dst, long stride) {
    const __m256 r0 = _mm256_loadu_ps(x), r1 = _mm256_loadu_ps(x + ld);
    const __m256 r2 = _mm256_loadu_ps(x + 2 * ld), r3 = _mm256_loadu_ps(x + 3 * ld);
    const __m256 r4 = _mm256_loadu_ps(x + 4 * ld), r5 = _mm256_loadu_ps(x + 5 * ld);
    const __m256 r6 = _mm256_loadu_ps(x + 6 * ld), r7 = _mm256_loadu_ps(x + 7 * ld);
    const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    const __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    const __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    const __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    const __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    _mm256_storeu_ps(dst, _mm256_permute2f128_ps(s0, s4, 0x20));
    _mm256_storeu_ps(dst + stride, _mm256_permute2f128_ps(s1, s5, 0x20));
    _mm256_storeu_ps(dst + 2 * stride, _mm256_permute2f128_ps(s2, s6, 0x20));
    _mm256_storeu_ps(dst + 3 * stride, _mm256_permute2f128_ps(s3, s7, 0x20));
    _mm256_storeu_ps(dst + 4 * stride, _mm256_permute2f128_ps(s0, s4, 0x31));
    _mm256_storeu_ps(dst + 5 * stride, _mm256_permute2f128_ps(s1, s5, 0x31));
    _mm256_storeu_ps(dst + 6 * stride, _mm256_permute2f128_ps(s2, s6, 0x31));
    _mm256_storeu_ps(dst + 7 * stride, _mm256_permute2f128_ps(s3, s7, 0x31));
}

/// Four rows of eight floats into a panel of width 4: dst[q·4 .. +4] holds element q of each
/// row, for q < 8 (32 consecutive floats).
AVX2_INLINE void transpose_4x8(const float *x, long ld, float *dst) {
    const __m256 r0 = _mm256_loadu_ps(x), r1 = _mm256_loadu_ps(x + ld);
    const __m256 r2 = _mm256_loadu_ps(x + 2 * ld), r3 = _mm256_loadu_ps(x + 3 * ld);
    const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    _mm256_storeu_ps(dst, _mm256_permute2f128_ps(s0, s1, 0x20));
    _mm256_storeu_ps(dst + 8, _mm256_permute2f128_ps(s2, s3, 0x20));
    _mm256_storeu_ps(dst + 16, _mm256_permute2f128_ps(s0, s1, 0x31));
    _mm256_storeu_ps(dst + 24, _mm256_permute2f128_ps(s2, s3, 0x31));
}

/// Strided rows: op[i][p] = x[i·ld + p]. dst[panel·W·depth + p·W + r] = x[(panel·W + r)·ld + p].
AVX2 static void pack_strided(long count, long depth, long width, const float *x, long ld, float *dst) {
    const long depth8 = depth & ~7L;
    for (long i0 = 0; i0 < count; i0 += width) {
        const long height = count - i0 < width ? count - i0 : width;
        float *out = dst + i0 * depth;
        const float *src = x + i0 * ld;
        if (height == width && (width == 4 || (width & 7) == 0)) {
            if (width == 4) {
                for (long p = 0; p < depth8; p += 8) transpose_4x8(src + p, ld, out + p * 4);
            } else {
                for (long r = 0; r < width; r += 8) {
                    for (long p = 0; p < depth8; p += 8) transpose_8x8(src + r * ld + p, ld, out + p * width + r, width);
                }
            }
            for (long r = 0; r < width; r++) {
                for (long p = depth8; p < depth; p++) out[p * width + r] = src[r * ld + p];
            }
        } else {
            for (long r = 0; r < height; r++) {
                for (long p = 0; p < depth; p++) out[p * width + r] = src[r * ld + p];
            }
            for (long p = 0; p < depth; p++) {
                for (long r = height; r < width; r++) out[p * width + r] = 0;
            }
        }
    }
}

void backprop_pack_f32_avx2(int contiguous, long count, long depth, long width, const float *x, long ld, float *dst) {
    if (contiguous) {
        pack_contiguous(count, depth, width, x, ld, dst);
    } else {
        pack_strided(count, depth, width, x, ld, dst);
    }
}

#else

void backprop_pack_f32_avx2(int contiguous, long count, long depth, long width, const float *x, long ld, float *dst) {
    (void)contiguous; (void)count; (void)depth; (void)width; (void)x; (void)ld; (void)dst;
    __builtin_trap();
}

#endif
