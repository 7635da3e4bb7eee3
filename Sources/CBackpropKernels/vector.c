// The Float row, elementwise, reduction and optimizer kernels for AVX2 and AVX-512 (see
// impl/vector_kernels.h), their table, and the machine measurements `backprop bench` reports.
#include "CBackpropDispatch.h"

#if defined(__x86_64__)
#pragma clang fp contract(off)

#define VK_SUFFIX avx2
#define VK_TARGET __attribute__((target("avx2,fma")))
#define VK_W 8
#include "impl/vector_kernels.h"

#define VK_SUFFIX avx512
#define VK_TARGET __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma")))
#define VK_W 16
#include "impl/vector_kernels.h"

// 16-lane vectors on AVX2 pass through always-inlined helpers, never through a call: the ABI
// warning about passing them does not apply.
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wpsabi"
#define VK_SUFFIX avx512_on_avx2
#define VK_TARGET __attribute__((target("avx2,fma")))
#define VK_W 16
#include "impl/vector_kernels.h"
#pragma clang diagnostic pop

const backprop_kernels *backprop_kernels_for(int isa) {
    switch (isa) {
    case BACKPROP_ISA_AVX2: return &table_avx2;
    case BACKPROP_ISA_AVX512: return &table_avx512;
    case BACKPROP_ISA_AVX512_ON_AVX2: return &table_avx512_on_avx2;
    default: return 0;
    }
}

#else

const backprop_kernels *backprop_kernels_for(int isa) {
    (void)isa;
    return 0;
}

#endif
