"""PyTorch interoperability of model files, both directions. Not run by CI (needs torch).

1. torch -> Backprop: saves nn.Sequential(Linear(4,6), Tanh(), Linear(6,3)) with
   safetensors.torch.save_file (a plain state_dict, no metadata) as torch_sequential.safetensors,
   with inputs, logits and labels in torch_sequential.json. ModelFileTests loads it (with
   --activation tanh, since there is no metadata) and checks the logits and labels.

2. Backprop -> torch: `python3 make_interop.py --check MODEL.safetensors [INPUT.csv]` loads a
   model written by `backprop train --out MODEL.safetensors` into torch.nn.Sequential through
   safetensors.torch.load_file + load_state_dict, applies the metadata's input standardisation,
   and compares its probabilities with `backprop predict --model MODEL --input INPUT --json`
   (the CSV defaults to the package's digits.csv; the last column is dropped when the file has
   one column more than the model's inputs). With --write it also records the model and torch's
   probabilities for the first rows as trained_here.safetensors / trained_here.json, which
   InteropTests compares against Backprop's own predictions without torch.
"""
import json, os, subprocess, sys
import numpy as np
import torch
import torch.nn as nn
from safetensors.torch import load_file, save_file, safe_open

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU}


def torch_to_backprop():
    torch.manual_seed(2024)
    model = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 3))
    save_file(model.state_dict(), os.path.join(HERE, "torch_sequential.safetensors"))
    x = torch.randn(8, 4)
    with torch.no_grad():
        logits = model(x)
    with open(os.path.join(HERE, "torch_sequential.json"), "w") as f:
        json.dump({"inputs": x.tolist(), "logits": logits.tolist(), "labels": logits.argmax(1).tolist()}, f, indent=1)
    print("wrote torch_sequential.safetensors / .json")


def load_backprop_model(path):
    """nn.Sequential from a Backprop model file, plus (mean, std, beta) from its metadata."""
    with safe_open(path, "pt") as f:
        meta = f.metadata()
    sizes = json.loads(meta["architecture"])
    act = ACTIVATIONS[meta["activation"]]
    layers = []
    for i in range(len(sizes) - 1):
        if i > 0:
            layers.append(act())
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
    model = nn.Sequential(*layers)
    state = {k: v for k, v in load_file(path).items() if not k.startswith("optimizer.") and k != "beta"}
    model.load_state_dict(state)  # strict: names and shapes must match exactly
    mean = torch.tensor(json.loads(meta["input_mean"]))
    std = torch.tensor(json.loads(meta["input_std"]))
    return model, mean, std, float(meta["beta"])


def check(model_path, csv_path, write):
    model, mean, std, beta = load_backprop_model(model_path)
    rows = np.loadtxt(csv_path, delimiter=",", dtype=np.float32, ndmin=2)
    n_in = model[0].in_features
    if rows.shape[1] == n_in + 1:
        rows = rows[:, :n_in]
    x = torch.from_numpy(rows)
    with torch.no_grad():
        probs = torch.softmax(beta * model((x - mean) / std), dim=1)
    cli = os.environ.get("BACKPROP", os.path.join(ROOT, ".build", "release", "backprop"))
    out = subprocess.run([cli, "predict", "--model", model_path, "--input", csv_path, "--json"],
                         check=True, capture_output=True, text=True).stdout
    ours = torch.tensor([json.loads(line)["probabilities"] for line in out.splitlines()])
    labels = [json.loads(line)["label"] for line in out.splitlines()]
    diff = (ours - probs).abs().max().item()
    same = labels == probs.argmax(1).tolist()
    print(f"{len(labels)} rows: max |p_backprop - p_torch| = {diff:.3g}; labels identical: {same}")
    assert same and diff < 1e-5, "Backprop and PyTorch disagree"
    if write:
        import shutil
        shutil.copy(model_path, os.path.join(HERE, "trained_here.safetensors"))
        k = 20
        with open(os.path.join(HERE, "trained_here.json"), "w") as f:
            json.dump({"inputs": rows[:k].tolist(), "probabilities": probs[:k].tolist(),
                       "labels": probs[:k].argmax(1).tolist(), "torch_version": torch.__version__}, f, indent=1)
        print("wrote trained_here.safetensors / .json")


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "--check":
        csv = sys.argv[3] if len(sys.argv) > 3 and not sys.argv[3].startswith("--") else os.path.join(ROOT, "Sources", "Backprop", "Resources", "digits.csv")
        check(sys.argv[2], csv, "--write" in sys.argv)
    else:
        torch_to_backprop()
