"""A nested PyTorch model (residual block, a module with a buffer, two branches), both directions.
Not run by CI (needs torch and safetensors); its outputs are committed.

The model (float64, torch.manual_seed(2024)):

    nn.Sequential(Linear(5,6), Tanh(),
                  Residual(Sequential(Linear(6,6), ReLU(), Linear(6,6))),   # x + body(x)
                  Scale(6),                                                 # x * scale + shift
                  TwoBranch(),                # cat([Linear(6,2)(x), Tanh(Linear(6,3)(x))], -1)
                  Linear(5,3))

`Scale` has a learned parameter `scale` and a fixed buffer `shift`, so the state_dict holds a
non-parameter tensor (`3.shift`), and the names nest (`2.body.0.weight`, `4.right.0.bias`).

1. `python3 make_nested_model.py` writes
   - nested_model.safetensors: model.state_dict() (parameters and the buffer, F64) via
     safetensors.torch.save_file, no metadata;
   - nested_model.json: inputs x (4x5), labels, logits, the mean cross-entropy loss, every
     parameter's gradient (plus `order` = state_dict keys, `parameters`, `buffers`), and the
     parameters after two steps of SGD(lr=0.1, momentum=0.9, weight_decay=0.01) and of
     Adam(lr=0.01) (gradient recomputed each step, each from the saved state), with the
     optimizer state after those steps (`sgd_state`: momentum_buffer; `adam_state`: exp_avg,
     exp_avg_sq), all by parameter name.

2. `python3 make_nested_model.py --check MODEL.safetensors [--write]` loads a file written by
   Backprop (same names, F32 or F64) into a fresh model with load_state_dict(strict=True), runs
   it on nested_model.json's inputs and prints the logits; with --write it records them as
   nested_here.json ({"file", "logits"}).
"""
import json, os, sys
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
torch.set_default_dtype(torch.float64)


class Scale(nn.Module):
    """y = x * scale + shift: a learned per-feature scale (parameter) and a fixed shift (buffer)."""
    def __init__(self, n):
        super().__init__()
        self.scale = nn.Parameter(torch.empty(n).uniform_(0.5, 1.5))
        self.register_buffer("shift", torch.empty(n).uniform_(-0.1, 0.1))

    def forward(self, x):
        return x * self.scale + self.shift


class Residual(nn.Module):
    def __init__(self, body):
        super().__init__()
        self.body = body

    def forward(self, x):
        return x + self.body(x)


class TwoBranch(nn.Module):
    def __init__(self):
        super().__init__()
        self.left = nn.Linear(6, 2)
        self.right = nn.Sequential(nn.Linear(6, 3), nn.Tanh())

    def forward(self, x):
        return torch.cat([self.left(x), self.right(x)], dim=-1)


def make_model():
    return nn.Sequential(nn.Linear(5, 6), nn.Tanh(),
                         Residual(nn.Sequential(nn.Linear(6, 6), nn.ReLU(), nn.Linear(6, 6))),
                         Scale(6), TwoBranch(), nn.Linear(5, 3))


def tolist(t):
    return t.detach().tolist()


def write_fixture():
    torch.manual_seed(2024)
    model = make_model()
    initial = {k: v.detach().clone() for k, v in model.state_dict().items()}
    save_file({k: v.contiguous() for k, v in initial.items()}, os.path.join(HERE, "nested_model.safetensors"))
    x = torch.randn(4, 5)
    y = torch.tensor([0, 2, 1, 2])

    def fresh():
        m = make_model()
        m.load_state_dict(initial, strict=True)
        return m

    m = fresh()
    logits = m(x)
    loss = F.cross_entropy(logits, y)
    loss.backward()
    params = [k for k, _ in m.named_parameters()]
    buffers = [k for k, _ in m.named_buffers()]
    gradients = {k: tolist(p.grad) for k, p in m.named_parameters()}
    gradients["order"] = list(initial.keys())
    gradients["parameters"] = params
    gradients["buffers"] = buffers

    def two_steps(make_opt):
        m = fresh()
        opt = make_opt(m.parameters())
        for _ in range(2):
            opt.zero_grad()
            F.cross_entropy(m(x), y).backward()
            opt.step()
        after = {k: tolist(p) for k, p in m.named_parameters()}
        state = {k: {s: tolist(v) for s, v in opt.state[p].items() if s != "step"}
                 for k, p in m.named_parameters()}
        return after, state

    sgd, sgd_state = two_steps(lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01))
    adam, adam_state = two_steps(lambda ps: torch.optim.Adam(ps, lr=0.01))

    out = {
        "inputs": tolist(x),
        "labels": y.tolist(),
        "logits": tolist(logits),
        "loss": loss.item(),
        "gradients": gradients,
        "sgd_hyperparameters": {"lr": 0.1, "momentum": 0.9, "dampening": 0.0, "nesterov": False,
                                "weight_decay": 0.01, "steps": 2},
        "sgd": sgd,
        "sgd_state": sgd_state,
        "adam_hyperparameters": {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8,
                                 "weight_decay": 0.0, "steps": 2},
        "adam": adam,
        "adam_state": adam_state,
        "torch_version": torch.__version__,
    }
    with open(os.path.join(HERE, "nested_model.json"), "w") as f:
        json.dump(out, f, indent=1)
    print("state_dict order:", list(initial.keys()))
    print("wrote nested_model.safetensors / .json with torch", torch.__version__)


def check(path, write):
    state = {k: v.to(torch.float64) for k, v in load_file(path).items()}
    model = make_model()
    model.load_state_dict(state, strict=True)  # raises on missing / unexpected keys or bad shapes
    with open(os.path.join(HERE, "nested_model.json")) as f:
        x = torch.tensor(json.load(f)["inputs"])
    with torch.no_grad():
        logits = model(x)
    print(json.dumps(logits.tolist()))
    if write:
        with open(os.path.join(HERE, "nested_here.json"), "w") as f:
            json.dump({"file": os.path.basename(path), "logits": logits.tolist()}, f, indent=1)
        print("wrote nested_here.json")


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "--check":
        check(sys.argv[2], "--write" in sys.argv[3:])
    elif len(sys.argv) == 1:
        write_fixture()
    else:
        sys.exit("usage: make_nested_model.py [--check MODEL.safetensors [--write]]")
