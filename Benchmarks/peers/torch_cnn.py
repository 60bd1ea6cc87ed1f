"""PyTorch peer of `percept-bench cnn`: the same two networks, timed the same way.

    python3 Benchmarks/peers/torch_cnn.py [--arch airbench94|resnet20] [--batch 512] [--threads 2]
                                           [--steps 3] [--warmup 1] [--layout channels_last|contiguous|both]

Prints one JSON line per measurement: a training step is forward + label-smoothed cross-entropy +
backward + SGD (Nesterov, weight decay) on random 32×32 inputs; inference is a forward pass in
eval mode under torch.no_grad(). fp32 on the CPU.
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_group(cin, cout):
    # airbench94's ConvGroup: conv → pool → BN → GELU → conv → BN → GELU (BN scale frozen at 1).
    layers = [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.MaxPool2d(2),
              nn.BatchNorm2d(cout, eps=1e-12, momentum=0.4), nn.GELU(),
              nn.Conv2d(cout, cout, 3, padding=1, bias=False),
              nn.BatchNorm2d(cout, eps=1e-12, momentum=0.4), nn.GELU()]
    for layer in layers:
        if isinstance(layer, nn.BatchNorm2d):
            layer.weight.requires_grad = False
    return layers


class Mul(nn.Module):
    def __init__(self, scale):
        super().__init__()
        self.scale = scale

    def forward(self, x):
        return x * self.scale


def airbench94(classes=10, widths=(64, 256, 256)):
    layers = [nn.Conv2d(3, 24, 2, padding=0, bias=True), nn.GELU()]
    cin = 24
    for w in widths:
        layers += conv_group(cin, w)
        cin = w
    layers += [nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(cin, classes, bias=False), Mul(1 / 9)]
    return nn.Sequential(*layers)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:  # option B: 1×1 convolution + BN projection
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


def resnet20(classes=10, widths=(16, 32, 64), blocks=3):
    layers = [nn.Conv2d(3, widths[0], 3, 1, 1, bias=False), nn.BatchNorm2d(widths[0]), nn.ReLU()]
    cin = widths[0]
    for stage, w in enumerate(widths):
        for b in range(blocks):
            layers.append(BasicBlock(cin, w, 2 if stage > 0 and b == 0 else 1))
            cin = w
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, classes)]
    return nn.Sequential(*layers)


FLOPS = {"airbench94": 236.0e6, "resnet20": 81.6e6}  # forward multiply-adds ×2 per image


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--arch", default="airbench94")
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--layout", default="both")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    layouts = ["channels_last", "contiguous"] if args.layout == "both" else [args.layout]
    for layout in layouts:
        fmt = torch.channels_last if layout == "channels_last" else torch.contiguous_format
        model = (airbench94() if args.arch == "airbench94" else resnet20()).to(memory_format=fmt)
        params = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.SGD(params, lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4)
        x = torch.randn(args.batch, 3, 32, 32).to(memory_format=fmt)
        y = torch.randint(0, 10, (args.batch,))

        def train_step():
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x), y, label_smoothing=0.2)
            loss.backward()
            optimizer.step()

        model.train()
        for _ in range(args.warmup):
            train_step()
        times = []
        for _ in range(args.steps):
            start = time.perf_counter()
            train_step()
            times.append(time.perf_counter() - start)
        median = sorted(times)[len(times) // 2]
        print(json.dumps({"tool": "torch-cnn-train", "arch": args.arch, "layout": layout, "batch": args.batch,
                          "threads": args.threads, "torch": torch.__version__, "seconds_per_step": median,
                          "images_per_second": args.batch / median, "best_images_per_second": args.batch / min(times),
                          "gflops": 3 * FLOPS[args.arch] * args.batch / median / 1e9, "all": times}), flush=True)
        model.eval()
        with torch.no_grad():
            for _ in range(args.warmup):
                model(x)
            times = []
            for _ in range(args.steps):
                start = time.perf_counter()
                model(x)
                times.append(time.perf_counter() - start)
        median = sorted(times)[len(times) // 2]
        print(json.dumps({"tool": "torch-cnn-infer", "arch": args.arch, "layout": layout, "batch": args.batch,
                          "threads": args.threads, "seconds_per_batch": median, "images_per_second": args.batch / median,
                          "gflops": FLOPS[args.arch] * args.batch / median / 1e9, "all": times}), flush=True)


if __name__ == "__main__":
    main()
