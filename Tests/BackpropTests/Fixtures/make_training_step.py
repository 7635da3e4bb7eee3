"""Writes training_step.json: one MLP training step computed by PyTorch, for TrainingStepTests.

A 4-5-3 ReLU MLP (nn.Sequential(Linear(4,5), ReLU(), Linear(5,3))) in float64 with fixed
initial weights (written into the JSON, so Swift starts from exactly the same numbers), a batch
of 6 examples and labels. Recorded:
  - the cross-entropy loss and every parameter's gradient (plain, and with β = 2 plus label
    smoothing 0.1, i.e. cross_entropy(2·z, y, label_smoothing=0.1));
  - the gradients after clip_grad_norm_(max_norm=0.5);
  - the parameters after each of two steps (gradient recomputed at the new parameters, on the
    same batch) of SGD with momentum, SGD with Nesterov momentum and weight decay, Adam with L2
    weight decay, and AdamW — two steps so that the optimizer state is exercised.
  - NLL (on log_softmax) and MSE values for the loss tests.

Run: python3 make_training_step.py   (torch 2.x, CPU). CI does not run this; the JSON is committed.
"""
import json
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(1234)
dtype = torch.float64

def make_model():
    return nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 3)).to(dtype)

base = make_model()
initial = {k: v.detach().clone() for k, v in base.state_dict().items()}
x = torch.randn(6, 4, dtype=dtype)
y = torch.tensor([0, 2, 1, 2, 0, 1])

def tolist(t):
    return t.detach().tolist()

def fresh():
    m = make_model()
    m.load_state_dict(initial)
    return m

def grads(model, beta=1.0, smoothing=0.0):
    model.zero_grad()
    loss = F.cross_entropy(beta * model(x), y, label_smoothing=smoothing)
    loss.backward()
    return loss.item(), {k: tolist(p.grad) for k, p in model.named_parameters()}

out = {
    "initial": {k: tolist(v) for k, v in initial.items()},
    "x": tolist(x),
    "labels": y.tolist(),
}
loss, g = grads(fresh())
out["loss"] = loss
out["gradients"] = g
loss_b, g_b = grads(fresh(), beta=2.0, smoothing=0.1)
out["beta_smoothing"] = {"beta": 2.0, "label_smoothing": 0.1, "loss": loss_b, "gradients": g_b}

m = fresh()
m.zero_grad()
F.cross_entropy(m(x), y).backward()
norm = torch.nn.utils.clip_grad_norm_(m.parameters(), max_norm=0.5)
out["clipped"] = {"max_norm": 0.5, "total_norm": norm.item(),
                  "gradients": {k: tolist(p.grad) for k, p in m.named_parameters()}}

optimizers = {
    "sgd_momentum": (lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9),
                     {"lr": 0.1, "momentum": 0.9, "nesterov": False, "weight_decay": 0.0}),
    "sgd_nesterov": (lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
                     {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    "adam": (lambda ps: torch.optim.Adam(ps, lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.05),
             {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.05}),
    "adamw": (lambda ps: torch.optim.AdamW(ps, lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1),
              {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.1}),
}
out["optimizers"] = {}
for name, (make, hyper) in optimizers.items():
    m = fresh()
    opt = make(m.parameters())
    steps = []
    for _ in range(2):
        opt.zero_grad()
        F.cross_entropy(m(x), y).backward()
        opt.step()
        steps.append({k: tolist(v) for k, v in m.state_dict().items()})
    out["optimizers"][name] = {"hyperparameters": hyper, "after_steps": steps}

logits = fresh()(x)
target = torch.linspace(-1, 1, 18, dtype=dtype).reshape(6, 3)
out["nll"] = F.nll_loss(F.log_softmax(logits, dim=1), y).item()
out["mse"] = {"target": tolist(target), "value": F.mse_loss(logits, target).item()}
out["torch_version"] = torch.__version__

with open("training_step.json", "w") as f:
    json.dump(out, f, indent=1)
print("wrote training_step.json with torch", torch.__version__)
