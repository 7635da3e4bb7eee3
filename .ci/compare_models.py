#!/usr/bin/env python3
"""Compares the tensors of two safetensors files (F32/F64), standard library only.

    compare_models.py A B [--tolerance 1e-5]

Prints, per tensor and overall, max |a - b| / max |b|; exits 1 when the names or shapes differ
or the overall figure exceeds the tolerance (0 demands bit-identical tensors).
"""
import array
import json
import struct
import sys


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        code = {"F32": "f", "F64": "d"}[info["dtype"]]
        start, end = info["data_offsets"]
        values = array.array(code)
        values.frombytes(body[start:end])
        if sys.byteorder != "little":
            values.byteswap()
        tensors[name] = (info["shape"], values)
    return tensors


def main():
    args = sys.argv[1:]
    tolerance = 1e-5
    if "--tolerance" in args:
        i = args.index("--tolerance")
        tolerance = float(args[i + 1])
        del args[i:i + 2]
    a, b = read(args[0]), read(args[1])
    if sorted(a) != sorted(b):
        print(f"different tensors: {sorted(a)} vs {sorted(b)}")
        return 1
    worst = 0.0
    for name in sorted(a):
        (sa, va), (sb, vb) = a[name], b[name]
        if sa != sb:
            print(f"{name}: shapes {sa} and {sb} differ")
            return 1
        scale = max((abs(x) for x in vb), default=0.0)
        diff = max((abs(x - y) for x, y in zip(va, vb)), default=0.0)
        rel = diff / scale if scale > 0 else diff
        worst = max(worst, rel)
        print(f"{name} {sa}: max relative difference {rel:.3g}")
    print(f"overall: {worst:.3g} (tolerance {tolerance:g})")
    return 0 if worst <= tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
