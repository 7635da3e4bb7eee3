// What the Swift standard library does not expose, for Backprop's kernels: software prefetch,
// non-temporal ("streaming") stores, and vector shuffles (a 4×4 transpose for GEMM packing);
// and, in CBackpropDispatch.h, the kernels compiled for AVX2 and AVX-512 with the CPU test that
// picks them.
//
// The helpers below are `static inline` functions: Swift imports them through the Clang
// importer and inlines them like its own code, and the module builds with no flags on any CPU. Where a CPU
// has no prefetch instruction `__builtin_prefetch` compiles to nothing; a streaming store is an
// ordinary store where the CPU has no non-temporal form.
#ifndef BACKPROP_C_KERNELS_H
#define BACKPROP_C_KERNELS_H

#include "CBackpropDispatch.h"

/// Eight floats, imported into Swift as `SIMD8<Float>`.
typedef float backprop_float8 __attribute__((ext_vector_type(8)));

/// Four floats at any 4-byte-aligned address.
typedef float backprop_float4_unaligned __attribute__((ext_vector_type(4), aligned(4)));

/// Transposes a 4×4 block of floats: `destination[j·destinationStride + i] =
/// source[i·sourceStride + j]` for i, j < 4 (strides in floats). Four vector loads, eight
/// shuffles and four vector stores, instead of sixteen scalar loads and stores.
static inline __attribute__((always_inline)) void backprop_transpose_4x4(
    const float *source, long sourceStride, float *destination, long destinationStride) {
    backprop_float4_unaligned a = *(const backprop_float4_unaligned *)source;
    backprop_float4_unaligned b = *(const backprop_float4_unaligned *)(source + sourceStride);
    backprop_float4_unaligned c = *(const backprop_float4_unaligned *)(source + 2 * sourceStride);
    backprop_float4_unaligned d = *(const backprop_float4_unaligned *)(source + 3 * sourceStride);
    backprop_float4_unaligned ab01 = __builtin_shufflevector(a, b, 0, 4, 1, 5);
    backprop_float4_unaligned ab23 = __builtin_shufflevector(a, b, 2, 6, 3, 7);
    backprop_float4_unaligned cd01 = __builtin_shufflevector(c, d, 0, 4, 1, 5);
    backprop_float4_unaligned cd23 = __builtin_shufflevector(c, d, 2, 6, 3, 7);
    *(backprop_float4_unaligned *)destination = __builtin_shufflevector(ab01, cd01, 0, 1, 4, 5);
    *(backprop_float4_unaligned *)(destination + destinationStride) = __builtin_shufflevector(ab01, cd01, 2, 3, 6, 7);
    *(backprop_float4_unaligned *)(destination + 2 * destinationStride) = __builtin_shufflevector(ab23, cd23, 0, 1, 4, 5);
    *(backprop_float4_unaligned *)(destination + 3 * destinationStride) = __builtin_shufflevector(ab23, cd23, 2, 3, 6, 7);
}

/// Asks the caches to start loading the line holding `address`, to be read soon.
static inline __attribute__((always_inline)) void backprop_prefetch_read(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

/// Asks the caches to start loading the line holding `address`, to be written soon.
static inline __attribute__((always_inline)) void backprop_prefetch_write(void *address) {
    __builtin_prefetch(address, 1, 3);
}

/// Stores eight floats at `address` (which must be 32-byte aligned) without bringing its line
/// into the cache first: for large outputs that are not read again soon. Call
/// `backprop_streaming_fence` after the last one, before another thread reads the memory.
static inline __attribute__((always_inline)) void backprop_stream_store8(float *address, backprop_float8 value) {
    __builtin_nontemporal_store(value, (backprop_float8 *)address);
}

/// Orders earlier streaming stores before all later stores (x86 `sfence`; a release fence
/// elsewhere).
static inline __attribute__((always_inline)) void backprop_streaming_fence(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_sfence();
#else
    __atomic_thread_fence(__ATOMIC_RELEASE);
#endif
}

/// Tells the CPU the caller is spinning on a flag (x86 `pause`, ARM `yield`): the loop then
/// runs slower and leaves the core's resources to the thread that will set the flag.
static inline __attribute__((always_inline)) void backprop_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#endif
