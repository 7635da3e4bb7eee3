"""Prints docs/performance.md's tables from a results folder written by bench/results/*/run.sh.

    python3 bench/tables.py bench/results/zen3-2core

The folder holds, for T = 1 and 2 threads: off-tT/ and blas-tT/ (bench/compare.sh's raw JSON
lines: ours-tT.jsonl and peers-tT.jsonl, with the library's own kernels and with OpenBLAS),
gemm-tT.jsonl (`backprop bench --workload gemm`, BACKPROP_BLAS=off then auto, each round), and
train.txt (`/usr/bin/time` of `backprop train`). Every figure is the median over the rounds; every
ratio is the median of the per-round ratios (each round runs both sides seconds apart), with its
range.
"""
import json
import os
import re
import statistics
import sys

PEERS = [("pytorch-eager", "pytorch"), ("jax-jit", "jax-jit"), ("numpy-by-hand", "numpy")]


def load(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip().startswith("{")]


def select(records, workload, shape=None, backend=None, prefix=None):
    out = {}
    for r in records:
        if r["workload"] != workload or (shape and r["shape"] != shape):
            continue
        if backend and r["backend"] != backend:
            continue
        if prefix and not r["backend"].startswith(prefix):
            continue
        out[r.get("round", 1)] = r
    return out


def median(values):
    values = list(values)
    return statistics.median(values) if values else None


def ratio(a, b, key_a="median_ms", key_b="median_ms"):
    """Median and range over the rounds both have of a[k]/b[k]."""
    rounds = sorted(set(a) & set(b))
    if not rounds:
        return None
    values = [a[k][key_a] / b[k][key_b] for k in rounds]
    return statistics.median(values), min(values), max(values)


def fmt_ratio(r, percent=False):
    if r is None:
        return "—"
    m, lo, hi = r
    if percent:
        return f"{100 * m:.0f} % ({100 * lo:.0f}–{100 * hi:.0f})"
    return f"{m:.2f} ({lo:.2f}–{hi:.2f})"


def ms(records, key="median_ms"):
    m = median(r[key] for r in records.values())
    return "—" if m is None else (f"{m:.3g}" if m < 10 else f"{m:.1f}")


def main(folder):
    targets = []
    for t in (1, 2):
        off_ours = load(f"{folder}/off-t{t}/ours-t{t}.jsonl")
        off_peers = load(f"{folder}/off-t{t}/peers-t{t}.jsonl")
        blas_ours = load(f"{folder}/blas-t{t}/ours-t{t}.jsonl")
        blas_peers = load(f"{folder}/blas-t{t}/peers-t{t}.jsonl")
        gemm = load(f"{folder}/gemm-t{t}.jsonl")
        if not off_ours:
            continue
        isa = off_ours[0].get("isa", "?")
        cpu = off_ours[0].get("cpu", "?")
        peer_isa = {r["backend"].split("-")[0]: r.get("isa", "?") for r in off_peers}
        print(f"## {t} thread{'s' if t > 1 else ''} — {cpu}; our kernels: {isa}; "
              + ", ".join(f"{b}: {i}" for b, i in peer_isa.items()))
        peak = select(off_ours, "machine", "multiply-add peak")
        triad = select(off_ours, "machine", "stream triad")
        peak_g = median(r["gflops"] for r in peak.values())
        triad_g = median(r["gbps"] for r in triad.values())
        if peak_g is None or triad_g is None:
            print("machine: not measured\n")
            triad_g = float("nan")
        else:
            print(f"machine: multiply-add peak {peak_g:.1f} GFLOP/s, STREAM triad {triad_g:.1f} GB/s "
                  f"(medians of {len(peak)} rounds)\n")
        print("| workload | ours, own kernels | ours, OpenBLAS GEMMs | PyTorch | JAX jit | NumPy |")
        print("|---|---|---|---|---|---|")
        for workload, shape_note in [("mlp-step", "784-512-512-10, b128, SGD"), ("softmax", "4096×1000 fwd+VJP, β=2"),
                                     ("jacobian", "1000×1000 softmax"), ("digits", "in-process, 20 epochs")]:
            ours = select(off_ours, workload, prefix="swift")
            blas = select(blas_ours, workload, backend="openblas")
            cells = [ms(ours), ms(blas) if blas else "—"]
            for backend, alt in PEERS:
                p = select(off_peers, workload, backend=backend) or select(off_peers, workload, backend=alt)
                cells.append(ms(p))
            print(f"| {workload} ({shape_note}) | " + " | ".join(cells) + " |")
        print("\n(milliseconds, medians over the rounds; the OpenBLAS column's peers ran in their own rounds)\n")

        softmax = select(off_ours, "softmax", prefix="swift")
        if softmax:
            fwd = median(r["forward_ms"] for r in softmax.values())
            bwd = median(r["backward_ms"] for r in softmax.values())
            fwd_g = median(r["forward_gbps"] for r in softmax.values())
            bwd_g = median(r["backward_gbps"] for r in softmax.values())
            both_g = median(r["gbps"] for r in softmax.values())
            print(f"softmax passes alone: forward {fwd:.2f} ms ({fwd_g:.1f} GB/s, {100 * fwd_g / triad_g:.0f} % of triad), "
                  f"VJP {bwd:.2f} ms ({bwd_g:.1f} GB/s, {100 * bwd_g / triad_g:.0f} %); "
                  f"through the API {both_g:.1f} GB/s ({100 * both_g / triad_g:.0f} %)\n")

        if gemm:
            print("| GEMM shape | ours, own kernels | OpenBLAS via Backprop | OpenBLAS direct |")
            print("|---|---|---|---|")
            for shape in dict.fromkeys(r["shape"] for r in gemm):
                cells = []
                for prefix in ("swift", "openblas", "openblas-direct"):
                    rs = {r.get("round", 1): r for r in gemm if r["shape"] == shape and
                          (r["backend"].startswith("swift") if prefix == "swift" else r["backend"] == prefix)}
                    g = median(r["gflops"] for r in rs.values())
                    cells.append("—" if g is None else f"{ms(rs)} ms ({g:.1f} GFLOP/s)")
                print(f"| {shape} | " + " | ".join(cells) + " |")
            print()

        # Targets.
        ours_mlp = select(off_ours, "mlp-step", prefix="swift")
        torch_mlp = select(off_peers, "mlp-step", backend="pytorch-eager")
        blas_mlp = select(blas_ours, "mlp-step", backend="openblas")
        torch_blas = select(blas_peers, "mlp-step", backend="pytorch-eager")
        jax_blas = select(blas_peers, "mlp-step", backend="jax-jit")
        sgemm_ours = {r.get("round", 1): r for r in gemm if r["shape"] == "1024x1024x1024 AB" and r["backend"].startswith("swift")}
        sgemm_direct = {r.get("round", 1): r for r in gemm if r["shape"] == "1024x1024x1024 AB" and r["backend"] == "openblas-direct"}
        torch_softmax = select(off_peers, "softmax", backend="pytorch")
        targets.append((t, [
            ("SGEMM 1024³, own kernels, ≥ 90 % of OpenBLAS direct", fmt_ratio(ratio(sgemm_direct, sgemm_ours), percent=True),
             ratio(sgemm_direct, sgemm_ours), lambda m: m >= 0.9),
            ("mlp-step, own kernels, ≤ 0.9 × PyTorch eager", fmt_ratio(ratio(ours_mlp, torch_mlp)), ratio(ours_mlp, torch_mlp),
             lambda m: m <= 0.9),
            ("mlp-step, OpenBLAS, ≤ 0.95 × JAX jit", fmt_ratio(ratio(blas_mlp, jax_blas)), ratio(blas_mlp, jax_blas),
             lambda m: m <= 0.95),
            ("mlp-step, OpenBLAS, ≤ 0.8 × PyTorch eager", fmt_ratio(ratio(blas_mlp, torch_blas)), ratio(blas_mlp, torch_blas),
             lambda m: m <= 0.8),
            ("softmax fwd+VJP ≥ 1.5 × PyTorch's speed", fmt_ratio(ratio(torch_softmax, softmax)), ratio(torch_softmax, softmax),
             lambda m: m >= 1.5),
            ("softmax fwd+VJP ≥ 60 % of STREAM triad", fmt_ratio(ratio(softmax, triad, "gbps", "gbps"), percent=True),
             ratio(softmax, triad, "gbps", "gbps"), lambda m: m >= 0.6),
        ]))

    print("## Targets (median of the per-round ratios, range)\n")
    print("| target | 1 thread | 2 threads |")
    print("|---|---|---|")
    rows = {}
    for t, items in targets:
        for name, text, r, met in items:
            verdict = "" if r is None else (" met" if met(r[0]) else " **missed**")
            rows.setdefault(name, {})[t] = text + verdict
    for name, cells in rows.items():
        print(f"| {name} | {cells.get(1, '—')} | {cells.get(2, '—')} |")
    train = f"{folder}/train.txt"
    if os.path.exists(train):
        walls = [float(m.group(1)) for m in re.finditer(r"([0-9.]+) s wall", open(train).read())]
        if walls:
            print(f"| `backprop train` under 0.3 s wall | {statistics.median(walls):.2f} s "
                  f"({min(walls):.2f}–{max(walls):.2f}, {len(walls)} runs, default threads) | |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "bench/results/zen3-2core")
