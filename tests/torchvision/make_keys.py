"""The state_dict keys, shapes and dtypes of torchvision's ImageNet ResNets.

Run once (with any Python that has torchvision; the repository keeps no venv):

    python tests/torchvision/make_keys.py > tests/torchvision/resnet_keys.txt

Each line: model, key, dtype, shape (comma-separated). tests/checkpoint.rs checks that
resgrad's ImageNet models name and shape every parameter and buffer exactly so.
"""
import torchvision

for name in ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"]:
    model = getattr(torchvision.models, name)(weights=None)
    total = sum(p.numel() for p in model.parameters())
    print(f"# {name} parameters {total}")
    for key, t in model.state_dict().items():
        print(name, key, str(t.dtype).replace("torch.", ""), ",".join(str(d) for d in t.shape))
