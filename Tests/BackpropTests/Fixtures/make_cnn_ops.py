"""Convolution, pooling and normalisation in PyTorch float64, forward and backward, at odd shapes.
Not run by CI (needs torch); its output is committed.

`python3 make_cnn_ops.py` writes cnn_ops.json: a list of cases, each with its op, settings, the
inputs (x and the parameters), a random upstream gradient u of the output's shape, the output
y, and the gradient of L = sum(y * u) with respect to x and every parameter. Tensors are
{"shape": [...], "data": [row-major floats]}. Shapes: batch 3, a 7x9 image, stride 2,
padding 1, dilation 2, groups 2, a 3x5 kernel, each alone and together.

Batch norm cases also hold the running statistics after one and after two training-mode
forward passes (momentum 0.1, unbiased variance for running_var) from PyTorch's initial
ones (mean 0, variance 1), num_batches_tracked, and the evaluation-mode output on a third
batch with those statistics.
"""
import json, os
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
torch.set_default_dtype(torch.float64)
torch.manual_seed(17)


def t(x):
    return {"shape": list(x.shape), "data": x.detach().reshape(-1).tolist()}


def case(name, op, settings, inputs, forward):
    """inputs: dict of leaf tensors (x first); forward: function of the inputs dict."""
    leaves = {k: v.clone().requires_grad_(True) for k, v in inputs.items()}
    y = forward(leaves)
    u = torch.randn(y.shape)
    (y * u).sum().backward()
    return {"name": name, "op": op, "settings": settings,
            "inputs": {k: t(v) for k, v in inputs.items()},
            "upstream": t(u), "output": t(y),
            "gradients": {k: t(v.grad) for k, v in leaves.items()}}


cases = []


def conv(name, x_shape, w_shape, bias, stride, padding, dilation, groups):
    inputs = {"x": torch.randn(x_shape), "weight": torch.randn(w_shape) * 0.3}
    if bias:
        inputs["bias"] = torch.randn(w_shape[0])
    settings = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    cases.append(case(name, "conv2d", settings, inputs,
                      lambda p: F.conv2d(p["x"], p["weight"], p.get("bias"), stride, padding, dilation, groups)))


conv("conv 3x5 stride 2 padding 1", [3, 2, 7, 9], [4, 2, 3, 5], True, [2, 2], [1, 1], [1, 1], 1)
conv("conv 3x3 dilation 2 padding 2", [3, 2, 7, 9], [3, 2, 3, 3], True, [1, 1], [2, 2], [2, 2], 1)
conv("conv groups 2", [3, 4, 7, 9], [6, 2, 3, 3], True, [1, 1], [1, 1], [1, 1], 2)
conv("conv 3x5 stride (2,1) padding (1,2) dilation 2 groups 2", [3, 4, 7, 9], [4, 2, 3, 5], True, [2, 1], [1, 2], [2, 2], 2)
conv("conv 1x1 no bias", [3, 4, 7, 9], [5, 4, 1, 1], False, [1, 1], [0, 0], [1, 1], 1)
conv("conv 2x2 stride 2 no padding", [3, 3, 7, 9], [2, 3, 2, 2], True, [2, 2], [0, 0], [1, 1], 1)


def pool(name, op, kernel, stride, padding):
    settings = {"kernel": kernel, "stride": stride, "padding": padding}
    fn = F.max_pool2d if op == "maxPool2d" else F.avg_pool2d
    cases.append(case(name, op, settings, {"x": torch.randn(3, 2, 7, 9)},
                      lambda p: fn(p["x"], kernel, stride, padding)))


pool("max pool 3x3 stride 2 padding 1", "maxPool2d", [3, 3], [2, 2], [1, 1])
pool("max pool 2x3", "maxPool2d", [2, 3], [2, 3], [0, 0])
pool("avg pool 3x3 stride 2 padding 1", "avgPool2d", [3, 3], [2, 2], [1, 1])
pool("avg pool 3x2 stride (2,1) padding (1,0)", "avgPool2d", [3, 2], [2, 1], [1, 0])
cases.append(case("global average pool", "globalAvgPool2d", {}, {"x": torch.randn(3, 4, 7, 9)},
                  lambda p: F.adaptive_avg_pool2d(p["x"], 1)))


def batch_norm(name, shape, affine):
    channels = shape[1]
    bn = torch.nn.BatchNorm1d(channels, affine=affine) if len(shape) < 4 else torch.nn.BatchNorm2d(channels, affine=affine)
    inputs = {"x": torch.randn(shape) * 2 + 0.5}
    if affine:
        inputs["weight"] = torch.randn(channels)
        inputs["bias"] = torch.randn(channels)
    c = case(name, "batchNorm", {"epsilon": bn.eps, "momentum": bn.momentum}, inputs,
             lambda p: F.batch_norm(p["x"], None, None, p.get("weight"), p.get("bias"), True, 0.0, bn.eps))
    # Running statistics through the module: two training batches, then evaluation.
    with torch.no_grad():
        if affine:
            bn.weight.copy_(inputs["weight"])
            bn.bias.copy_(inputs["bias"])
        bn.train()
        bn(inputs["x"])
        c["after_one"] = {"running_mean": t(bn.running_mean), "running_var": t(bn.running_var),
                          "num_batches_tracked": int(bn.num_batches_tracked)}
        second = torch.randn(shape) - 0.3
        bn(second)
        third = torch.randn(shape)
        bn.eval()
        c["second_batch"] = t(second)
        c["after_two"] = {"running_mean": t(bn.running_mean), "running_var": t(bn.running_var),
                          "num_batches_tracked": int(bn.num_batches_tracked)}
        c["evaluation_input"] = t(third)
        c["evaluation_output"] = t(bn(third))
    cases.append(c)


batch_norm("batch norm 2d", [3, 4, 7, 9], True)
batch_norm("batch norm 2d no affine", [3, 2, 7, 9], False)
batch_norm("batch norm 1d [N, C]", [3, 5], True)
batch_norm("batch norm 1d [N, C, L]", [3, 5, 4], True)


def layer_norm(name, shape, normalized, affine):
    inputs = {"x": torch.randn(shape) * 1.5 - 0.2}
    if affine:
        inputs["weight"] = torch.randn(normalized)
        inputs["bias"] = torch.randn(normalized)
    cases.append(case(name, "layerNorm", {"normalized_shape": normalized, "epsilon": 1e-5}, inputs,
                      lambda p: F.layer_norm(p["x"], normalized, p.get("weight"), p.get("bias"), 1e-5)))


layer_norm("layer norm over [7, 9]", [3, 2, 7, 9], [7, 9], True)
layer_norm("layer norm over [2, 7, 9]", [3, 2, 7, 9], [2, 7, 9], True)
layer_norm("layer norm last axis, no affine", [3, 9], [9], False)

with open(os.path.join(HERE, "cnn_ops.json"), "w") as f:
    json.dump({"torch_version": torch.__version__, "cases": cases}, f)
print(f"wrote cnn_ops.json: {len(cases)} cases with torch {torch.__version__}")
