#!/usr/bin/env python3
"""Kill test: SIGKILL `backprop train` at random moments and check what it leaves behind.

    swift build -c release --product backprop
    python3 bench/killtest.py --backprop .build/release/backprop --kills 50 --seed 1

1. An uninterrupted reference run writes model.safetensors.
2. A chain of runs on the same files (`--out`, `--checkpoint`, `--metrics`) is started and
   SIGKILLed at a uniformly random moment of its expected duration, again and again; each
   run resumes from the checkpoint the last one left (or starts afresh if there is none),
   until at least --kills runs were killed while still running.
3. After every kill: the checkpoint (when there is one) must be a complete safetensors file
   (header, offsets and size consistent); a copy of it is resumed to the end in a scratch
   directory, and the model it writes must be byte-identical to the reference.
4. The chain then runs to the end unkilled: its model must equal the reference, and no
   temporary file (.NAME.tmp-PID-*) or lock file (.NAME.lock) may be left.

Prints the figures and exits non-zero unless there are 0 corrupt files, 0 stale temporary
or lock files and 100 % of resumes equal to the reference. Python 3.11 standard library only.
"""

import argparse
import json
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

TRAIN = ["train", "--epochs", "40", "--layers", "64,128,10", "--optimizer", "adam", "--seed", "7"]


def safetensors_problem(path):
    """None if `path` is a complete safetensors file, else what is wrong with it."""
    try:
        data = open(path, "rb").read()
    except OSError as error:
        return f"unreadable: {error}"
    if len(data) < 8:
        return f"{len(data)} bytes"
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        return f"header length {n} beyond the file"
    try:
        header = json.loads(data[8 : 8 + n])
    except ValueError as error:
        return f"header is not JSON: {error}"
    spans = sorted(tuple(v["data_offsets"]) for k, v in header.items() if k != "__metadata__")
    cursor = 0
    for begin, end in spans:
        if begin != cursor or end < begin:
            return f"tensors do not tile the buffer at {begin}"
        cursor = end
    if cursor != len(data) - 8 - n:
        return f"buffer is {len(data) - 8 - n} bytes, tensors cover {cursor}"
    if "checkpoint" not in header.get("__metadata__", {}):
        return "no checkpoint metadata"
    return None


def epochs_completed(path):
    """The epochs a checkpoint has completed (0 when there is none)."""
    try:
        data = open(path, "rb").read()
        (n,) = struct.unpack("<Q", data[:8])
        return json.loads(json.loads(data[8 : 8 + n])["__metadata__"]["checkpoint"])["epochs_completed"]
    except (OSError, ValueError, KeyError, struct.error):
        return 0


def leftovers(directory):
    """Temporary and lock files in `directory`."""
    return sorted(name for name in os.listdir(directory) if ".tmp-" in name or name.endswith(".lock"))


def run(backprop, arguments, **kwargs):
    return subprocess.run([backprop] + arguments, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, **kwargs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backprop", default=".build/release/backprop")
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()
    backprop = os.path.abspath(options.backprop)
    rng = random.Random(options.seed)
    root = tempfile.mkdtemp(prefix="backprop-killtest-")
    try:
        # 1. The reference.
        reference_dir = os.path.join(root, "reference")
        os.mkdir(reference_dir)
        start = time.monotonic()
        result = run(backprop, TRAIN + ["--out", os.path.join(reference_dir, "model.safetensors")])
        duration = time.monotonic() - start
        if result.returncode != 0:
            sys.exit(f"killtest: the reference run failed: {result.stderr.strip()}")
        reference = open(os.path.join(reference_dir, "model.safetensors"), "rb").read()
        # Startup (loading, splitting, the first evaluation) and the time per epoch, from a one-epoch run.
        start = time.monotonic()
        run(backprop, ["train", "--epochs", "1"] + TRAIN[3:])
        one_epoch = time.monotonic() - start
        per_epoch = max((duration - one_epoch) / 39, 1e-3)
        startup = max(one_epoch - per_epoch, 0.0)

        # 2. The killed chain.
        chain = os.path.join(root, "chain")
        os.mkdir(chain)
        out = os.path.join(chain, "model.safetensors")
        checkpoint = os.path.join(chain, "model.checkpoint.safetensors")
        metrics = os.path.join(chain, "metrics.jsonl")
        outputs = ["--out", out, "--checkpoint", checkpoint, "--metrics", metrics]
        kills = attempts = corrupt = resumes = resumes_equal = temporaries_seen = finished_early = completed = 0
        temporaries_before = set()
        problems = []
        while kills < options.kills:
            attempts += 1
            arguments = (["train", "--resume", checkpoint, "--epochs", "40"] if os.path.exists(checkpoint) else TRAIN) + outputs
            process = subprocess.Popen([backprop] + arguments, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            # A moment within this run's expected duration: startup, then the epochs left after the checkpoint.
            time.sleep(rng.uniform(0, startup + per_epoch * (40 - epochs_completed(checkpoint))))
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait()
                kills += 1
            else:
                finished_early += 1
                if process.returncode != 0:
                    problems.append(f"attempt {attempts} failed: {process.stderr.read().decode().strip()}")
                elif open(out, "rb").read() != reference:
                    problems.append(f"attempt {attempts}: the chain's model differs from the reference")
                completed += 1
                # The chain finished: start it again from the beginning.
                for name in os.listdir(chain):
                    os.remove(os.path.join(chain, name))
                continue
            present = {name for name in os.listdir(chain) if ".tmp-" in name}
            temporaries_seen += len(present - temporaries_before)
            temporaries_before = present
            if os.path.exists(out):
                # Killed after writing --out, on its way out: the file must be the whole model.
                if open(out, "rb").read() != reference:
                    corrupt += 1
                    problems.append(f"kill {kills}: --out is not the finished model")
                completed += 1
                for name in os.listdir(chain):
                    os.remove(os.path.join(chain, name))
                continue
            if os.path.exists(checkpoint):
                problem = safetensors_problem(checkpoint)
                if problem:
                    corrupt += 1
                    problems.append(f"kill {kills}: corrupt checkpoint: {problem}")
                    os.remove(checkpoint)
                    continue
                # 3. Resume a copy to the end and compare with the reference.
                scratch = os.path.join(root, f"resume-{kills}")
                os.mkdir(scratch)
                copy = os.path.join(scratch, "c.safetensors")
                shutil.copyfile(checkpoint, copy)
                resumed = run(backprop, ["train", "--resume", copy, "--epochs", "40", "--out", os.path.join(scratch, "m.safetensors")])
                resumes += 1
                if resumed.returncode == 0 and open(os.path.join(scratch, "m.safetensors"), "rb").read() == reference:
                    resumes_equal += 1
                else:
                    problems.append(f"kill {kills}: resumed run differs from the reference ({resumed.stderr.strip()})")
                shutil.rmtree(scratch)

        # 4. The chain to the end, unkilled.
        arguments = (["train", "--resume", checkpoint, "--epochs", "40"] if os.path.exists(checkpoint) else TRAIN) + outputs
        final = run(backprop, arguments)
        final_equal = final.returncode == 0 and open(out, "rb").read() == reference
        stale = leftovers(chain)
        print(f"killtest: {kills} SIGKILLs in {attempts} runs ({finished_early} finished before their kill); "
              f"reference run {duration:.2f} s (startup {startup:.2f} s, {per_epoch * 1000:.0f} ms per epoch)")
        print(f"  chains that reached the end (model equal to the reference) and were started again: {completed}")
        print(f"  kills that left a new temporary file behind (killed mid-write): {temporaries_seen}")
        print(f"  corrupt checkpoints or models: {corrupt}")
        print(f"  resumes from a kill's checkpoint equal to the uninterrupted run: {resumes_equal}/{resumes}")
        print(f"  final model of the killed chain equal to the uninterrupted run: {'yes' if final_equal else 'NO'}")
        print(f"  stale temporary or lock files left at the end: {len(stale)} {stale if stale else ''}")
        for problem in problems[:10]:
            print(f"  problem: {problem}")
        ok = corrupt == 0 and not stale and resumes == resumes_equal and final_equal and not problems
        sys.exit(0 if ok else 1)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
