// The Float row, elementwise, reduction and optimizer kernels, instantiated by vector.c once
// per instruction set (see CBackpropDispatch.h for what each computes).
//
// Parameters (macros): VK_SUFFIX (name suffix), VK_TARGET (a target attribute), VK_W (lanes:
// 8 or 16). Every function is written on `VK_W`-lane vectors of clang's vector extension; the
// compiler maps them onto the instruction set's registers (16 lanes on AVX2 are two registers).
//
// Floating-point contraction is off (vector.c): a multiply followed by an add stays two
// roundings unless the code asks for a fused multiply-add (`FMA`), so the elementwise, reduction
// and optimizer kernels compute exactly what the Swift kernels compute, and the exponential is
// the Swift kernels' fused form. A partial last vector is computed as a whole one on zero-padded
// lanes (`load_partial`) and only its valid lanes are stored, so every element gets the same
// arithmetic wherever a range starts or ends.

#define VK_CAT2(a, b) a##_##b
#define VK_CAT(a, b) VK_CAT2(a, b)
#define VK(name) VK_CAT(name, VK_SUFFIX)
#define VK_INLINE static inline __attribute__((always_inline)) VK_TARGET
#define FMA __builtin_elementwise_fma

typedef float VK(vf) __attribute__((ext_vector_type(VK_W)));
typedef float VK(vfu) __attribute__((ext_vector_type(VK_W), aligned(4)));
typedef int VK(vi) __attribute__((ext_vector_type(VK_W)));
#define VF VK(vf)
#define VFU VK(vfu)
#define VI VK(vi)

VK_INLINE VF VK(load)(const float *p) { return *(const VFU *)p; }
VK_INLINE void VK(store)(float *p, VF v) { *(VFU *)p = v; }

/// The first `count` (< VK_W) floats at p in the low lanes, zeros above.
VK_INLINE VF VK(load_partial)(const float *p, long count) {
    float lanes[VK_W] __attribute__((aligned(64))) = {0};
    for (long l = 0; l < count; l++) lanes[l] = p[l];
    return *(const VF *)lanes;
}

/// Stores the low `count` (< VK_W) lanes of v at p.
VK_INLINE void VK(store_partial)(float *p, VF v, long count) {
    float lanes[VK_W] __attribute__((aligned(64)));
    *(VF *)lanes = v;
    for (long l = 0; l < count; l++) p[l] = lanes[l];
}

/// Lanes below `count` set (all bits), the rest clear.
VK_INLINE VI VK(lanes_below)(long count) {
    VI index;
    for (int l = 0; l < VK_W; l++) index[l] = l;
    return index < (VI)(int)count;
}

/// mask ? a : b, lane by lane (mask lanes all bits set or all clear).
VK_INLINE VF VK(select)(VI mask, VF a, VF b) {
    return (VF)(((VI)a & mask) | ((VI)b & ~mask));
}

/// Σ of the lanes, halving: lane l + lane l + W/2, and so on down to one.
VK_INLINE float VK(reduce_add)(VF v) {
#if VK_W == 16
    typedef float H8 __attribute__((ext_vector_type(8)));
    H8 h = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7) + __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
#else
    typedef float H8 __attribute__((ext_vector_type(8)));
    H8 h = v;
#endif
    typedef float H4 __attribute__((ext_vector_type(4)));
    H4 q = __builtin_shufflevector(h, h, 0, 1, 2, 3) + __builtin_shufflevector(h, h, 4, 5, 6, 7);
    float a = q[0] + q[2], b = q[1] + q[3];
    return a + b;
}

/// The largest lane (no NaN lanes: callers never let one in).
VK_INLINE float VK(reduce_max)(VF v) {
    float m = v[0];
    for (int l = 1; l < VK_W; l++) m = v[l] > m ? v[l] : m;
    return m;
}

/// e^x for x ≤ 88 (or NaN), with fused multiply-adds: Cody–Waite reduction x = n·ln 2 + r, the
/// degree-7 Cephes polynomial for e^r, 2ⁿ in the exponent bits; below −87.3 the result is 0.
/// The operations of VectorExp.expNonPositive(_:fused: true), in the same order.
VK_INLINE VF VK(exp_bounded)(VF x) {
    const VF lower = (VF)-87.3f;
    const VI below = x < lower;
    const VF xc = VK(select)(below, lower, x);
    const VF magic = (VF)12582912.0f;
    const VF t = FMA(xc, (VF)1.4426950408889634f, magic);
    const VF n = t - magic;
    const VF r = FMA(n, (VF)2.1219444e-4f, FMA(n, (VF)-0.693359375f, xc));
    VF p = (VF)1.9875691500e-4f;
    p = FMA(p, r, (VF)1.3981999507e-3f);
    p = FMA(p, r, (VF)8.3334519073e-3f);
    p = FMA(p, r, (VF)4.1665795894e-2f);
    p = FMA(p, r, (VF)1.6666665459e-1f);
    p = FMA(p, r, (VF)5.0000001201e-1f);
    p = FMA(p, r * r, r) + (VF)1.0f;
    const VI bits = (VI)t - (VI)0x4B400000;
    const VF scale = (VF)((bits + (VI)127) << 23);
    return VK(select)(below, (VF)0.0f, p * scale);
}

/// e^x over the whole float range: as exp_bounded up to ln(FLT_MAX) ≈ 88.72 (2¹²⁸ is built as
/// 2¹²⁷ with the polynomial doubled, which is exact), +∞ above it.
VK_INLINE VF VK(exp_full)(VF x) {
    const VF upper = (VF)88.72283935546875f;
    const VI above = x > upper;
    const VF xc0 = VK(select)(above, upper, x);
    const VF lower = (VF)-87.3f;
    const VI below = xc0 < lower;
    const VF xc = VK(select)(below, lower, xc0);
    const VF magic = (VF)12582912.0f;
    const VF t = FMA(xc, (VF)1.4426950408889634f, magic);
    const VF n = t - magic;
    const VF r = FMA(n, (VF)2.1219444e-4f, FMA(n, (VF)-0.693359375f, xc));
    VF p = (VF)1.9875691500e-4f;
    p = FMA(p, r, (VF)1.3981999507e-3f);
    p = FMA(p, r, (VF)8.3334519073e-3f);
    p = FMA(p, r, (VF)4.1665795894e-2f);
    p = FMA(p, r, (VF)1.6666665459e-1f);
    p = FMA(p, r, (VF)5.0000001201e-1f);
    p = FMA(p, r * r, r) + (VF)1.0f;
    VI bits = (VI)t - (VI)0x4B400000;
    const VI top = bits > (VI)127;
    bits = (bits & ~top) | ((VI)127 & top);
    p = VK(select)(top, p + p, p);
    const VF scale = (VF)((bits + (VI)127) << 23);
    VF result = VK(select)(below, (VF)0.0f, p * scale);
    return VK(select)(above, (VF)__builtin_inff(), result);
}

// ---------------------------------------------------------------------------------------------
// Softmax family

/// max_j β·x_j over a row: two running maxima over whole vectors (NaN never wins there), then
/// the rest one at a time, where a NaN does win (as RowKernels.maxScaled).
VK_INLINE float VK(max_scaled)(const float *x, long n, float beta) {
    long i = 0;
    float m = -__builtin_inff();
    if (n >= VK_W) {
        const VF b = (VF)beta;
        VF m0 = (VF)-__builtin_inff(), m1 = m0;
        for (; i + 2 * VK_W <= n; i += 2 * VK_W) {
            const VF v0 = VK(load)(x + i) * b, v1 = VK(load)(x + i + VK_W) * b;
            m0 = VK(select)(v0 > m0, v0, m0);
            m1 = VK(select)(v1 > m1, v1, m1);
        }
        m0 = VK(select)(m1 > m0, m1, m0);
        for (; i + VK_W <= n; i += VK_W) {
            const VF v = VK(load)(x + i) * b;
            m0 = VK(select)(v > m0, v, m0);
        }
        m = VK(reduce_max)(m0);
    }
    for (; i < n; i++) {
        const float v = beta * x[i];
        if (v > m || v != v) m = v;
    }
    return m;
}

/// e^{β·x_j − shift} for a row, stored in y when y is not NULL; returns their sum. With
/// `prefetch`, requests the next row of x and y (`nextX`, `nextY`) a line at a time. One vector
/// per iteration: the loop is bound by the exponential's arithmetic, not by its latency, and a
/// second vector in flight only made the compiler spill its constants.
VK_INLINE float VK(exp_shifted)(const float *x, float *y, long n, float beta, float shift, int prefetch,
                                 const float *nextX, float *nextY) {
    const VF b = (VF)beta, c = (VF)-shift;
    VF s = (VF)0.0f;
    long i = 0;
    for (; i + VK_W <= n; i += VK_W) {
        if (prefetch && (i & 15) == 0) {
            __builtin_prefetch(nextX + i, 0, 3);
            __builtin_prefetch(nextY + i, 1, 3);
        }
        const VF e = VK(exp_bounded)(FMA(VK(load)(x + i), b, c));
        if (y) VK(store)(y + i, e);
        s += e;
    }
    if (i < n) {
        const long rest = n - i;
        VF e = VK(exp_bounded)(FMA(VK(load_partial)(x + i, rest), b, c));
        e = VK(select)(VK(lanes_below)(rest), e, (VF)0.0f);
        if (y) VK(store_partial)(y + i, e, rest);
        s += e;
    }
    return VK(reduce_add)(s);
}

/// y_j = a·x_j + b (x and y may be the same row): a multiply, then an add.
VK_INLINE void VK(affine)(const float *x, float *y, long n, float a, float b) {
    const VF va = (VF)a, vb = (VF)b;
    long i = 0;
    for (; i + VK_W <= n; i += VK_W) VK(store)(y + i, VK(load)(x + i) * va + vb);
    if (i < n) VK(store_partial)(y + i, VK(load_partial)(x + i, n - i) * va + vb, n - i);
}

/// y_j = a·x_j (x and y may be the same row).
VK_INLINE void VK(scale)(const float *x, float *y, long n, float a) {
    const VF va = (VF)a;
    long i = 0;
    for (; i + VK_W <= n; i += VK_W) VK(store)(y + i, VK(load)(x + i) * va);
    if (i < n) VK(store_partial)(y + i, VK(load_partial)(x + i, n - i) * va, n - i);
}

/// The row shift max(βx), 0 for a row whose maximum is ±∞ (NaN stays NaN).
VK_INLINE float VK(row_shift)(const float *x, long n, float beta) {
    const float m = VK(max_scaled)(x, n, beta);
    return (m == __builtin_inff() || m == -__builtin_inff()) ? 0.0f : m;
}

/// Softmax or log-softmax rows with prefetching of the next row (a row's last pass runs from L1).
VK_INLINE void VK(softmax_row)(const float *x, float *y, long n, float beta, int log, int prefetch) {
    const float m = VK(row_shift)(x, n, beta);
    if (log) {
        const float s = VK(exp_shifted)(x, 0, n, beta, m, prefetch, x + n, y + n);
        VK(affine)(x, y, n, beta, -(m + __builtin_logf(s)));
    } else {
        const float s = VK(exp_shifted)(x, y, n, beta, m, prefetch, x + n, y + n);
        VK(scale)(y, y, n, 1.0f / s);
    }
}

static VK_TARGET void VK(softmax_forward)(const float *x, float *y, long rows, long n, float beta, int log) {
    for (long r = 0; r < rows; r++) {
        if (r + 1 < rows) {
            VK(softmax_row)(x + r * n, y + r * n, n, beta, log, 1);
        } else {
            VK(softmax_row)(x + r * n, y + r * n, n, beta, log, 0);
        }
    }
}

/// Σ_j a_j·b_j: two vector partial sums, multiply then add.
VK_INLINE float VK(dot)(const float *a, const float *b, long n) {
    VF s0 = (VF)0.0f, s1 = (VF)0.0f;
    long i = 0;
    for (; i + 2 * VK_W <= n; i += 2 * VK_W) {
        s0 += VK(load)(a + i) * VK(load)(b + i);
        s1 += VK(load)(a + i + VK_W) * VK(load)(b + i + VK_W);
    }
    for (; i + VK_W <= n; i += VK_W) s0 += VK(load)(a + i) * VK(load)(b + i);
    if (i < n) s1 += VK(load_partial)(a + i, n - i) * VK(load_partial)(b + i, n - i);
    return VK(reduce_add)(s0 + s1);
}

/// Σ_j a_j: two vector partial sums.
VK_INLINE float VK(sum)(const float *a, long n) {
    VF s0 = (VF)0.0f, s1 = (VF)0.0f;
    long i = 0;
    for (; i + 2 * VK_W <= n; i += 2 * VK_W) {
        s0 += VK(load)(a + i);
        s1 += VK(load)(a + i + VK_W);
    }
    for (; i + VK_W <= n; i += VK_W) s0 += VK(load)(a + i);
    if (i < n) s1 += VK(load_partial)(a + i, n - i);
    return VK(reduce_add)(s0 + s1);
}

/// The VJP's value for one vector: β·y·(g − d) (softmax), or β·(g − e^y·s) (log-softmax).
VK_INLINE VF VK(vjp)(VF g, VF y, VF vb, VF vd, int log) {
    if (log) return vb * (g - VK(exp_bounded)(y) * vd);
    return vb * y * (g - vd);
}

/// A run of output rows written with non-temporal stores, which need VK_W·4-byte alignment. A
/// row's unaligned end is kept (`pending`) until the next row's start completes the vector; the
/// two then go out as one aligned non-temporal store. (An ordinary store into a line that
/// non-temporal stores also write makes the core fetch the line, then evict it again.)
typedef struct {
    VF lanes;
    long count;
    float *at;
} VK(stream_state);

VK_INLINE void VK(stream_flush)(VK(stream_state) *s) {
    if (s->at) VK(store_partial)(s->at, s->lanes, s->count);
    s->at = 0;
    s->count = 0;
}

/// One output row of the VJP: g, y rows of n; out row; the row's d (dot or sum).
VK_INLINE void VK(vjp_row)(const float *g, const float *y, float *out, long n, float beta, float d, int log,
                           int stream, VK(stream_state) *pending, int prefetch, const float *nextG,
                           const float *nextY, float *nextOut) {
    const VF vb = (VF)beta, vd = (VF)d;
    long i = 0;
    if (stream) {
        const long bytes = VK_W * 4;
        long head = ((bytes - ((long)out & (bytes - 1))) & (bytes - 1)) / 4;
        if (head > n) head = n;
        if (head > 0) {
            const VF v = VK(vjp)(VK(load_partial)(g, head), VK(load_partial)(y, head), vb, vd, log);
            if (pending->at && pending->count + head == VK_W && pending->at + pending->count == out) {
                float lanes[VK_W] __attribute__((aligned(64)));
                *(VF *)lanes = pending->lanes;
                float vl[VK_W] __attribute__((aligned(64)));
                *(VF *)vl = v;
                for (long l = 0; l < head; l++) lanes[pending->count + l] = vl[l];
                __builtin_nontemporal_store(*(VF *)lanes, (VF *)pending->at);
                pending->at = 0;
                pending->count = 0;
            } else {
                VK(stream_flush)(pending);
                VK(store_partial)(out, v, head);
            }
        } else {
            VK(stream_flush)(pending);
        }
        i = head;
        for (; i + VK_W <= n; i += VK_W) {
            if (prefetch) {
                __builtin_prefetch(nextG + i, 0, 3);
                __builtin_prefetch(nextY + i, 0, 3);
            }
            __builtin_nontemporal_store(VK(vjp)(VK(load)(g + i), VK(load)(y + i), vb, vd, log), (VF *)(out + i));
        }
        if (i < n) {
            VK(stream_flush)(pending);
            pending->lanes = VK(vjp)(VK(load_partial)(g + i, n - i), VK(load_partial)(y + i, n - i), vb, vd, log);
            pending->count = n - i;
            pending->at = out + i;
        }
        return;
    }
    for (; i + VK_W <= n; i += VK_W) {
        if (prefetch) {
            __builtin_prefetch(nextG + i, 0, 3);
            __builtin_prefetch(nextY + i, 0, 3);
            __builtin_prefetch(nextOut + i, 1, 3);
        }
        VK(store)(out + i, VK(vjp)(VK(load)(g + i), VK(load)(y + i), vb, vd, log));
    }
    if (i < n) {
        VK(store_partial)(out + i, VK(vjp)(VK(load_partial)(g + i, n - i), VK(load_partial)(y + i, n - i), vb, vd, log), n - i);
    }
}

static VK_TARGET void VK(softmax_backward)(const float *g, const float *y, float *out, long first, long rows,
                                             long yRows, long n, float beta, int log, int stream) {
    VK(stream_state) pending = {(VF)0.0f, 0, 0};
    const long last = first + rows;
    for (long r = first; r < last; r++) {
        const float *gr = g + r * n, *yr = y + (r % yRows) * n;
        float *o = out + r * n;
        const float d = log ? VK(sum)(gr, n) : VK(dot)(gr, yr, n);
        if (r + 1 < last) {
            const float *nextY = y + ((r + 1) % yRows) * n;
            if (stream) {
                VK(vjp_row)(gr, yr, o, n, beta, d, log, 1, &pending, 1, gr + n, nextY, o + n);
            } else {
                VK(vjp_row)(gr, yr, o, n, beta, d, log, 0, &pending, 1, gr + n, nextY, o + n);
            }
        } else if (stream) {
            VK(vjp_row)(gr, yr, o, n, beta, d, log, 1, &pending, 0, 0, 0, 0);
        } else {
            VK(vjp_row)(gr, yr, o, n, beta, d, log, 0, &pending, 0, 0, 0, 0);
        }
    }
    if (stream) {
        VK(stream_flush)(&pending);
        __builtin_ia32_sfence();
    }
}

static VK_TARGET double VK(cross_entropy_forward)(const float *z, const float *t, float *p, float *sums,
                                                   long rows, long n, float beta) {
    double loss = 0;
    for (long r = 0; r < rows; r++) {
        const float *zr = z + r * n, *tr = t + r * n;
        float *pr = p + r * n;
        const float m = VK(row_shift)(zr, n, beta);
        const float s = VK(exp_shifted)(zr, pr, n, beta, m, 0, 0, 0);
        VK(scale)(pr, pr, n, 1.0f / s);
        const float logSum = m + __builtin_logf(s);
        // Σ_j t_j·(logSum − β·z_j) and Σ_j t_j over the j with t_j ≠ 0.
        const VF vl = (VF)logSum, vb = (VF)beta;
        VF l0 = (VF)0.0f, s0 = (VF)0.0f;
        long i = 0;
        for (; i + VK_W <= n; i += VK_W) {
            const VF tv = VK(load)(tr + i);
            const VI used = tv != (VF)0.0f;
            l0 += VK(select)(used, tv * (vl - vb * VK(load)(zr + i)), (VF)0.0f);
            s0 += tv;
        }
        if (i < n) {
            const VF tv = VK(load_partial)(tr + i, n - i);
            const VI used = tv != (VF)0.0f;
            l0 += VK(select)(used, tv * (vl - vb * VK(load_partial)(zr + i, n - i)), (VF)0.0f);
            s0 += tv;
        }
        loss += (double)VK(reduce_add)(l0);
        sums[r] = VK(reduce_add)(s0);
    }
    return loss;
}

static VK_TARGET void VK(cross_entropy_backward)(const float *p, const float *t, float *out, long n, float a, float c) {
    const VF va = (VF)a, vc = (VF)c;
    long i = 0;
    for (; i + VK_W <= n; i += VK_W) VK(store)(out + i, va * VK(load)(p + i) - vc * VK(load)(t + i));
    if (i < n) {
        VK(store_partial)(out + i, va * VK(load_partial)(p + i, n - i) - vc * VK(load_partial)(t + i, n - i), n - i);
    }
}

// ---------------------------------------------------------------------------------------------
// Elementwise

/// y = f(x) over n floats, f a vector expression in `v`.
#define VK_MAP(x, y, n, expression)                                                          \
    do {                                                                                     \
        long i_ = 0;                                                                         \
        for (; i_ + VK_W <= (n); i_ += VK_W) {                                               \
            const VF v = VK(load)((x) + i_);                                                 \
            VK(store)((y) + i_, (expression));                                               \
        }                                                                                    \
        if (i_ < (n)) {                                                                      \
            const VF v = VK(load_partial)((x) + i_, (n) - i_);                               \
            VK(store_partial)((y) + i_, (expression), (n) - i_);                             \
        }                                                                                    \
    } while (0)

static VK_TARGET void VK(exp)(const float *x, float *y, long n) {
    VK_MAP(x, y, n, VK(exp_full)(v));
}

VK_INLINE VF VK(sigmoid1)(VF v) {
    // e = e^−|x| ≤ 1; 1/(1 + e) for x ≥ 0, e/(1 + e) below: no exponent is ever positive.
    const VI negative = v < (VF)0.0f;
    const VF magnitude = (VF)((VI)v & (VI)0x7FFFFFFF);
    const VF e = VK(exp_bounded)(-magnitude);
    const VF d = (VF)1.0f + e;
    return VK(select)(negative, e / d, (VF)1.0f / d);
}

static VK_TARGET void VK(sigmoid)(const float *x, float *y, long n) {
    VK_MAP(x, y, n, VK(sigmoid1)(v));
}

static VK_TARGET void VK(relu)(const float *x, float *y, long n) {
    VK_MAP(x, y, n, VK(select)(v <= (VF)0.0f, (VF)0.0f, v));
}

static VK_TARGET void VK(relu_backward)(const float *g, const float *x, float *out, long n) {
    long i = 0;
    for (; i + VK_W <= n; i += VK_W) {
        VK(store)(out + i, VK(select)(VK(load)(x + i) > (VF)0.0f, VK(load)(g + i), (VF)0.0f));
    }
    if (i < n) {
        const VF v = VK(select)(VK(load_partial)(x + i, n - i) > (VF)0.0f, VK(load_partial)(g + i, n - i), (VF)0.0f);
        VK(store_partial)(out + i, v, n - i);
    }
}

VK_INLINE VF VK(apply)(int op, VF a, VF b) {
    switch (op) {
    case 0: return a + b;
    case 1: return a - b;
    case 2: return a * b;
    default: return a / b;
    }
}

VK_INLINE void VK(binary_loop)(int op, const float *a, long da, const float *b, long db, float *out, long n) {
    long i = 0;
    const VF sa = (VF)a[0], sb = (VF)b[0];
    for (; i + VK_W <= n; i += VK_W) {
        const VF va = da ? VK(load)(a + i) : sa, vb = db ? VK(load)(b + i) : sb;
        VK(store)(out + i, VK(apply)(op, va, vb));
    }
    if (i < n) {
        const VF va = da ? VK(load_partial)(a + i, n - i) : sa, vb = db ? VK(load_partial)(b + i, n - i) : sb;
        VK(store_partial)(out + i, VK(apply)(op, va, vb), n - i);
    }
}

static VK_TARGET void VK(binary)(int op, const float *a, long da, const float *b, long db, float *out, long n) {
    if (n <= 0) return;
    // One loop per operation and stride pattern, so that none tests them per vector.
#define VK_BINARY_CASE(o)                                                                 \
    case o:                                                                               \
        if (da && db) VK(binary_loop)(o, a, 1, b, 1, out, n);                             \
        else if (da) VK(binary_loop)(o, a, 1, b, 0, out, n);                              \
        else VK(binary_loop)(o, a, 0, b, 1, out, n);                                      \
        break;
    switch (op) {
    VK_BINARY_CASE(0)
    VK_BINARY_CASE(1)
    VK_BINARY_CASE(2)
    VK_BINARY_CASE(3)
    default: break;
    }
#undef VK_BINARY_CASE
}

static VK_TARGET void VK(add_rows)(float *y, const float *b, long rows, long n) {
    for (long r = 0; r < rows; r++) {
        float *row = y + r * n;
        long i = 0;
        for (; i + VK_W <= n; i += VK_W) VK(store)(row + i, VK(load)(row + i) + VK(load)(b + i));
        if (i < n) VK(store_partial)(row + i, VK(load_partial)(row + i, n - i) + VK(load_partial)(b + i, n - i), n - i);
    }
}

// ---------------------------------------------------------------------------------------------
// Reductions

/// Sixteen partial sums (lane j mod 16), added up by halving: the same in every instruction set.
static VK_TARGET void VK(sum_rows)(const float *x, float *out, long rows, long n) {
    typedef float V16 __attribute__((ext_vector_type(16)));
    typedef float V16U __attribute__((ext_vector_type(16), aligned(4)));
    typedef float V8 __attribute__((ext_vector_type(8)));
    typedef float V4 __attribute__((ext_vector_type(4)));
    for (long r = 0; r < rows; r++) {
        const float *row = x + r * n;
        V16 s0 = (V16)0.0f, s1 = (V16)0.0f;
        long i = 0;
        // Two sets of partial sums for two independent chains, added lane by lane at the end:
        // lane l of the result is (Σ of the even blocks' lane l) + (Σ of the odd blocks' lane l).
        for (; i + 32 <= n; i += 32) {
            s0 += *(const V16U *)(row + i);
            s1 += *(const V16U *)(row + i + 16);
        }
        if (i + 16 <= n) {
            s0 += *(const V16U *)(row + i);
            i += 16;
        }
        if (i < n) {
            float lanes[16] __attribute__((aligned(64))) = {0};
            for (long l = 0; i + l < n; l++) lanes[l] = row[i + l];
            s1 += *(const V16 *)lanes;
        }
        const V16 s = s0 + s1;
        const V8 h = __builtin_shufflevector(s, s, 0, 1, 2, 3, 4, 5, 6, 7) + __builtin_shufflevector(s, s, 8, 9, 10, 11, 12, 13, 14, 15);
        const V4 q = __builtin_shufflevector(h, h, 0, 1, 2, 3) + __builtin_shufflevector(h, h, 4, 5, 6, 7);
        out[r] = (q[0] + q[2]) + (q[1] + q[3]);
    }
}

static VK_TARGET void VK(sum_columns)(const float *x, float *out, long length, long n) {
    // Blocks of columns whose running sums stay in registers across the rows.
    long i = 0;
    for (; i + 4 * VK_W <= n; i += 4 * VK_W) {
        VF a0 = VK(load)(out + i), a1 = VK(load)(out + i + VK_W);
        VF a2 = VK(load)(out + i + 2 * VK_W), a3 = VK(load)(out + i + 3 * VK_W);
        for (long a = 0; a < length; a++) {
            const float *row = x + a * n + i;
            a0 += VK(load)(row);
            a1 += VK(load)(row + VK_W);
            a2 += VK(load)(row + 2 * VK_W);
            a3 += VK(load)(row + 3 * VK_W);
        }
        VK(store)(out + i, a0);
        VK(store)(out + i + VK_W, a1);
        VK(store)(out + i + 2 * VK_W, a2);
        VK(store)(out + i + 3 * VK_W, a3);
    }
    for (; i + VK_W <= n; i += VK_W) {
        VF a0 = VK(load)(out + i);
        for (long a = 0; a < length; a++) a0 += VK(load)(x + a * n + i);
        VK(store)(out + i, a0);
    }
    if (i < n) {
        VF a0 = VK(load_partial)(out + i, n - i);
        for (long a = 0; a < length; a++) a0 += VK(load_partial)(x + a * n + i, n - i);
        VK(store_partial)(out + i, a0, n - i);
    }
}

// ---------------------------------------------------------------------------------------------
// Optimizer updates

static VK_TARGET void VK(sgd)(float *theta, const float *g, long n, float lr) {
    const VF rate = (VF)lr;
    long i = 0;
    for (; i + VK_W <= n; i += VK_W) VK(store)(theta + i, VK(load)(theta + i) - rate * VK(load)(g + i));
    for (; i < n; i++) theta[i] = theta[i] - lr * g[i];
}

static VK_TARGET void VK(sgd_momentum)(float *theta, const float *g, float *buffer, long n, int firstStep, float lr,
                                         float mu, float wd, int nesterov) {
    const VF vlr = (VF)lr, vmu = (VF)mu, vwd = (VF)wd;
    long i = 0;
    if (mu == 0) {
        for (; i + VK_W <= n; i += VK_W) {
            const VF p = VK(load)(theta + i);
            VK(store)(theta + i, p - vlr * (VK(load)(g + i) + vwd * p));
        }
        for (; i < n; i++) theta[i] = theta[i] - lr * (g[i] + wd * theta[i]);
        return;
    }
    for (; i + VK_W <= n; i += VK_W) {
        const VF p = VK(load)(theta + i);
        const VF d = VK(load)(g + i) + vwd * p;
        const VF b = firstStep ? d : vmu * VK(load)(buffer + i) + d;
        VK(store)(buffer + i, b);
        VK(store)(theta + i, p - vlr * (nesterov ? d + vmu * b : b));
    }
    for (; i < n; i++) {
        const float d = g[i] + wd * theta[i];
        buffer[i] = firstStep ? d : mu * buffer[i] + d;
        theta[i] = theta[i] - lr * (nesterov ? d + mu * buffer[i] : buffer[i]);
    }
}

static VK_TARGET void VK(adam)(float *theta, float *m, float *v, const float *g, long n, float shrink, float l2,
                                 float beta1, float beta2, float stepSize, float correction2Root, float epsilon) {
    const float c1 = 1 - beta1, c2 = 1 - beta2;
    const VF vShrink = (VF)shrink, vL2 = (VF)l2, vC1 = (VF)c1, vB2 = (VF)beta2, vC2 = (VF)c2;
    const VF vStep = (VF)stepSize, vRoot = (VF)correction2Root, vEps = (VF)epsilon;
    long i = 0;
    for (; i + VK_W <= n; i += VK_W) {
        const VF t = VK(load)(theta + i) * vShrink;
        const VF d = VK(load)(g + i) + vL2 * t;
        VF mj = VK(load)(m + i);
        mj = mj + vC1 * (d - mj);
        const VF vj = vB2 * VK(load)(v + i) + vC2 * d * d;
        VK(store)(m + i, mj);
        VK(store)(v + i, vj);
        VK(store)(theta + i, t - vStep * (mj / (__builtin_elementwise_sqrt(vj) / vRoot + vEps)));
    }
    for (; i < n; i++) {
        const float t = theta[i] * shrink;
        const float d = g[i] + l2 * t;
        m[i] = m[i] + c1 * (d - m[i]);
        v[i] = beta2 * v[i] + c2 * d * d;
        theta[i] = t - stepSize * (m[i] / (__builtin_sqrtf(v[i]) / correction2Root + epsilon));
    }
}

static const backprop_kernels VK(table) = {
    .lanes = VK_W,
    .softmax_forward = VK(softmax_forward),
    .softmax_backward = VK(softmax_backward),
    .cross_entropy_forward = VK(cross_entropy_forward),
    .cross_entropy_backward = VK(cross_entropy_backward),
    .exp = VK(exp),
    .sigmoid = VK(sigmoid),
    .relu = VK(relu),
    .relu_backward = VK(relu_backward),
    .binary = VK(binary),
    .add_rows = VK(add_rows),
    .sum_rows = VK(sum_rows),
    .sum_columns = VK(sum_columns),
    .sgd = VK(sgd),
    .sgd_momentum = VK(sgd_momentum),
    .adam = VK(adam),
};

#undef VF
#undef VFU
#undef VI
#undef VK_MAP
#undef VK_INLINE
#undef VK_SUFFIX
#undef VK_TARGET
#undef VK_W
