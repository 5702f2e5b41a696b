"""Golden values for resgrad's CNN ops, computed once with PyTorch in float64.

Run (with any Python that has torch; the repository does not keep a venv):

    python tests/golden/make_golden.py > tests/golden/torch_cnn_ops.json

Each case stores its inputs, the upstream gradient `gy`, and PyTorch's forward output and
gradients, so the Rust test (tests/golden_torch.rs) needs nothing but this JSON file.
"""
import json

import torch
import torch.nn.functional as F

torch.manual_seed(20151210)  # the day ResNet went on arXiv
torch.set_default_dtype(torch.float64)


def t(shape):
    return torch.randn(*shape, requires_grad=True)


def flat(x):
    return {"shape": list(x.shape), "data": [float(v) for v in x.detach().reshape(-1)]}


def case(name, op, inputs, params, extra_in=None, extra_out=None):
    y = op(*inputs)
    gy = torch.randn_like(y)
    y.backward(gy)
    out = {
        "name": name,
        "op": op.__name__ if hasattr(op, "__name__") else name,
        "params": params,
        "inputs": [flat(x) for x in inputs],
        "gy": flat(gy),
        "y": flat(y),
        "grads": [flat(x.grad) for x in inputs],
    }
    out.update(extra_in or {})
    out.update(extra_out() if extra_out else {})
    return out


cases = []

for name, xs, ws, stride, pad, bias in [
    ("conv2d_3x3_stride2_pad1_bias", (2, 3, 7, 7), (4, 3, 3, 3), 2, 1, True),
    ("conv2d_3x3_stride1_pad2", (1, 2, 5, 6), (3, 2, 3, 3), 1, 2, False),
    ("conv2d_1x1_stride2", (2, 4, 5, 5), (3, 4, 1, 1), 2, 0, False),
]:
    x, w = t(xs), t(ws)
    inputs = [x, w] + ([t((ws[0],))] if bias else [])

    def conv(*a, stride=stride, pad=pad):
        return F.conv2d(a[0], a[1], a[2] if len(a) > 2 else None, stride=stride, padding=pad)

    cases.append(case(name, conv, inputs, {"kind": "conv2d", "stride": stride, "padding": pad}))

for training in (True, False):
    x, gamma, beta = t((4, 3, 3, 3)), t((3,)), t((3,))
    rm = torch.randn(3) * 0.1 if not training else torch.zeros(3)
    rv = torch.rand(3) + 0.5 if not training else torch.ones(3)
    rm0, rv0 = rm.clone(), rv.clone()

    def bn(x, gamma, beta, rm=rm, rv=rv, training=training):
        return F.batch_norm(x, rm, rv, gamma, beta, training=training, momentum=0.1, eps=1e-5)

    cases.append(
        case(
            "batch_norm2d_" + ("train" if training else "eval"),
            bn,
            [x, gamma, beta],
            {"kind": "batch_norm2d", "training": training, "momentum": 0.1, "eps": 1e-5},
            extra_in={"running_mean_before": flat(rm0), "running_var_before": flat(rv0)},
            extra_out=lambda rm=rm, rv=rv: {"running_mean_after": flat(rm), "running_var_after": flat(rv)},
        )
    )

for kind, fn in (("max_pool2d", F.max_pool2d), ("avg_pool2d", F.avg_pool2d)):
    for k, stride, pad in ((3, 2, 1), (2, 2, 0)):
        x = t((2, 2, 7, 7))

        def pool(x, fn=fn, k=k, stride=stride, pad=pad):
            return fn(x, k, stride, pad)

        cases.append(case(f"{kind}_k{k}_s{stride}_p{pad}", pool, [x], {"kind": kind, "k": k, "stride": stride, "padding": pad}))

print(json.dumps({"torch": torch.__version__, "dtype": "float64", "cases": cases}, indent=None))
