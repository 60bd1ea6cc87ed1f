"""PyTorch twin of `percept-bench cnn-train --recipe airbench94`: Keller Jordan's airbench94 recipe
(github.com/KellerJordan/cifar10-airbench, 2024) on the CPU, fp32, channels_last, on the same data.

    python3 Benchmarks/peers/torch_airbench.py PACK [--epochs 10] [--threads 2] [--seed 1] [--time-limit S]

Data: a Percept pack of the CIFAR-10 training images; validation = items whose index is a multiple
of 10 (5,000), training = the other 45,000 — the split percept-bench uses. The recipe as airbench94.py
writes it: whitening 2×2 stem (frozen weights, bias trained 3 epochs), conv groups with identity
(dirac) initialisation, BatchNorm with frozen scale, momentum 0.6 (PyTorch 0.4), eps 1e-12, GELU;
batch 1024, summed label-smoothed (0.2) cross-entropy, Nesterov SGD momentum 0.85 with
lr 11.5 and weight decay 0.0153 per 1024 examples scaled by 1 + 1/(1 − momentum), BatchNorm biases
at 64× the rate; triangular schedule 0.2 → 1 at 20% → 0.07; lookahead every 5 steps; alternating
flip and ±2-pixel reflect translation; test-time mirror + translate. Prints JSON lines like
percept-bench: one per epoch (wall time from the start, plain validation; the last epoch with TTA).
"""
import argparse, json, math, time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from percept_pack import read_pack

START = time.perf_counter()


class BatchNorm(nn.BatchNorm2d):
    def __init__(self, num_features, momentum=0.6, eps=1e-12):
        super().__init__(num_features, eps=eps, momentum=1 - momentum)
        self.weight.requires_grad = False


class Conv(nn.Conv2d):
    def __init__(self, cin, cout, kernel_size=3, padding="same", bias=False):
        super().__init__(cin, cout, kernel_size=kernel_size, padding=padding, bias=bias)

    def reset_parameters(self):
        super().reset_parameters()
        if self.bias is not None:
            self.bias.data.zero_()
        w = self.weight.data
        torch.nn.init.dirac_(w[:w.size(1)])


class ConvGroup(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv1 = Conv(cin, cout)
        self.pool = nn.MaxPool2d(2)
        self.norm1 = BatchNorm(cout)
        self.conv2 = Conv(cout, cout)
        self.norm2 = BatchNorm(cout)
        self.activ = nn.GELU()

    def forward(self, x):
        x = self.activ(self.norm1(self.pool(self.conv1(x))))
        return self.activ(self.norm2(self.conv2(x)))


class Mul(nn.Module):
    def __init__(self, scale):
        super().__init__()
        self.scale = scale

    def forward(self, x):
        return x * self.scale


def make_net(widths=(64, 256, 256)):
    net = nn.Sequential(
        Conv(3, 24, kernel_size=2, padding=0, bias=True), nn.GELU(),
        ConvGroup(24, widths[0]), ConvGroup(widths[0], widths[1]), ConvGroup(widths[1], widths[2]),
        nn.MaxPool2d(3), nn.Flatten(), nn.Linear(widths[2], 10, bias=False), Mul(1 / 9))
    net[0].weight.requires_grad = False
    return net.to(memory_format=torch.channels_last)


def init_whitening(layer, images, eps=5e-4):
    c, (h, w) = images.shape[1], layer.weight.shape[2:]
    patches = images.unfold(2, h, 1).unfold(3, w, 1).transpose(1, 3).reshape(-1, c, h, w).float()
    flat = patches.view(len(patches), -1)
    cov = flat.T @ flat / len(flat)
    values, vectors = torch.linalg.eigh(cov, UPLO="U")
    values, vectors = values.flip(0).view(-1, 1, 1, 1), vectors.T.reshape(c * h * w, c, h, w).flip(0)
    scaled = vectors / torch.sqrt(values + eps)
    layer.weight.data[:] = torch.cat((scaled, -scaled))


class Lookahead:
    def __init__(self, net):
        self.ema = {k: v.clone() for k, v in net.state_dict().items()}

    def update(self, net, decay):
        for k, p in net.state_dict().items():
            if p.dtype.is_floating_point:
                self.ema[k].lerp_(p, 1 - decay)
                p.copy_(self.ema[k])


def infer(net, images, tta):
    def mirror(x):
        return 0.5 * net(x) + 0.5 * net(x.flip(-1))
    if not tta:
        return net(images)
    logits = mirror(images)
    padded = F.pad(images, (1,) * 4, "reflect")
    shifted = [padded[:, :, 0:32, 0:32], padded[:, :, 2:34, 2:34]]
    return 0.5 * logits + 0.5 * torch.stack([mirror(x) for x in shifted]).mean(0)


def evaluate(net, images, labels, tta):
    net.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(images), 1000):
            x = images[i:i + 1000].contiguous(memory_format=torch.channels_last)
            correct += (infer(net, x, tta).argmax(1) == labels[i:i + 1000]).sum().item()
    net.train()
    return correct / len(images)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pack")
    ap.add_argument("--epochs", type=float, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--time-limit", type=float, default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    pixels, labels = read_pack(args.pack)
    pixels = np.array(pixels)
    index = np.arange(len(labels))
    val_idx, train_idx = index[index % 10 == 0], index[index % 10 != 0]
    mean = torch.tensor([0.4914, 0.4822, 0.4465]).view(1, 3, 1, 1)
    std = torch.tensor([0.2470, 0.2435, 0.2616]).view(1, 3, 1, 1)

    def to_tensor(idx):
        x = torch.from_numpy(pixels[idx]).permute(0, 3, 1, 2).float() / 255
        return (x - mean) / std
    train_x, train_y = to_tensor(train_idx), torch.from_numpy(labels[train_idx]).long()
    val_x, val_y = to_tensor(val_idx), torch.from_numpy(labels[val_idx]).long()

    batch_size, momentum = 1024, 0.85
    kilostep_scale = 1024 * (1 + 1 / (1 - momentum))
    lr = 11.5 / kilostep_scale
    wd = 0.0153 * batch_size / kilostep_scale
    lr_biases = lr * 64.0

    net = make_net()
    init_whitening(net[0], train_x[:5000])
    norm_biases = [p for k, p in net.named_parameters() if "norm" in k and p.requires_grad]
    other = [p for k, p in net.named_parameters() if "norm" not in k and p.requires_grad]
    optimizer = torch.optim.SGD([dict(params=norm_biases, lr=lr_biases, weight_decay=wd / lr_biases),
                                 dict(params=other, lr=lr, weight_decay=wd / lr)], momentum=momentum, nesterov=True)
    steps_per_epoch = len(train_x) // batch_size
    total_steps = math.ceil(steps_per_epoch * args.epochs)
    schedule = np.interp(np.arange(1 + total_steps), [0, int(0.2 * total_steps), total_steps], [0.2, 1, 0.07])
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda i: schedule[i])
    alpha = 0.95 ** 5 * (torch.arange(total_steps + 1) / total_steps) ** 3
    lookahead = Lookahead(net)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.2, reduction="none")
    print(json.dumps({"tool": "torch-airbench94", "event": "start", "torch": torch.__version__, "threads": args.threads,
                      "train": len(train_x), "validation": len(val_x), "epochs": args.epochs,
                      "steps": total_steps}), flush=True)

    generator = torch.Generator().manual_seed(args.seed)
    flip_bits = torch.rand(len(train_x), generator=generator) < 0.5
    padded = F.pad(train_x, (2,) * 4, "reflect")
    step, epoch, train_seconds = 0, 0, 0.0
    while step < total_steps:
        epoch_start = time.perf_counter()
        # airbench's alternating flip: a fixed coin per image, inverted on odd epochs; ±2 translation.
        flips = flip_bits ^ (epoch % 2 == 1)
        order = torch.randperm(len(train_x), generator=generator)
        seen, correct = 0, 0
        for b in range(steps_per_epoch):
            if step >= total_steps:
                break
            idx = order[b * batch_size:(b + 1) * batch_size]
            dy = torch.randint(0, 5, (len(idx),), generator=generator)
            dx = torch.randint(0, 5, (len(idx),), generator=generator)
            x = padded[idx]
            x = x.gather(2, (dy.view(-1, 1, 1, 1) + torch.arange(32).view(1, 1, 32, 1)).expand(-1, 3, 32, 36))
            x = x.gather(3, (dx.view(-1, 1, 1, 1) + torch.arange(32).view(1, 1, 1, 32)).expand(-1, 3, 32, 32))
            f = flips[idx]
            x[f] = x[f].flip(-1)
            x = x.contiguous(memory_format=torch.channels_last)
            y = train_y[idx]
            net[0].bias.requires_grad = epoch < 3
            outputs = net(x)
            loss = loss_fn(outputs, y).sum()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            step += 1
            if step % 5 == 0:
                lookahead.update(net, decay=alpha[step].item())
            seen += len(idx)
            correct += (outputs.argmax(1) == y).sum().item()
            # Like percept-bench: the limit counts training time, not validation.
            if args.time_limit and train_seconds + time.perf_counter() - epoch_start >= args.time_limit:
                total_steps = step
                break
        epoch_seconds = time.perf_counter() - epoch_start
        train_seconds += epoch_seconds
        epoch += 1
        last = step >= total_steps
        if last:
            lookahead.update(net, decay=1.0)
        accuracy = evaluate(net, val_x, val_y, tta=last)
        print(json.dumps({"tool": "torch-airbench94", "event": "epoch", "epoch": epoch, "validation_accuracy": accuracy,
                          "tta": last, "train_accuracy": correct / max(seen, 1), "train_seconds": train_seconds,
                          "wall_seconds": time.perf_counter() - START,
                          "images_per_second": seen / epoch_seconds}), flush=True)


if __name__ == "__main__":
    main()
