#!/usr/bin/env python3
"""PyTorch beside resgrad: the same CIFAR ResNets and conv shapes, timed the same way.

resgrad's figures mean most as ratios to PyTorch's on the same machine in the same few
minutes (docs/performance.md). This script is PyTorch's half of that comparison; it is
a benchmark of the peer, not part of the crate, which never calls a deep-learning
framework.

    python3 -m venv /tmp/torch-venv
    /tmp/torch-venv/bin/pip install torch==2.15.0 numpy
    /tmp/torch-venv/bin/python scripts/torch_peer.py train [--depths 20,56,110] [--batch 128]
        [--steps 10] [--channels-last] [--json FILE]
    /tmp/torch-venv/bin/python scripts/torch_peer.py conv [--batch 128]

`train` measures each net in a child process of its own, as `resgrad bench train` does,
so that the peak resident memory printed beside it is that net's; it prints one JSON line
per net with resgrad's field names (`img_s_median`, `step_ms_median`,
`infer_img_s_median`, `peak_rss_mib`), and appends them to `--json FILE`.

The nets are He et al. (2015, sec. 4.2): a 3x3 stem to 16 channels, three stages of
n basic blocks (16, 32, 64 channels, the last two starting with stride 2), global average
pooling and a linear layer; depth 6n + 2; option A shortcuts (the input subsampled and
padded with zero channels); He initialisation with fan-out, as resgrad's. A training step
is `zero_grad`, forward, cross-entropy, backward and SGD (momentum 0.9, weight decay
1e-4) on one fixed random batch; inference is eval mode under `torch.no_grad()`. Eager
mode, NCHW unless `--channels-last`, 2 threads; 3 warm-up steps, then the median of the
timed ones.
"""
import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

THREADS = 2


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.stride, self.pad = stride, cout - cin

    def shortcut(self, x):
        if self.stride == 1 and self.pad == 0:
            return x
        x = x[:, :, :: self.stride, :: self.stride]
        return F.pad(x, (0, 0, 0, 0, 0, self.pad))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)), inplace=True)
        y = self.bn2(self.conv2(y))
        return F.relu(y + self.shortcut(x), inplace=True)


class CifarResNet(nn.Module):
    def __init__(self, depth):
        super().__init__()
        if (depth - 2) % 6:
            raise SystemExit(f"depth {depth}: a CIFAR ResNet has 6n + 2 layers")
        n = (depth - 2) // 6
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16),
                                  nn.ReLU(inplace=True))
        layers, cin = [], 16
        for i, cout in enumerate((16, 32, 64)):
            for b in range(n):
                layers.append(Block(cin, cout, 2 if i > 0 and b == 0 else 1))
                cin = cout
        self.blocks = nn.Sequential(*layers)
        self.fc = nn.Linear(64, 10)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = self.blocks(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def median_seconds(step, steps, warmup=3):
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def one_net(depth, batch, steps, channels_last):
    torch.manual_seed(0)
    model = CifarResNet(depth)
    x = torch.randn(batch, 3, 32, 32)
    labels = torch.randint(0, 10, (batch,))
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)

    def train_step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), labels).backward()
        opt.step()

    model.train()
    train = median_seconds(train_step, steps)
    model.eval()
    with torch.no_grad():
        infer = median_seconds(lambda: model(x), steps)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "engine": "pytorch", "torch": torch.__version__, "net": f"resnet{depth}", "depth": depth,
        "mode": "train", "batch": batch, "threads": torch.get_num_threads(),
        "layout": "channels_last" if channels_last else "NCHW", "steps": steps,
        "step_ms_median": round(train * 1e3, 3), "img_s_median": round(batch / train, 2),
        "infer_ms_median": round(infer * 1e3, 3), "infer_img_s_median": round(batch / infer, 2),
        "peak_rss_mib": round(rss, 1),
    }


def conv_shapes(batch, steps):
    """Forward and forward+backward GFLOP/s at the shapes of `resgrad bench conv`."""
    print(f"conv: N={batch}, f32, {'NCHW'}, stride 1, same padding, no bias, {THREADS} threads")
    print(f"{'shape':18} {'fwd ms':>7} {'fwd GF/s':>9} {'f+b ms':>7} {'f+b GF/s':>9}")
    for k, cin, cout, hw in ((3, 16, 16, 32), (3, 32, 32, 16), (3, 64, 64, 8), (1, 256, 64, 8)):
        x = torch.randn(batch, cin, hw, hw, requires_grad=True)
        w = torch.randn(cout, cin, k, k, requires_grad=True)
        dy = torch.randn(batch, cout, hw, hw)
        flops = 2 * batch * cout * hw * hw * cin * k * k

        def forward():
            with torch.no_grad():
                F.conv2d(x, w, padding=k // 2)

        def both():
            x.grad = w.grad = None
            F.conv2d(x, w, padding=k // 2).backward(dy)

        fwd, fb = median_seconds(forward, steps), median_seconds(both, steps)
        print(f"{k}x{k} {cin}->{cout} {hw}x{hw}".ljust(18)
              + f" {fwd * 1e3:7.2f} {flops / fwd / 1e9:9.1f} {fb * 1e3:7.2f} {3 * flops / fb / 1e9:9.1f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("what", choices=["train", "conv"])
    ap.add_argument("--depths", default="20,56,110")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--channels-last", action="store_true")
    ap.add_argument("--json")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    torch.set_num_threads(THREADS)
    if args.what == "conv":
        conv_shapes(args.batch, args.steps)
        return
    if args.one:
        print(json.dumps(one_net(args.one, args.batch, args.steps, args.channels_last)))
        return
    layout = "channels_last" if args.channels_last else "NCHW"
    print(f"PyTorch {torch.__version__} training step, batch {args.batch}, {layout}, "
          f"{THREADS} threads, median of {args.steps} steps; one process per net")
    print(f"{'model':10} {'train ms':>9} {'train img/s':>12} {'infer ms':>9} {'infer img/s':>12} "
          f"{'peak RSS MiB':>13}")
    for depth in (int(d) for d in args.depths.split(",")):
        cmd = [sys.executable, __file__, "train", "--one", str(depth), "--batch", str(args.batch),
               "--steps", str(args.steps)] + (["--channels-last"] if args.channels_last else [])
        line = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()
        r = json.loads(line.splitlines()[-1])
        print(f"{r['net']:10} {r['step_ms_median']:9.1f} {r['img_s_median']:12.1f} "
              f"{r['infer_ms_median']:9.1f} {r['infer_img_s_median']:12.1f} {r['peak_rss_mib']:13.0f}")
        if args.json:
            with open(args.json, "a") as f:
                f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
