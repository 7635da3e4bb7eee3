// Which instruction set the CPU and its operating system support: CPUID and XCR0.
#include "CBackpropDispatch.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <stdio.h>
#include <string.h>

/// The OS-enabled register state (XGETBV with ECX = 0). Only valid when CPUID says OSXSAVE.
static unsigned long long xcr0(void) {
    unsigned int eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

int backprop_cpu_isa(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return BACKPROP_ISA_BASELINE;
    const int fma = (ecx >> 12) & 1, osxsave = (ecx >> 27) & 1, avx = (ecx >> 28) & 1;
    if (!(fma && osxsave && avx)) return BACKPROP_ISA_BASELINE;
    const unsigned long long state = xcr0();
    // XMM (bit 1) and YMM (bit 2) state saved by the OS.
    if ((state & 0x6) != 0x6) return BACKPROP_ISA_BASELINE;
    if (__get_cpuid_max(0, 0) < 7) return BACKPROP_ISA_BASELINE;
    __cpuid_count(7, 0, eax, ebx, ecx, edx);
    const int avx2 = (ebx >> 5) & 1;
    if (!avx2) return BACKPROP_ISA_BASELINE;
    const int avx512f = (ebx >> 16) & 1, avx512dq = (ebx >> 17) & 1;
    const int avx512bw = (ebx >> 30) & 1, avx512vl = (ebx >> 31) & 1;
    // Opmask (bit 5), upper halves of ZMM0–15 (bit 6) and ZMM16–31 (bit 7) saved by the OS.
    if (avx512f && avx512dq && avx512bw && avx512vl && (state & 0xE0) == 0xE0) return BACKPROP_ISA_AVX512;
    return BACKPROP_ISA_AVX2;
}

void backprop_cpu_description(char *buffer, long size) {
    if (size <= 0) return;
    buffer[0] = 0;
    unsigned int regs[12] = {0};
    unsigned int eax, ebx, ecx, edx;
    char brand[49] = {0};
    if (__get_cpuid_max(0x80000000, 0) >= 0x80000004) {
        for (unsigned int i = 0; i < 3; i++) {
            __cpuid(0x80000002 + i, regs[4 * i], regs[4 * i + 1], regs[4 * i + 2], regs[4 * i + 3]);
        }
        memcpy(brand, regs, 48);
    }
    // Trim the padding some CPUs put around the brand string.
    char *start = brand;
    while (*start == ' ') start++;
    long length = (long)strlen(start);
    while (length > 0 && start[length - 1] == ' ') start[--length] = 0;
    unsigned int family = 0, model = 0;
    if (__get_cpuid(1, &eax, &ebx, &ecx, &edx)) {
        const unsigned int baseFamily = (eax >> 8) & 0xF, baseModel = (eax >> 4) & 0xF;
        family = baseFamily == 0xF ? baseFamily + ((eax >> 20) & 0xFF) : baseFamily;
        model = (baseFamily == 0x6 || baseFamily == 0xF) ? baseModel + (((eax >> 16) & 0xF) << 4) : baseModel;
    }
    char text[96];
    int written = snprintf(text, sizeof text, "%s (family %u, model %u)", start, family, model);
    if (written < 0) return;
    long n = (long)strlen(text);
    if (n >= size) n = size - 1;
    memcpy(buffer, text, (size_t)n);
    buffer[n] = 0;
}

#else

int backprop_cpu_isa(void) { return BACKPROP_ISA_BASELINE; }

void backprop_cpu_description(char *buffer, long size) {
    if (size > 0) buffer[0] = 0;
}

#endif
