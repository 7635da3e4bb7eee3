// One GEMM micro-kernel, instantiated by gemm.c for each instruction set and tile shape.
//
// Parameters (macros): TILE_NAME, TILE_TARGET (a target attribute), TILE_T (float or double),
// TILE_W (lanes per vector), TILE_MR (rows), TILE_NV (vectors per row: NR = TILE_NV·TILE_W).
//
// acc[r][v] holds C[r, v·W ..< (v+1)·W]; each step of p broadcasts a[p·MR + r] and adds its
// product with the B micro-panel's row p in one fused multiply-add. The loops over r and v
// have constant bounds: the compiler unrolls them and keeps acc in registers.

TILE_TARGET void TILE_NAME(long kc, const TILE_T *a, const TILE_T *b, TILE_T *c, long ldc, int accumulate) {
    typedef TILE_T V __attribute__((ext_vector_type(TILE_W)));
    typedef TILE_T VU __attribute__((ext_vector_type(TILE_W), aligned(sizeof(TILE_T))));
    V acc[TILE_MR][TILE_NV];
    for (int r = 0; r < TILE_MR; r++) {
        for (int v = 0; v < TILE_NV; v++) acc[r][v] = (V)0;
    }
    // C is read at the end: ask for its lines now, so the loop over p hides their latency (a
    // weight updated in place is rarely in cache). Results do not depend on it.
    if (accumulate) {
        for (int r = 0; r < TILE_MR; r++) {
            __builtin_prefetch(c + r * ldc, 1, 3);
            __builtin_prefetch(c + r * ldc + TILE_NV * TILE_W - 1, 1, 3);
        }
    }
    for (long p = 0; p < kc; p++) {
        V bv[TILE_NV];
        for (int v = 0; v < TILE_NV; v++) bv[v] = *(const VU *)(b + v * TILE_W);
        for (int r = 0; r < TILE_MR; r++) {
            const V ar = (V)a[r];
            for (int v = 0; v < TILE_NV; v++) acc[r][v] = __builtin_elementwise_fma(ar, bv[v], acc[r][v]);
        }
        a += TILE_MR;
        b += TILE_NV * TILE_W;
    }
    for (int r = 0; r < TILE_MR; r++) {
        TILE_T *row = c + r * ldc;
        for (int v = 0; v < TILE_NV; v++) {
            V x = acc[r][v];
            if (accumulate) x = *(const VU *)(row + v * TILE_W) + x;
            *(VU *)(row + v * TILE_W) = x;
        }
    }
}

#undef TILE_NAME
#undef TILE_T
#undef TILE_W
#undef TILE_MR
#undef TILE_NV
