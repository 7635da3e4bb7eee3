"""Prints ours-vs-peers ratios from JSON lines (`backprop bench --json` and bench/peers/*).

    python3 bench/compare.py ours.jsonl peers.jsonl

For each of our measurements and each peer measurement of the same workload and shape, the
time ratio ours/peer (below 1: we are faster) and, for GEMM, our GFLOP/s as a fraction of theirs.
"""
import json
import sys


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip().startswith("{")]


def main():
    ours, peers = load(sys.argv[1]), load(sys.argv[2])
    rows = [("workload", "shape", "thr", "ours", "ours ms", "peer", "peer ms", "time ours/peer", "speed-up")]
    for o in ours:
        for p in peers:
            if p["workload"] == o["workload"] and p["shape"] == o["shape"]:
                ratio = o["median_ms"] / p["median_ms"]
                rows.append((o["workload"], o["shape"], str(o["threads"]), o["backend"], f"{o['median_ms']:.3f}",
                             p["backend"], f"{p['median_ms']:.3f}", f"{ratio:.2f}", f"{1 / ratio:.2f}x"))
    # GEMM through Backprop against the same BLAS called directly, when both were measured.
    for o in ours:
        if o["workload"] == "gemm" and not o["backend"].endswith("-direct"):
            for d in ours:
                if d["workload"] == "gemm" and d["shape"] == o["shape"] and d["backend"].endswith("-direct"):
                    ratio = o["median_ms"] / d["median_ms"]
                    rows.append((o["workload"], o["shape"], str(o["threads"]), o["backend"], f"{o['median_ms']:.3f}",
                                 d["backend"], f"{d['median_ms']:.3f}", f"{ratio:.2f}", f"{1 / ratio:.2f}x"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))


if __name__ == "__main__":
    main()
