"""Prints ours-vs-peers ratios from JSON lines (`backprop bench --json` and bench/peers/*).

    python3 bench/compare.py ours.jsonl peers.jsonl

For each of our measurements and each peer measurement of the same workload and shape, the
time ratio ours/peer (below 1: we are faster). Lines may carry a "round" (bench/compare.sh
--rounds): a ratio is then taken within each round, and the table shows the median over the
rounds, its range, and the median times. GEMM through a BLAS is also set against the same BLAS
called directly.
"""
import json
import statistics
import sys


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip().startswith("{")]


def by_round(records):
    """{(workload, shape, backend): {round: median_ms}}, in the order first seen."""
    groups = {}
    for r in records:
        groups.setdefault((r["workload"], r["shape"], r["backend"]), {})[r.get("round", 1)] = r["median_ms"]
    return groups


def threads_of(records):
    return {(r["workload"], r["shape"], r["backend"]): r["threads"] for r in records}


def row(key, peer_backend, ours, peer, threads):
    rounds = sorted(set(ours) & set(peer))
    if not rounds:
        return None
    ratios = [ours[k] / peer[k] for k in rounds]
    ratio = statistics.median(ratios)
    spread = f"{min(ratios):.2f}–{max(ratios):.2f}" if len(ratios) > 1 else ""
    return (key[0], key[1], str(threads), key[2], f"{statistics.median(ours[k] for k in rounds):.3f}",
            peer_backend, f"{statistics.median(peer[k] for k in rounds):.3f}", f"{ratio:.2f}", spread,
            f"{1 / ratio:.2f}x", str(len(rounds)))


def instruction_sets(records):
    """{backend: (isa, cpu)} as the records report them (first seen)."""
    found = {}
    for r in records:
        found.setdefault(r["backend"], (r.get("isa", "?"), r.get("cpu")))
    return found


def main():
    ours_records, peer_records = load(sys.argv[1]), load(sys.argv[2])
    ours, peers, threads = by_round(ours_records), by_round(peer_records), threads_of(ours_records)
    cpus = {r["cpu"] for r in ours_records if r.get("cpu")}
    if cpus:
        print("cpu (CPUID): " + "; ".join(sorted(cpus)))
    for backend, (isa, _) in instruction_sets(ours_records + peer_records).items():
        print(f"  {backend}: {isa}")
    print()
    # The machine's limits, when measured (ours only).
    for r in ours_records:
        if r["workload"] == "machine":
            figure = f"{r['gflops']:.1f} GFLOP/s" if "gflops" in r else f"{r.get('gbps', 0):.1f} GB/s"
            print(f"machine, {r['shape']}, {r['threads']} threads: {figure} (round {r.get('round', 1)})")
    ours = {k: v for k, v in ours.items() if k[0] != "machine"}
    rows = [("workload", "shape", "thr", "ours", "ours ms", "peer", "peer ms", "time ours/peer", "range",
             "speed-up", "rounds")]
    for key, times in ours.items():
        for (workload, shape, backend), peer_times in peers.items():
            if (workload, shape) == key[:2]:
                r = row(key, backend, times, peer_times, threads[key])
                if r:
                    rows.append(r)
    # GEMM through Backprop against the same BLAS called directly, when both were measured.
    for key, times in ours.items():
        if key[0] == "gemm" and not key[2].endswith("-direct"):
            for other, direct in ours.items():
                if other[:2] == key[:2] and other[2].endswith("-direct"):
                    r = row(key, other[2], times, direct, threads[key])
                    if r:
                        rows.append(r)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))


if __name__ == "__main__":
    main()
