// Cache controls the Swift standard library does not expose, for Backprop's row kernels:
// software prefetch and non-temporal ("streaming") stores.
//
// Header-only `static inline` functions: Swift imports them through the Clang importer and
// inlines them like its own code, and the module builds with no flags on any CPU. Where a CPU
// has no prefetch instruction `__builtin_prefetch` compiles to nothing; a streaming store is an
// ordinary store where the CPU has no non-temporal form.
#ifndef BACKPROP_C_KERNELS_H
#define BACKPROP_C_KERNELS_H

/// Eight floats, imported into Swift as `SIMD8<Float>`.
typedef float backprop_float8 __attribute__((ext_vector_type(8)));

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

#endif
