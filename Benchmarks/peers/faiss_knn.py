#!/usr/bin/env python3
"""Peer for `percept-bench knn`: exact k-NN with faiss-cpu on the same pack and split.

    python3 faiss_knn.py PACK [--queries 10000] [--k 20] [--metrics l1,l2] [--l1-queries N]
                              [--index-all] [--write PREFIX]

Reads the pixels straight from Percept's pack file (layout in PackFile.swift), converts them to
float32 (faiss needs floats), searches IndexFlatL2 and IndexFlat(METRIC_L1), and prints one
JSON line per metric. --write PREFIX saves neighbour indices as PREFIX-l1.i32 / PREFIX-l2.i32.
"""
import argparse, json, time
import numpy as np
import faiss

from percept_pack import read_pack


def load_pack(path):
    """The pack's pixels as uint8 rows of H·W·C (memory-mapped)."""
    pixels, _ = read_pack(path)
    return pixels.reshape(len(pixels), -1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("pack")
    parser.add_argument("--queries", type=int, default=10000)
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--metrics", default="l1,l2")
    parser.add_argument("--l1-queries", type=int, default=None)
    parser.add_argument("--index-all", action="store_true")
    parser.add_argument("--write", default=None)
    args = parser.parse_args()

    pixels = load_pack(args.pack)
    n = pixels.shape[0]
    train = pixels if args.index_all else pixels[: n - args.queries]
    start = time.perf_counter()
    train = np.ascontiguousarray(train, dtype=np.float32)
    queries = np.ascontiguousarray(pixels[n - args.queries:], dtype=np.float32)
    convert = time.perf_counter() - start
    for metric in args.metrics.split(","):
        q = queries
        if metric == "l1" and args.l1_queries:
            q = queries[: args.l1_queries]
        start = time.perf_counter()
        index = faiss.IndexFlatL2(train.shape[1]) if metric == "l2" else faiss.IndexFlat(train.shape[1], faiss.METRIC_L1)
        index.add(train)
        build = time.perf_counter() - start
        start = time.perf_counter()
        distances, indices = index.search(q, args.k)
        search = time.perf_counter() - start
        fields = {"tool": f"faiss-knn-{metric}", "queries": len(q), "index": train.shape[0], "dim": train.shape[1],
                  "k": args.k, "seconds": search, "build_seconds": build, "convert_seconds": convert,
                  "threads": faiss.omp_get_max_threads(), "faiss": faiss.__version__}
        if metric == "l2":
            fields["gflops"] = 2.0 * len(q) * train.shape[0] * train.shape[1] / search / 1e9
        print(json.dumps(fields, sort_keys=True), flush=True)
        if args.write:
            indices.astype(np.int32).tofile(f"{args.write}-{metric}.i32")


if __name__ == "__main__":
    main()
