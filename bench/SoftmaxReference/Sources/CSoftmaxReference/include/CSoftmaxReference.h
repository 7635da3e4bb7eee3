// The softmax workload (BENCHMARKS.md) written by hand with AVX2/FMA intrinsics: the same
// passes and the same exponential as Backprop's row kernels, with 64-byte-aligned buffers.
#ifndef C_SOFTMAX_REFERENCE_H
#define C_SOFTMAX_REFERENCE_H

/// y = softmax(beta·x) along rows of `columns` floats (a multiple of 8): a max pass, an
/// exponential pass that prefetches the next row, and a scaling pass, per row.
void reference_softmax(const float *x, float *y, long rows, long columns, float beta);

/// reference_softmax with y written in streaming stores (the row computed into an L1 scratch
/// first; a 64-byte line split between two rows is stored once both halves are known).
void reference_softmax_streamed(const float *x, float *y, long rows, long columns, float beta);

/// out = beta·y ⊙ (g − ⟨g, y⟩) per row: a dot pass, then an output pass in streaming stores
/// that prefetches the next rows. `out` must be 32-byte aligned.
void reference_softmax_vjp(const float *g, const float *y, float *out, long rows, long columns, float beta);

#endif
