#!/usr/bin/env python3
"""Prints the Markdown result tables of docs/performance.md from a folder of raw JSON lines.

    python3 bench/tables.py bench/results [--threads 1,2] [--targets]

The folder holds, per thread count N, the files bench/compare.sh and `backprop bench --json`
write: haswell-off-tN.jsonl (Swift kernels, -target-cpu haswell), default-off-tN.jsonl (no
flags), haswell-openblas-tN.jsonl (BACKPROP_BLAS=auto: "openblas" and "openblas-direct") and
peers-tN.jsonl (PyTorch, JAX, NumPy). Cells are median milliseconds with GFLOP/s or GB/s in
brackets; a missing measurement is "—". `--targets` prints, instead, the ratios issue 4 sets
targets for, one row per target with a column per thread count.
"""
import argparse
import json
import os

ROWS = [
    ("gemm", "1024x1024x1024 AB", "1024³ A·B"),
    ("gemm", "2048x2048x2048 AB", "2048³ A·B"),
    ("gemm", "128x784x512 AB", "128×784×512 A·B"),
    ("gemm", "128x512x784 ABt", "128×512×784 A·Bᵀ"),
    ("gemm", "784x128x512 AtB", "784×128×512 Aᵀ·B"),
    ("mlp-step", "784-512-512-10 b128", "784-512-512-10, b128, SGD"),
    ("softmax", "4096x1000", "4096×1000 fwd+VJP, β=2"),
    ("jacobian", "1000x1000", "1000×1000 softmax, `jacobian`"),
    ("digits", "64-128-10 adam 20 epochs", "in-process, 20 epochs"),
]
# (column title, file stem, backends accepted in that file)
COLUMNS = [
    ("Swift haswell", "haswell-off", {"swift-haswell", "swift"}),
    ("Swift baseline", "default-off", {"swift-mul+add", "swift"}),
    ("OpenBLAS via Backprop", "haswell-openblas", {"openblas"}),
    ("OpenBLAS direct", "haswell-openblas", {"openblas-direct"}),
    ("PyTorch", "peers", {"pytorch", "pytorch-eager", "pytorch-func.jacrev"}),
    ("JAX jit", "peers", {"jax-jit", "jax-jit-jacrev"}),
    ("NumPy", "peers", {"numpy", "numpy-by-hand"}),
]


def load(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def cell(record):
    if record is None:
        return "—"
    ms = record["median_ms"]
    if record["workload"] == "digits":
        text = f"{ms / 1000:.2f} s"
        if "accuracy" in record:
            text += f", acc {record['accuracy']:.4f}"
        return text
    text = f"{ms:.2f}" if ms < 100 else f"{ms:.1f}"
    if "gflops" in record:
        text += f" ({record['gflops']:.1f})"
    elif "gbps" in record:
        text += f" ({record['gbps']:.1f} GB/s)"
    return text


def table(folder, threads):
    files = {stem: load(os.path.join(folder, f"{stem}-t{threads}.jsonl")) for _, stem, _ in COLUMNS}
    lines = ["| workload | shape | " + " | ".join(title for title, _, _ in COLUMNS) + " |",
             "|---" * (len(COLUMNS) + 2) + "|"]
    for workload, shape, label in ROWS:
        cells = []
        for _, stem, backends in COLUMNS:
            found = next((r for r in files[stem] if r["workload"] == workload and r["shape"] == shape
                          and r["backend"] in backends), None)
            cells.append(cell(found))
        lines.append(f"| {workload} | {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def find(records, workload, shape, backends):
    return next((r for r in records if r["workload"] == workload and r["shape"] == shape
                 and r["backend"] in backends), None)


def targets(folder, thread_counts):
    """Rows of (target, {threads: text}) for the targets of issue 4."""
    rows = {}
    for t in thread_counts:
        swift = load(os.path.join(folder, f"haswell-off-t{t}.jsonl"))
        blas = load(os.path.join(folder, f"haswell-openblas-t{t}.jsonl"))
        peers = load(os.path.join(folder, f"peers-t{t}.jsonl"))
        mlp = "784-512-512-10 b128"

        def ms(records, workload, shape, backends):
            r = find(records, workload, shape, backends)
            return r["median_ms"] if r else None

        def ratio(a, b, fmt):
            return "—" if a is None or b is None else fmt(a, b)

        cells = []
        for n in (1024, 2048):
            shape = f"{n}x{n}x{n} AB"
            ours, direct = ms(blas, "gemm", shape, {"openblas"}), ms(blas, "gemm", shape, {"openblas-direct"})
            cells.append(ratio(direct, ours, lambda d, o: f"{100 * d / o:.0f} %"))
        rows.setdefault("BLAS backend: SGEMM ≥ 95 % of OpenBLAS direct (1024³, 2048³)", {})[t] = ", ".join(cells)
        torch = ms(peers, "mlp-step", mlp, {"pytorch-eager"})
        rows.setdefault("BLAS backend: MLP step < 0.8 × PyTorch eager", {})[t] = ratio(
            ms(blas, "mlp-step", mlp, {"openblas"}), torch, lambda o, p: f"{o:.2f} / {p:.2f} = {o / p:.2f}")
        rows.setdefault("Swift (haswell): SGEMM 1024³ ≥ 85 % of OpenBLAS direct", {})[t] = ratio(
            ms(blas, "gemm", "1024x1024x1024 AB", {"openblas-direct"}), ms(swift, "gemm", "1024x1024x1024 AB", {"swift-haswell"}),
            lambda d, o: f"{100 * d / o:.0f} %")
        ours_mlp = ms(swift, "mlp-step", mlp, {"swift-haswell"})
        rows.setdefault("Swift (haswell): MLP step < 1.0 × PyTorch eager", {})[t] = ratio(
            ours_mlp, torch, lambda o, p: f"{o:.2f} / {p:.2f} = {o / p:.2f}")
        rows.setdefault("softmax fwd+VJP ≥ 3 × PyTorch's GB/s", {})[t] = ratio(
            ms(swift, "softmax", "4096x1000", {"swift"}), ms(peers, "softmax", "4096x1000", {"pytorch"}),
            lambda o, p: f"{p:.2f} / {o:.2f} = {p / o:.2f} ×")
        rows.setdefault("`jacobian` n = 1000 no slower than JAX jit jacrev", {})[t] = ratio(
            ms(swift, "jacobian", "1000x1000", {"swift"}), ms(peers, "jacobian", "1000x1000", {"jax-jit-jacrev"}),
            lambda o, p: f"{o:.2f} vs {p:.2f} ms")
        rows.setdefault("MLP step no slower than JAX jit", {})[t] = ratio(
            ours_mlp, ms(peers, "mlp-step", mlp, {"jax-jit"}), lambda o, p: f"{o:.2f} / {p:.2f} = {o / p:.2f}")
        digits = find(swift, "digits", "64-128-10 adam 20 epochs", {"swift-haswell"})
        rows.setdefault("digits, in-process 20 epochs (wall < 2 s for `train`)", {})[t] = (
            "—" if digits is None else f"{digits['median_ms'] / 1000:.2f} s")
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--targets", action="store_true", help="print the target ratios of issue 4")
    args = parser.parse_args()
    if args.targets:
        counts = [int(t) for t in args.threads.split(",")]
        print("| target | " + " | ".join(f"{t} thread{'s' if t != 1 else ''}" for t in counts) + " |")
        print("|---" * (len(counts) + 1) + "|")
        for name, cells in targets(args.folder, counts).items():
            print(f"| {name} | " + " | ".join(cells.get(t, "—") for t in counts) + " |")
        return
    for t in args.threads.split(","):
        print(f"### {t} thread{'s' if t != '1' else ''}\n")
        print(table(args.folder, int(t)))
        print()


if __name__ == "__main__":
    main()
