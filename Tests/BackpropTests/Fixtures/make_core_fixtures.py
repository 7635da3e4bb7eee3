"""Writes core_pytorch.json: softmax(βx), affine and fused cross-entropy values and gradients
computed by PyTorch autograd in float64, from fixed inputs, as an independent oracle.

Run (needs torch): python3 Tests/BackpropTests/Fixtures/make_core_fixtures.py
CI does not run this; it reads the committed JSON.
"""
import json, os
import torch

torch.set_default_dtype(torch.float64)
g = torch.Generator().manual_seed(7)
out = {"generator": f"torch {torch.__version__}, float64", "cases": []}

def case(name, **tensors):
    out["cases"].append({"name": name, **{k: v.detach().reshape(-1).tolist() if torch.is_tensor(v) else v for k, v in tensors.items()},
                         **{k + "_shape": list(v.shape) for k, v in tensors.items() if torch.is_tensor(v)}})

# softmax with inverse temperature, gradients w.r.t. x and beta for L = <u, softmax(beta x)>
for beta_value in [2.0, 0.0, -3.0, 100.0]:
    x = (torch.randn(3, 5, generator=g) * (1e4 if beta_value == 100.0 else 1)).requires_grad_()
    beta = torch.tensor(beta_value, requires_grad=True)
    u = torch.randn(3, 5, generator=g)
    y = torch.softmax(beta * x, dim=-1)
    (y * u).sum().backward()
    case(f"softmax beta={beta_value}", x=x, beta=beta_value, u=u, y=y, grad_x=x.grad, grad_beta=beta.grad.item())

# affine y = x W^T + b (torch.nn.functional.linear), L = <u, y>
x = torch.randn(4, 3, generator=g, requires_grad=True)
w = torch.randn(2, 3, generator=g, requires_grad=True)
b = torch.randn(2, generator=g, requires_grad=True)
u = torch.randn(4, 2, generator=g)
y = torch.nn.functional.linear(x, w, b)
(y * u).sum().backward()
case("affine", x=x, w=w, b=b, u=u, y=y, grad_x=x.grad, grad_w=w.grad, grad_b=b.grad)

# fused cross-entropy on beta*z with label smoothing 0.1, mean over the batch
z = torch.randn(4, 5, generator=g, requires_grad=True)
beta = torch.tensor(1.5, requires_grad=True)
labels = torch.tensor([0, 3, 4, 1])
loss = torch.nn.functional.cross_entropy(beta * z, labels, label_smoothing=0.1)
loss.backward()
targets = torch.full((4, 5), 0.1 / 5)
targets[torch.arange(4), labels] += 0.9
case("cross_entropy", z=z, beta=1.5, targets=targets, loss=loss.item(), grad_z=z.grad, grad_beta=beta.grad.item())

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "core_pytorch.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
print("wrote", path)
