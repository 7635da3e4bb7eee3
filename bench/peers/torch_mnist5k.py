"""The reference CNN on data/mnist-5k in PyTorch (eager, float32, CPU), on the split and batch
order `backprop train` uses, for comparing test accuracy and wall time.

    python3 bench/peers/torch_mnist5k.py [--threads N] [--seeds 0,1,2] [--epochs 10] [--json]

What it reproduces from `backprop train --data data/mnist-5k/images-idx3-ubyte.gz
--labels data/mnist-5k/labels-idx1-ubyte.gz --arch cnn --epochs 10`:
- the stratified 70/10/20 split of `DataSplit.stratified` (xoshiro256** seeded by SplitMix64,
  the same Fisher-Yates shuffle per class), so the 1,000 test images are the same ones;
- the standardisation: one mean and (population) standard deviation over every pixel of the
  training split;
- the batches: each epoch's permutation of the training split from the generator seeded by
  seed + (epoch + 1) * 0x9E3779B97F4A7C15, cut into runs of 32 (the last one smaller);
- the model conv(16, 3x3, padding 1)-ReLU-maxpool 2-conv(32, 3x3, padding 1)-ReLU-maxpool 2-
  linear(10), Adam lr 1e-3, mean cross-entropy.
The initial weights are PyTorch's own (torch.manual_seed(seed)), not the library's.

Prints one line per seed (test accuracy, seconds from reading the files to the test
accuracy); with --json, JSON lines in the schema of the other peers (workload "mnist-5k").
"""
import argparse
import gzip
import json
import os
import struct
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "data", "mnist-5k")
MASK = (1 << 64) - 1


class SeededGenerator:
    """Backprop's SeededGenerator: xoshiro256** seeded by SplitMix64."""

    def __init__(self, seed):
        s = seed & MASK
        state = []
        for _ in range(4):
            s = (s + 0x9E3779B97F4A7C15) & MASK
            z = s
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
            state.append(z ^ (z >> 31))
        self.s = state

    def next(self):
        s0, s1, s2, s3 = self.s
        rotl = lambda x, k: ((x << k) | (x >> (64 - k))) & MASK
        result = (rotl((s1 * 5) & MASK, 7) * 9) & MASK
        t = (s1 << 17) & MASK
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        self.s = [s0, s1, s2, s3]
        return result


def shuffle(items, generator):
    """Backprop's Fisher-Yates shuffle."""
    for i in range(len(items) - 1, 0, -1):
        j = generator.next() % (i + 1)
        items[i], items[j] = items[j], items[i]


def stratified_split(labels, validation_fraction, test_fraction, seed):
    """DataSplit.stratified: each class shuffled and cut in the same proportions."""
    by_class = {}
    for i, label in enumerate(labels):
        by_class.setdefault(label, []).append(i)
    generator = SeededGenerator(seed ^ 0x5EED5B1170000000)
    train, validation, test = [], [], []
    for label in sorted(by_class):
        members = by_class[label]
        shuffle(members, generator)
        n = len(members)
        n_test = int(round_half_away(n * test_fraction))
        n_validation = min(int(round_half_away(n * validation_fraction)), n - n_test)
        test += members[:n_test]
        validation += members[n_test:n_test + n_validation]
        train += members[n_test + n_validation:]
    return sorted(train), sorted(validation), sorted(test)


def round_half_away(x):
    """Swift's Double.rounded(): to nearest, ties away from zero."""
    return int(x + 0.5) if x >= 0 else -int(-x + 0.5)


def epoch_batches(count, batch_size, seed, epoch):
    generator = SeededGenerator((seed + ((epoch + 1) * 0x9E3779B97F4A7C15)) & MASK)
    order = list(range(count))
    shuffle(order, generator)
    return [order[i:i + batch_size] for i in range(0, count, batch_size)]


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return shape, data[4 + 4 * dims:]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    torch.set_num_threads(args.threads)

    for seed in [int(s) for s in args.seeds.split(",")]:
        start = time.perf_counter()
        (n, h, w), pixels = read_idx(os.path.join(DATA, "images-idx3-ubyte.gz"))
        _, label_bytes = read_idx(os.path.join(DATA, "labels-idx1-ubyte.gz"))
        images = torch.frombuffer(bytearray(pixels), dtype=torch.uint8).float().reshape(n, 1, h, w)
        labels = list(label_bytes)
        train, validation, test = stratified_split(labels, 0.1, 0.2, seed)
        train_t = torch.tensor(train)
        mean = images[train_t].double().mean().item()
        std = images[train_t].double().std(unbiased=False).item()
        x = ((images.double() - mean) / std).float()
        y = torch.tensor(labels)
        x_train, y_train = x[train_t], y[train_t]
        torch.manual_seed(seed)
        model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Flatten(), nn.Linear(32 * (h // 4) * (w // 4), 10))
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        for epoch in range(args.epochs):
            model.train()
            for batch in epoch_batches(len(train), 32, seed, epoch):
                index = torch.tensor(batch)
                optimizer.zero_grad(set_to_none=True)
                F.cross_entropy(model(x_train[index]), y_train[index]).backward()
                optimizer.step()
        model.eval()
        with torch.no_grad():
            test_t = torch.tensor(test)
            accuracy = (model(x[test_t]).argmax(1) == y[test_t]).float().mean().item()
        seconds = time.perf_counter() - start
        if args.json:
            print(json.dumps({"workload": "mnist-5k", "shape": f"cnn {args.epochs} epochs seed {seed}",
                              "threads": args.threads, "backend": "pytorch-eager", "median_ms": seconds * 1e3,
                              "seconds": seconds, "accuracy": accuracy}), flush=True)
        else:
            print(f"seed {seed}: test accuracy {accuracy * 100:.2f}% ({round(accuracy * len(test))}/{len(test)}), "
                  f"split {len(train)}/{len(validation)}/{len(test)}, {args.epochs} epochs, {seconds:.2f} s "
                  f"on {args.threads} thread(s), torch {torch.__version__}", flush=True)


if __name__ == "__main__":
    main()
