"""The reference workloads in JAX (jit, float32, CPU)."""
import os
import sys

import common

args = common.parse_args("jax")
common.thread_environment(args.threads)
# XLA sizes its CPU thread pools from the CPUs this process may run on (pinned by
# common.thread_environment); with one thread, Eigen's multi-threading is switched off too.
if args.threads == 1:
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false").strip()
os.environ.setdefault("JAX_PLATFORMS", "cpu")
try:
    import jax
    import jax.numpy as jnp
except ImportError:
    common.skip("jax", "jax is not installed")

B = "jax-jit"
# XLA:CPU compiles each jitted function for the features of the CPU it runs on (LLVM, host CPU).
common.ISA = "xla:cpu host features"
key = jax.random.PRNGKey(0)
run = [args.workload] if args.workload else common.WORKLOADS


def ready(x):
    return jax.block_until_ready(x)


def gemm():
    for m, k, n, ta, tb, label in common.gemm_shapes(args.smoke):
        a = jax.random.normal(key, (k, m) if ta else (m, k), jnp.float32)
        b = jax.random.normal(key, (n, k) if tb else (k, n), jnp.float32)
        f = jax.jit(lambda a, b: (a.T if ta else a) @ (b.T if tb else b))
        ms = common.median_ms(lambda: ready(f(a, b)), args)
        common.emit("gemm", label, args.threads, B, ms, gflops=2 * m * k * n / ms / 1e6)


def mlp_step():
    sizes, batch = common.mlp_sizes(args.smoke)
    keys = jax.random.split(key, len(sizes))
    params = [(jax.random.normal(kk, (b, a), jnp.float32) * (2 / a) ** 0.5, jnp.zeros(b, jnp.float32))
              for kk, a, b in zip(keys, sizes, sizes[1:])]
    x = jax.random.normal(keys[-1], (batch, sizes[0]), jnp.float32)
    y = jax.nn.one_hot(jax.random.randint(keys[-1], (batch,), 0, sizes[-1]), sizes[-1])

    def loss(params):
        h = x
        for i, (w, b) in enumerate(params):
            h = h @ w.T + b
            if i < len(params) - 1:
                h = jax.nn.relu(h)
        return -(jax.nn.log_softmax(h) * y).sum(-1).mean()

    @jax.jit
    def step(params):
        grads = jax.grad(loss)(params)
        return jax.tree_util.tree_map(lambda p, g: p - 0.01 * g, params, grads)

    state = [params]

    def run_once():
        state[0] = ready(step(state[0]))

    ms = common.median_ms(run_once, args)
    common.emit("mlp-step", "-".join(map(str, sizes)) + f" b{batch}", args.threads, B, ms,
                gflops=common.mlp_flops(sizes, batch) / ms / 1e6)


def softmax():
    rows, cols = common.softmax_shape(args.smoke)
    x = jax.random.normal(key, (rows, cols), jnp.float32)
    u = jax.random.normal(jax.random.PRNGKey(1), (rows, cols), jnp.float32)

    @jax.jit
    def fwd_bwd(x, u):
        y, pullback = jax.vjp(lambda v: jax.nn.softmax(2 * v, axis=-1), x)
        return y, pullback(u)[0]

    ms = common.median_ms(lambda: ready(fwd_bwd(x, u)), args)
    common.emit("softmax", f"{rows}x{cols}", args.threads, B, ms, gbps=5 * rows * cols * 4 / ms / 1e6)


def jacobian():
    n = common.jacobian_n(args.smoke)
    x = jax.random.normal(key, (n,), jnp.float32)
    jac = jax.jit(jax.jacrev(lambda v: jax.nn.softmax(2 * v)))
    ms = common.median_ms(lambda: ready(jac(x)), args)
    common.emit("jacobian", f"{n}x{n}", args.threads, B + "-jacrev", ms)


def digits():
    print("jax: skipped digits (the PyTorch script is the reference for it)", file=__import__("sys").stderr)


for w in run:
    workloads = {"gemm": gemm, "mlp-step": mlp_step, "softmax": softmax, "jacobian": jacobian, "digits": digits}
    if w not in workloads:
        print(f"{B}: no {w} workload", file=sys.stderr)
        continue
    workloads[w]()
