"""A small CNN with every convolutional layer kind, in PyTorch float32, both directions.
Not run by CI (needs torch and safetensors); its outputs are committed.

The model (torch.manual_seed(7)), on inputs [5, 1, 10, 12]:

    nn.Sequential(Conv2d(1, 4, 3, padding=1), BatchNorm2d(4), ReLU(), MaxPool2d(2),
                  Conv2d(4, 6, (3, 5), stride=(1, 2), padding=(1, 2), groups=2), ReLU(),
                  AvgPool2d(2, stride=1, padding=1), Dropout(0.25), Flatten(),
                  Linear(144, 16), LayerNorm(16), ReLU(), BatchNorm1d(16), Linear(16, 3))

1. `python3 make_cnn_model.py` trains it three SGD steps in training mode (so the batch norms'
   running statistics and num_batches_tracked move), then writes
   - cnn_model.safetensors: model.state_dict() via safetensors.torch.save_file (F32, and I64
     for num_batches_tracked), no metadata;
   - cnn_model.json: the inputs x and the evaluation-mode outputs, and the state_dict's names.

2. `python3 make_cnn_model.py --check MODEL.safetensors [--write]` loads a file written by
   Backprop (same names, F32; num_batches_tracked as a float) into a fresh model with
   load_state_dict(strict=True), runs it in evaluation mode on cnn_model.json's inputs and
   prints the outputs; with --write it records them as cnn_here.json ({"file", "outputs"}).
"""
import json, os, sys
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))


def make_model():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, (3, 5), stride=(1, 2), padding=(1, 2), groups=2), nn.ReLU(),
        nn.AvgPool2d(2, stride=1, padding=1), nn.Dropout(0.25), nn.Flatten(),
        nn.Linear(144, 16), nn.LayerNorm(16), nn.ReLU(), nn.BatchNorm1d(16), nn.Linear(16, 3))


def write_fixture():
    torch.manual_seed(7)
    model = make_model()
    x = torch.randn(5, 1, 10, 12)
    y = torch.tensor([0, 2, 1, 2, 0])
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    model.train()
    for step in range(3):
        batch = x + 0.3 * step
        opt.zero_grad()
        F.cross_entropy(model(batch), y).backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        outputs = model(x)
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    save_file(state, os.path.join(HERE, "cnn_model.safetensors"))
    with open(os.path.join(HERE, "cnn_model.json"), "w") as f:
        json.dump({"inputs": {"shape": list(x.shape), "data": x.reshape(-1).tolist()},
                   "outputs": outputs.tolist(), "names": list(state.keys()),
                   "torch_version": torch.__version__}, f, indent=1)
    print("state_dict:", [(k, list(v.shape), str(v.dtype)) for k, v in state.items()])
    print("wrote cnn_model.safetensors / .json with torch", torch.__version__)


def check(path, write):
    model = make_model()
    model.load_state_dict(load_file(path), strict=True)  # raises on missing / unexpected keys or bad shapes
    model.eval()
    with open(os.path.join(HERE, "cnn_model.json")) as f:
        inputs = json.load(f)["inputs"]
    x = torch.tensor(inputs["data"]).reshape(inputs["shape"])
    with torch.no_grad():
        outputs = model(x)
    print(json.dumps(outputs.tolist()))
    if write:
        with open(os.path.join(HERE, "cnn_here.json"), "w") as f:
            json.dump({"file": os.path.basename(path), "outputs": outputs.tolist()}, f, indent=1)
        print("wrote cnn_here.json")


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "--check":
        check(sys.argv[2], "--write" in sys.argv[3:])
    elif len(sys.argv) == 1:
        write_fixture()
    else:
        sys.exit("usage: make_cnn_model.py [--check MODEL.safetensors [--write]]")
