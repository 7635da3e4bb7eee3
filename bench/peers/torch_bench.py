"""The reference workloads in PyTorch (eager, float32, CPU)."""
import common

args = common.parse_args("pytorch")
common.thread_environment(args.threads)
try:
    import torch
except ImportError:
    common.skip("pytorch", "torch is not installed")

torch.set_num_threads(args.threads)
# PyTorch's run-time kernel choice (ATen's CPU capability: DEFAULT, AVX2, AVX512…).
common.ISA = torch.backends.cpu.get_cpu_capability()
torch.manual_seed(0)
B = "pytorch"
run = [args.workload] if args.workload else common.WORKLOADS


def gemm():
    for m, k, n, ta, tb, label in common.gemm_shapes(args.smoke):
        a = torch.randn(k, m) if ta else torch.randn(m, k)
        b = torch.randn(n, k) if tb else torch.randn(k, n)
        c = torch.empty(m, n)
        opa = a.t() if ta else a
        opb = b.t() if tb else b
        ms = common.median_ms(lambda: torch.mm(opa, opb, out=c), args)
        common.emit("gemm", label, args.threads, B, ms, gflops=2 * m * k * n / ms / 1e6)


def mlp_step():
    sizes, batch = common.mlp_sizes(args.smoke)
    layers = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x = torch.randn(batch, sizes[0])
    y = torch.randint(0, sizes[-1], (batch,))

    def step():
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    ms = common.median_ms(step, args)
    common.emit("mlp-step", "-".join(map(str, sizes)) + f" b{batch}", args.threads, B + "-eager", ms,
                gflops=common.mlp_flops(sizes, batch) / ms / 1e6)


def softmax():
    rows, cols = common.softmax_shape(args.smoke)
    x = torch.randn(rows, cols, requires_grad=True)
    u = torch.randn(rows, cols)

    def run_once():
        x.grad = None
        y = torch.softmax(2 * x, dim=-1)
        y.backward(u)

    ms = common.median_ms(run_once, args)
    common.emit("softmax", f"{rows}x{cols}", args.threads, B, ms, gbps=5 * rows * cols * 4 / ms / 1e6)


def jacobian():
    n = common.jacobian_n(args.smoke)
    x = torch.randn(n)
    jac = torch.func.jacrev(lambda v: torch.softmax(2 * v, dim=-1))
    ms = common.median_ms(lambda: jac(x), args)
    common.emit("jacobian", f"{n}x{n}", args.threads, B + "-func.jacrev", ms)


def digits():
    """`backprop train`'s defaults in PyTorch: 64-128-10 ReLU, Adam 1e-3, batch 32, 20 epochs,
    features standardised on the training part, 70/10/20 split (random, not stratified)."""
    import time
    start = time.perf_counter()
    data = torch.tensor([[float(v) for v in line.split(",")] for line in open(common.digits_csv()) if line.strip()])
    features, labels = data[:, :-1], data[:, -1].long()
    g = torch.Generator().manual_seed(0)
    order = torch.randperm(len(labels), generator=g)
    test_count, validation_count = len(labels) // 5, len(labels) // 10
    test, train = order[:test_count], order[test_count + validation_count:]
    mean, std = features[train].mean(0), features[train].std(0).clamp_min(1e-6)
    features = (features - mean) / std
    model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(2 if args.smoke else 20):
        perm = train[torch.randperm(len(train), generator=g)]
        for i in range(0, len(perm), 32):
            idx = perm[i:i + 32]
            opt.zero_grad(set_to_none=True)
            torch.nn.functional.cross_entropy(model(features[idx]), labels[idx]).backward()
            opt.step()
    with torch.no_grad():
        accuracy = (model(features[test]).argmax(1) == labels[test]).float().mean().item()
    seconds = time.perf_counter() - start
    common.emit("digits", "64-128-10 adam 20 epochs", args.threads, B, seconds * 1e3, seconds=seconds, accuracy=accuracy)


def cnn_step():
    """One Adam step of the reference CNN: Conv2d(1, 16, 3, padding=1), ReLU, MaxPool2d(2),
    Conv2d(16, 32, 3, padding=1), ReLU, MaxPool2d(2), Flatten, Linear(32*7*7, 10), cross-entropy,
    batch 32 of 1x28x28, in training mode."""
    side, batch = common.cnn_shape(args.smoke)
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(32 * (side // 4) ** 2, 10))
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(batch, 1, side, side)
    y = torch.randint(0, 10, (batch,))

    def step():
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()

    for _ in range(3):
        step()
    ms = common.median_ms(step, args)
    common.emit("cnn-step", f"1x{side}x{side} b{batch}", args.threads, B + "-eager", ms,
                gflops=common.cnn_flops(side, batch) / ms / 1e6)


for w in run:
    {"gemm": gemm, "mlp-step": mlp_step, "softmax": softmax, "jacobian": jacobian, "digits": digits,
     "cnn-step": cnn_step}[w]()
