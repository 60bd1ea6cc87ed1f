#!/usr/bin/env python3
"""Peer for `percept-bench linear`: scikit-learn's SGDClassifier (one-vs-rest, both cores).

    python3 linear_sklearn.py PACK [--loss hinge|log_loss] [--alpha 1e-3] [--max-iter 10] [--seed 0]
                                   [--preprocessing mean-image|channel-standardization]

Same data, split and preprocessing as `percept-bench linear` (pixels / 255 minus the mean
training image; validation = items whose index is a multiple of 10). SGDClassifier takes one
sample per step and fits the ten one-vs-rest classifiers in parallel (n_jobs=2). Prints one JSON line.
"""
import argparse, json, time, warnings
import numpy as np
from sklearn.linear_model import SGDClassifier
from sklearn.exceptions import ConvergenceWarning
import sklearn

from linear_numpy import load_pack


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("pack")
    parser.add_argument("--loss", default="hinge")
    parser.add_argument("--alpha", type=float, default=1e-3)
    parser.add_argument("--max-iter", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--preprocessing", default="mean-image")
    args = parser.parse_args()

    pixels, labels, channels = load_pack(args.pack)
    index = np.arange(len(labels))
    start = time.perf_counter()
    X = pixels[index % 10 != 0].astype(np.float32) / 255
    y = labels[index % 10 != 0]
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

    model = SGDClassifier(loss=args.loss, alpha=args.alpha, max_iter=args.max_iter, tol=None, n_jobs=2,
                          random_state=args.seed)
    start, cpu_start = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    accuracy = float(np.mean(model.predict(Xv) == yv))
    print(json.dumps({"tool": f"sklearn-sgd-{args.loss}", "train": int(len(y)), "validation": int(len(yv)),
                      "epochs": args.max_iter, "alpha": args.alpha, "prepare_seconds": prepare, "seconds": seconds, "cpu_seconds": cpu,
                      "val_accuracy": accuracy, "sklearn": sklearn.__version__}, sort_keys=True))


if __name__ == "__main__":
    main()
