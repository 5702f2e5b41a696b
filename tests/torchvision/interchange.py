"""Checks that checkpoints go both ways between torchvision and resgrad (manual; needs
torch, torchvision and safetensors, which the repository does not install).

    python tests/torchvision/interchange.py export DIR     # torchvision -> DIR/*.safetensors + input/output
    cargo run --release --example torchvision_interchange -- DIR
    python tests/torchvision/interchange.py check DIR      # resgrad's files -> torchvision

Step 2 loads torchvision's weights into resgrad's `ResNet::torchvision(depth)`, runs the
same input in eval mode and compares the logits, then saves resgrad's own freshly built
model; step 3 loads that file into torchvision with strict=True and compares logits.
"""
import sys

import numpy as np
import torch
import torchvision
from safetensors.torch import load_file, save_file

mode, out = sys.argv[1], sys.argv[2]
torch.manual_seed(0)
x = torch.randn(2, 3, 64, 64)
for depth in (18, 50):
    if mode == "export":
        m = getattr(torchvision.models, f"resnet{depth}")(weights=None).eval()
        # Non-trivial batch-norm statistics, so that eval mode tests them too.
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.1, 0.1)
                mod.running_var.uniform_(0.5, 1.5)
                mod.weight.data.uniform_(0.5, 1.5)
                mod.bias.data.uniform_(-0.1, 0.1)
        save_file({k: v.contiguous() for k, v in m.state_dict().items()}, f"{out}/tv_resnet{depth}.safetensors")
        np.asarray(x.numpy(), dtype="<f4").tofile(f"{out}/input.f32")
        with torch.no_grad():
            np.asarray(m(x).numpy(), dtype="<f4").tofile(f"{out}/tv_resnet{depth}_logits.f32")
    else:
        m = getattr(torchvision.models, f"resnet{depth}")(weights=None).eval()
        m.load_state_dict(load_file(f"{out}/rg_resnet{depth}.safetensors"), strict=True)
        with torch.no_grad():
            ours = np.fromfile(f"{out}/rg_resnet{depth}_logits.f32", dtype="<f4").reshape(2, 1000)
            theirs = m(x).numpy()
        err = np.abs(ours - theirs).max() / np.abs(theirs).max()
        print(f"resnet{depth}: resgrad's file loads into torchvision (strict); logits agree to {err:.2e} (relative)")
        assert err < 1e-4
