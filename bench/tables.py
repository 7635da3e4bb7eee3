#!/usr/bin/env python3
"""Prints the Markdown result tables of docs/performance.md from a folder of raw JSON lines.

    python3 bench/tables.py bench/results [--threads 1,2]

The folder holds, per thread count N, the files bench/compare.sh and `backprop bench --json`
write: haswell-off-tN.jsonl (Swift kernels, -target-cpu haswell), default-off-tN.jsonl (no
flags), haswell-openblas-tN.jsonl (BACKPROP_BLAS=auto: "openblas" and "openblas-direct") and
peers-tN.jsonl (PyTorch, JAX, NumPy). Cells are median milliseconds with GFLOP/s or GB/s in
brackets; a missing measurement is "—".
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument("--threads", default="1,2")
    args = parser.parse_args()
    for t in args.threads.split(","):
        print(f"### {t} thread{'s' if t != '1' else ''}\n")
        print(table(args.folder, int(t)))
        print()


if __name__ == "__main__":
    main()
