#!/usr/bin/env python3
"""Peer for `percept-bench linear`: the same vectorised minibatch SGD in numpy.

    python3 linear_numpy.py PACK [--model svm|softmax] [--lr 1e-3] [--reg 1e-3] [--momentum 0.9]
                                 [--decay 0.8] [--batch 200] [--epochs 14] [--iterations 3000] [--target ACC]
                                 [--seed 0] [--preprocessing mean-image|channel-standardization]

Same data and split as Percept (pixels / 255, validation = items whose index is a multiple of 10),
the same preprocessing, initial scale (0.001), momentum update (v = mu v - lr g, w += v), per-epoch
learning-rate decay, training rows shuffled once and contiguous batches visited in a new random order
each epoch, and the same per-epoch accuracy checks (2,000 training rows and the validation set).
W is D×C here (numpy's natural layout); the arithmetic is the same. Prints one JSON line.
"""
import argparse, json, time
import numpy as np

from percept_pack import read_pack


def load_pack(path):
    """Pixels as uint8 rows of H·W·C (memory-mapped), labels, and the channel count."""
    pixels, labels = read_pack(path)
    return pixels.reshape(len(pixels), -1), labels, pixels.shape[3]


def svm_loss(W, b, X, y, reg):
    n = X.shape[0]
    scores = X.dot(W) + b
    correct = scores[np.arange(n), y][:, None]
    margins = np.maximum(0, scores - correct + 1.0)
    margins[np.arange(n), y] = 0
    loss = margins.sum() / n + reg * np.sum(W * W)
    mask = (margins > 0).astype(np.float32)
    mask[np.arange(n), y] = -mask.sum(axis=1)
    mask /= n
    return loss, X.T.dot(mask) + 2 * reg * W, mask.sum(axis=0)


def softmax_loss(W, b, X, y, reg):
    n = X.shape[0]
    scores = X.dot(W) + b
    scores -= scores.max(axis=1, keepdims=True)
    exp = np.exp(scores)
    p = exp / exp.sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(n), y]).sum() / n + reg * np.sum(W * W)
    p[np.arange(n), y] -= 1
    p /= n
    return loss, X.T.dot(p) + 2 * reg * W, p.sum(axis=0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("pack")
    parser.add_argument("--model", default="softmax")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--reg", type=float, default=1e-3)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--decay", type=float, default=0.8)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=14)
    parser.add_argument("--iterations", type=int, default=None)
    parser.add_argument("--target", type=float, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--preprocessing", default="mean-image")
    args = parser.parse_args()

    pixels, labels, channels = load_pack(args.pack)
    index = np.arange(len(labels))
    start = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(index[index % 10 != 0])
    X = pixels[order].astype(np.float32) / 255
    y = labels[order]
    Xv = pixels[index % 10 == 0].astype(np.float32) / 255
    yv = labels[index % 10 == 0]
    if args.preprocessing == "channel-standardization":
        view = X.reshape(len(X), -1, channels)
        mean, std = view.mean(axis=(0, 1)), view.std(axis=(0, 1))
        offset, scale = np.tile(mean, X.shape[1] // channels), np.tile(1 / std, X.shape[1] // channels)
    else:
        offset, scale = X.mean(axis=0), np.ones(X.shape[1], dtype=np.float32)
    X = ((X - offset) * scale).astype(np.float32)
    Xv = ((Xv - offset) * scale).astype(np.float32)
    prepare = time.perf_counter() - start

    n, d = X.shape
    c = int(labels.max()) + 1
    loss_fn = svm_loss if args.model in ("svm", "hinge") else softmax_loss
    start, cpu_start = time.perf_counter(), time.process_time()
    W = (0.001 * rng.standard_normal((d, c))).astype(np.float32)
    b = np.zeros(c, dtype=np.float32)
    vW, vb = np.zeros_like(W), np.zeros_like(b)
    lr = np.float32(args.lr)
    batches = (n + args.batch - 1) // args.batch
    steps, val_by_epoch = 0, []
    last = args.iterations or 1 << 60
    for epoch in range(args.epochs):
        if steps >= last:
            break
        for k in rng.permutation(batches):
            if steps >= last:
                break
            Xb, yb = X[k * args.batch:(k + 1) * args.batch], y[k * args.batch:(k + 1) * args.batch]
            loss, dW, db = loss_fn(W, b, Xb, yb, args.reg)
            if not np.isfinite(loss):
                raise SystemExit(f"diverged with learning rate {args.lr}")
            vW = args.momentum * vW - lr * dW
            vb = args.momentum * vb - lr * db
            W += vW
            b += vb
            steps += 1
        train_acc = float(np.mean(np.argmax(X[:2000].dot(W) + b, axis=1) == y[:2000]))
        val_by_epoch.append(float(np.mean(np.argmax(Xv.dot(W) + b, axis=1) == yv)))
        lr *= args.decay
        if args.target is not None and val_by_epoch[-1] >= args.target:
            break
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    print(json.dumps({"tool": f"numpy-linear-{args.model}", "train": int(n), "validation": int(len(yv)), "iterations": steps,
                      "epochs": len(val_by_epoch), "prepare_seconds": prepare, "seconds": seconds, "cpu_seconds": cpu,
                      "val_accuracy": val_by_epoch[-1], "best_val_accuracy": max(val_by_epoch), "val_by_epoch": val_by_epoch,
                      "train_accuracy": train_acc, "lr": args.lr, "reg": args.reg, "numpy": np.__version__}, sort_keys=True))


if __name__ == "__main__":
    main()
