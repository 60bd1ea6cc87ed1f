"""PyTorch peer of `percept-bench depthwise`: one depthwise convolution, timed the same way.

    python3 Benchmarks/peers/torch_depthwise.py [--channels 96] [--size 112] [--kernel 3] [--stride 1]
                                                [--batch 32] [--threads 2] [--steps 5]
                                                [--padding same|symmetric]

nn.Conv2d(C, C, k, groups=C, bias=True) on channels_last (NHWC) fp32 inputs, TensorFlow's "same"
padding (where it is asymmetric, at stride 2 on even sizes: F.pad with the odd zero at the
bottom/right, then padding 0, as timm's Conv2dSame does; symmetric: the convolution's own padding).
Forward is inference under torch.no_grad(); backward computes dX and dW (and dB) from a fixed dY.
Best of `steps` after a warm-up. GFLOP/s counts 2·k²·C·Ho·Wo per image (3× for a training step).
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def same_padding(size, kernel, stride):
    total = max(0, ((size + stride - 1) // stride - 1) * stride + kernel - size)
    return total // 2, total - total // 2


def best(steps, body):
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        body()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    parser = argparse.ArgumentParser()
    for name, default in [("channels", 96), ("size", 112), ("kernel", 3), ("stride", 1), ("batch", 32),
                          ("threads", 2), ("steps", 5)]:
        parser.add_argument(f"--{name}", type=int, default=default)
    parser.add_argument("--padding", choices=["same", "symmetric"], default="same")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    c, k, s = args.channels, args.kernel, args.stride
    top, bottom = same_padding(args.size, k, s) if args.padding == "same" else (k // 2, k // 2)
    symmetric = top == bottom
    # Symmetric: the convolution pads itself. Asymmetric: F.pad first, as timm's Conv2dSame does.
    conv = nn.Conv2d(c, c, k, stride=s, padding=top if symmetric else 0, groups=c,
                     bias=True).to(memory_format=torch.channels_last)
    pad = (top, bottom, top, bottom)  # F.pad order: left, right, top, bottom (square input)
    x = torch.randn(args.batch, c, args.size, args.size).to(memory_format=torch.channels_last)

    def forward(inp):
        return conv(inp) if symmetric else conv(F.pad(inp, pad))

    with torch.no_grad():
        y = forward(x)
    out = y.shape[-1]
    flops = 2 * k * k * c * out * out * args.batch
    dy = torch.randn_like(y).contiguous(memory_format=torch.channels_last)
    x_grad = x.clone().requires_grad_(True)

    def inference():
        with torch.no_grad():
            forward(x)

    def training_step():
        conv.zero_grad(set_to_none=True)
        x_grad.grad = None
        forward(x_grad).backward(dy)

    inference()
    training_step()
    t_forward = best(args.steps, inference)
    t_step = best(args.steps, training_step)
    layer = f"{args.size}x{args.size}x{c} k{k} s{s} pad {top},{top},{bottom},{bottom}"
    common = {"tool": "torch-depthwise", "layer": layer, "batch": args.batch, "threads": args.threads,
              "torch": torch.__version__}
    print(json.dumps({**common, "pass": "forward", "seconds": t_forward,
                      "images_per_s": args.batch / t_forward, "gflops": flops / t_forward / 1e9}, sort_keys=True))
    print(json.dumps({**common, "pass": "training step", "seconds": t_step,
                      "images_per_s": args.batch / t_step, "gflops": 3 * flops / t_step / 1e9}, sort_keys=True))


if __name__ == "__main__":
    main()
