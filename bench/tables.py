#!/usr/bin/env python3
"""Prints the Markdown result tables of docs/performance.md from a folder of raw JSON lines.

    python3 bench/tables.py bench/results [--threads 1,2] [--targets]

The folder holds, per thread count N, the files bench/compare.sh and `backprop bench --json`
write: haswell-off-tN.jsonl (Swift kernels, -target-cpu haswell), default-off-tN.jsonl (no
flags), haswell-openblas-tN.jsonl (BACKPROP_BLAS=auto: "openblas" and "openblas-direct") and
peers-tN.jsonl (PyTorch, JAX, NumPy). Cells are median milliseconds with GFLOP/s or GB/s in
brackets; a missing measurement is "—". `--targets` prints, instead, the target ratios of docs/performance.md
targets for, one row per target with a column per thread count.

Lines may carry a "round" (bench/compare.sh --rounds). A cell then shows the median record over
the rounds, and a target ratio is the median of the ratios taken within each round (with their
range); the BLAS-backend ratios use peers-openblas-tN.jsonl, the peers of the BACKPROP_BLAS=auto
compare run, when it exists.
"""
import argparse
import json
import os
import statistics

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


def matches(records, workload, shape, backends):
    return [r for r in records if r["workload"] == workload and r["shape"] == shape and r["backend"] in backends]


def find(records, workload, shape, backends):
    """The median record over the rounds (the lower middle one for an even count), or None."""
    found = sorted(matches(records, workload, shape, backends), key=lambda r: r["median_ms"])
    return found[(len(found) - 1) // 2] if found else None


def table(folder, threads):
    files = {stem: load(os.path.join(folder, f"{stem}-t{threads}.jsonl")) for _, stem, _ in COLUMNS}
    lines = ["| workload | shape | " + " | ".join(title for title, _, _ in COLUMNS) + " |",
             "|---" * (len(COLUMNS) + 2) + "|"]
    for workload, shape, label in ROWS:
        cells = [cell(find(files[stem], workload, shape, backends)) for _, stem, backends in COLUMNS]
        lines.append(f"| {workload} | {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def paired(a_records, a_backends, b_records, b_backends, workload, shape):
    """Per-round (a ms, b ms) for the rounds both sides measured."""
    a = {r.get("round", 1): r["median_ms"] for r in matches(a_records, workload, shape, a_backends)}
    b = {r.get("round", 1): r["median_ms"] for r in matches(b_records, workload, shape, b_backends)}
    return [(a[k], b[k]) for k in sorted(set(a) & set(b))]


def ratio_text(pairs, invert=False, times="×"):
    """median over rounds of a/b (or b/a), with the median times and the range over rounds."""
    if not pairs:
        return "—"
    ratios = [(b / a) if invert else (a / b) for a, b in pairs]
    a_ms, b_ms = statistics.median(a for a, _ in pairs), statistics.median(b for _, b in pairs)
    first, second = (b_ms, a_ms) if invert else (a_ms, b_ms)
    text = f"{first:.2f} / {second:.2f}: {statistics.median(ratios):.2f}{times if invert else ''}"
    if len(ratios) > 1:
        text += f" ({len(ratios)} rounds, {min(ratios):.2f}–{max(ratios):.2f})"
    return text


def targets(folder, thread_counts):
    """Rows of (target, {threads: text}) for the speed targets."""
    rows = {}
    for t in thread_counts:
        swift = load(os.path.join(folder, f"haswell-off-t{t}.jsonl"))
        blas = load(os.path.join(folder, f"haswell-openblas-t{t}.jsonl"))
        peers = load(os.path.join(folder, f"peers-t{t}.jsonl"))
        blas_peers = load(os.path.join(folder, f"peers-openblas-t{t}.jsonl")) or peers
        mlp = "784-512-512-10 b128"

        def percent(direct_records, ours_records, ours_backend, shape):
            pairs = paired(direct_records, {"openblas-direct"}, ours_records, {ours_backend}, "gemm", shape)
            return "—" if not pairs else f"{100 * statistics.median(d / o for d, o in pairs):.0f} %"

        rows.setdefault("BLAS backend: SGEMM ≥ 95 % of OpenBLAS direct (1024³, 2048³)", {})[t] = ", ".join(
            percent(blas, blas, "openblas", f"{n}x{n}x{n} AB") for n in (1024, 2048))
        rows.setdefault("BLAS backend: MLP step < 0.8 × PyTorch eager", {})[t] = ratio_text(
            paired(blas, {"openblas"}, blas_peers, {"pytorch-eager"}, "mlp-step", mlp))
        # Two separate runs (Swift kernels, then BLAS): the medians' ratio.
        direct = find(blas, "gemm", "1024x1024x1024 AB", {"openblas-direct"})
        swift_gemm = find(swift, "gemm", "1024x1024x1024 AB", {"swift-haswell"})
        rows.setdefault("Swift (haswell): SGEMM 1024³ ≥ 85 % of OpenBLAS direct", {})[t] = (
            "—" if direct is None or swift_gemm is None else f"{100 * direct['median_ms'] / swift_gemm['median_ms']:.0f} %")
        rows.setdefault("Swift (haswell): MLP step < 1.0 × PyTorch eager", {})[t] = ratio_text(
            paired(swift, {"swift-haswell"}, peers, {"pytorch-eager"}, "mlp-step", mlp))
        rows.setdefault("softmax fwd+VJP ≥ 3 × PyTorch's GB/s", {})[t] = ratio_text(
            paired(swift, {"swift"}, peers, {"pytorch"}, "softmax", "4096x1000"), invert=True)
        rows.setdefault("`jacobian` n = 1000 no slower than JAX jit jacrev", {})[t] = ratio_text(
            paired(swift, {"swift"}, peers, {"jax-jit-jacrev"}, "jacobian", "1000x1000"))
        rows.setdefault("MLP step no slower than JAX jit", {})[t] = ratio_text(
            paired(swift, {"swift-haswell"}, peers, {"jax-jit"}, "mlp-step", mlp))
        digits = find(swift, "digits", "64-128-10 adam 20 epochs", {"swift-haswell"})
        rows.setdefault("digits, in-process 20 epochs (wall < 2 s for `train`)", {})[t] = (
            "—" if digits is None else f"{digits['median_ms'] / 1000:.2f} s")
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--targets", action="store_true", help="print the target ratios")
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
