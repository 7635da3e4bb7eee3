"""The reference workloads in NumPy (float32, gradients written by hand; its BLAS for matmul)."""
import sys

import common

args = common.parse_args("numpy")
common.thread_environment(args.threads)
try:
    import numpy as np
except ImportError:
    common.skip("numpy", "numpy is not installed")

try:  # threadpoolctl, when present, pins NumPy's BLAS pool after import too
    from threadpoolctl import threadpool_limits
    threadpool_limits(args.threads)
except ImportError:
    pass

B = "numpy"


def numpy_isa():
    """NumPy's highest enabled dispatch target, and its OpenBLAS's run-time core."""
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
        enabled = [t for t in __cpu_dispatch__ if __cpu_features__.get(t)]
        target = enabled[-1] if enabled else "baseline"
    except ImportError:
        target = "unknown"
    np.ones((2, 2), dtype=np.float32) @ np.ones((2, 2), dtype=np.float32)   # loads the BLAS
    core = common.openblas_core()
    return f"{target}, openblas {core}" if core else target


common.ISA = numpy_isa()
rng = np.random.default_rng(0)
run = [args.workload] if args.workload else common.WORKLOADS


def randn(*shape):
    return rng.standard_normal(shape, dtype=np.float32)


def gemm():
    for m, k, n, ta, tb, label in common.gemm_shapes(args.smoke):
        a = randn(k, m) if ta else randn(m, k)
        b = randn(n, k) if tb else randn(k, n)
        c = np.empty((m, n), np.float32)
        opa, opb = (a.T if ta else a), (b.T if tb else b)
        ms = common.median_ms(lambda: np.matmul(opa, opb, out=c), args)
        common.emit("gemm", label, args.threads, B, ms, gflops=2 * m * k * n / ms / 1e6)


def mlp_step():
    sizes, batch = common.mlp_sizes(args.smoke)
    ws = [randn(b, a) * np.float32((2 / a) ** 0.5) for a, b in zip(sizes, sizes[1:])]
    bs = [np.zeros(b, np.float32) for b in sizes[1:]]
    x = randn(batch, sizes[0])
    t = np.eye(sizes[-1], dtype=np.float32)[rng.integers(0, sizes[-1], batch)]

    def step():
        hs, h = [x], x
        for i, (w, b) in enumerate(zip(ws, bs)):
            h = h @ w.T + b
            if i < len(ws) - 1:
                h = np.maximum(h, 0)
            hs.append(h)
        z = hs[-1]
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        g = (p - t) / batch
        for i in reversed(range(len(ws))):
            gw, gb = g.T @ hs[i], g.sum(0)
            if i > 0:
                g = (g @ ws[i]) * (hs[i] > 0)
            ws[i] -= 0.01 * gw
            bs[i] -= 0.01 * gb

    ms = common.median_ms(step, args)
    common.emit("mlp-step", "-".join(map(str, sizes)) + f" b{batch}", args.threads, B + "-by-hand", ms,
                gflops=common.mlp_flops(sizes, batch) / ms / 1e6)


def softmax():
    rows, cols = common.softmax_shape(args.smoke)
    x, u = randn(rows, cols), randn(rows, cols)

    def run_once():
        z = 2 * x
        y = np.exp(z - z.max(1, keepdims=True))
        y /= y.sum(1, keepdims=True)
        return 2 * y * (u - (u * y).sum(1, keepdims=True))

    ms = common.median_ms(run_once, args)
    common.emit("softmax", f"{rows}x{cols}", args.threads, B, ms, gbps=5 * rows * cols * 4 / ms / 1e6)


def jacobian():
    print("numpy: skipped jacobian (no automatic differentiation)", file=sys.stderr)


def digits():
    print("numpy: skipped digits (the PyTorch script is the reference for it)", file=sys.stderr)


for w in run:
    workloads = {"gemm": gemm, "mlp-step": mlp_step, "softmax": softmax, "jacobian": jacobian, "digits": digits}
    if w not in workloads:
        print(f"{B}: no {w} workload", file=sys.stderr)
        continue
    workloads[w]()
