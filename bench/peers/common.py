"""Shared pieces of the peer benchmarks: the workloads' shapes, timing, and the JSON schema of
`backprop bench --json` (one object per line: workload, shape, threads, backend, median_ms and
gflops or gbps)."""
import argparse
import json
import os
import statistics
import sys
import time

WORKLOADS = ["gemm", "mlp-step", "softmax", "jacobian", "digits", "cnn-step"]


def parse_args(backend):
    parser = argparse.ArgumentParser(description=f"Reference workloads in {backend}.")
    parser.add_argument("--workload", choices=WORKLOADS, help="run only this workload")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads (default: BACKPROP_THREADS, else all cores)")
    parser.add_argument("--seconds", type=float, default=1.0, help="minimum timed seconds per measurement")
    parser.add_argument("--smoke", action="store_true", help="tiny shapes, two runs")
    args = parser.parse_args()
    if args.threads is None:
        env = os.environ.get("BACKPROP_THREADS", "")
        args.threads = int(env) if env.isdigit() and int(env) > 0 else os.cpu_count()
    return args


def thread_environment(threads):
    """Pins the process to `threads` CPUs and sizes the BLAS/OpenMP pools to match; call before
    importing the library (XLA, for one, sizes its pools from the CPUs it may use)."""
    for name in ["OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"]:
        os.environ[name] = str(threads)
    if hasattr(os, "sched_setaffinity"):
        cpus = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, set(cpus[:max(1, threads)]))


def skip(backend, why):
    print(f"{backend}: skipped: {why}", file=sys.stderr)
    sys.exit(0)


def median_ms(fn, args, warmup=2, min_runs=5, max_runs=500):
    """Median wall time of fn() in milliseconds after warm-up (fn must block until done)."""
    for _ in range(warmup):
        fn()
    times = []
    start = time.perf_counter()
    while len(times) < min_runs or (time.perf_counter() - start < args.seconds and len(times) < max_runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


# What the peer's kernels run on, as the library reports it (set by each peer script after
# importing its library); added to every line as "isa".
ISA = None


def emit(workload, shape, threads, backend, ms, gflops=None, gbps=None, **extra):
    # BENCH_BACKEND_SUFFIX marks a run in a non-default environment (bench/compare.sh --tuned-peers).
    backend += os.environ.get("BENCH_BACKEND_SUFFIX", "")
    obj = {"workload": workload, "shape": shape, "threads": threads, "backend": backend, "median_ms": ms}
    if gflops is not None:
        obj["gflops"] = gflops
    if gbps is not None:
        obj["gbps"] = gbps
    obj.update(extra)
    if ISA is not None:
        obj["isa"] = ISA
    print(json.dumps(obj), flush=True)


def openblas_core():
    """The kernel set a loaded OpenBLAS chose at run time (`openblas_get_corename`), or None."""
    import ctypes
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower() and line.split()[-1].startswith("/")}
    except OSError:
        return None
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in ["openblas_get_corename", "scipy_openblas_get_corename64_", "scipy_openblas_get_corename"]:
            fn = getattr(lib, name, None)
            if fn is not None:
                fn.restype = ctypes.c_char_p
                return fn().decode()
    return None


def gemm_shapes(smoke):
    """(m, k, n, transpose_a, transpose_b, label) as in Benchmarks+Workloads.swift."""
    squares = [16, 33] if smoke else [256, 512, 1024, 2048]
    layers = [(4, 20, 16), (4, 16, 10)] if smoke else [(128, 784, 512), (128, 512, 512), (128, 512, 10)]
    shapes = [(n, n, n, False, False) for n in squares]
    shapes += [(m, k, n, False, False) for m, k, n in layers]
    shapes += [(m, n, k, False, True) for m, k, n in layers]
    shapes += [(k, m, n, True, False) for m, k, n in layers]
    return [(m, k, n, ta, tb, f"{m}x{k}x{n} {'AtB' if ta else ('ABt' if tb else 'AB')}") for m, k, n, ta, tb in shapes]


def mlp_sizes(smoke):
    return ([20, 16, 16, 10], 4) if smoke else ([784, 512, 512, 10], 128)


def mlp_flops(sizes, batch):
    return 3 * sum(2 * batch * a * b for a, b in zip(sizes, sizes[1:]))


def softmax_shape(smoke):
    return (64, 100) if smoke else (4096, 1000)


def jacobian_n(smoke):
    return 50 if smoke else 1000


def digits_csv():
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(here, "..", "..", "Sources", "Backprop", "Resources", "digits.csv")


def cnn_shape(smoke):
    """(image side, batch) of the cnn-step workload."""
    return (8, 4) if smoke else (28, 32)


def cnn_flops(side, batch):
    """3x the forward FLOPs of the reference CNN's convolutions and linear layer."""
    pixels = side * side
    multiply_adds = batch * (pixels * 16 * 9 + pixels // 4 * 32 * 16 * 9 + 32 * pixels // 16 * 10)
    return 3 * 2 * multiply_adds
