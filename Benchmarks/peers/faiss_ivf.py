#!/usr/bin/env python3
"""Peer for `percept-bench ivf`: faiss IndexIVFFlat (L2) on the same pack and split.

    python3 faiss_ivf.py PACK [--queries 10000] [--k 20] [--nlist 256] [--nprobe 1,4,8,16,32] [--index-all]

The queries are every (N / queries)-th image of the pack (positions step-1, 2*step-1, ...: the pack
is sorted by class, so this is a stratified hold-out, the same as percept-bench's); the index holds
the others (or all, with --index-all). Exact IndexFlatL2 search first (time and the reference lists), then IndexIVFFlat
trained on the indexed vectors (faiss samples at most 256·nlist) and searched at each nprobe.
Prints one JSON line per measurement: seconds, recall@1 and recall@10 against the exact lists.
"""
import argparse, json, time
import numpy as np
import faiss
from faiss_knn import load_pack


def recall(found, exact, r):
    return float(np.mean([len(set(a[:r]) & set(b[:r])) / r for a, b in zip(found, exact)]))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("pack")
    parser.add_argument("--queries", type=int, default=10000)
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--nlist", type=int, default=256)
    parser.add_argument("--nprobe", default="1,4,8,16,32")
    parser.add_argument("--index-all", action="store_true")
    args = parser.parse_args()
    pixels = load_pack(args.pack)
    n = pixels.shape[0]
    step = n // args.queries
    held = np.arange(args.queries) * step + step - 1
    rest = np.setdiff1d(np.arange(n), held)
    train = np.ascontiguousarray(pixels if args.index_all else pixels[rest], dtype=np.float32)
    queries = np.ascontiguousarray(pixels[held], dtype=np.float32)
    d = train.shape[1]
    flat = faiss.IndexFlatL2(d)
    flat.add(train)
    start = time.perf_counter()
    _, exact = flat.search(queries, args.k)
    exact_seconds = time.perf_counter() - start
    print(json.dumps({"tool": "faiss-knn-l2", "queries": len(queries), "index": len(train), "k": args.k,
                      "seconds": exact_seconds}, sort_keys=True), flush=True)
    start = time.perf_counter()
    quantizer = faiss.IndexFlatL2(d)
    ivf = faiss.IndexIVFFlat(quantizer, d, args.nlist)
    ivf.train(train)
    ivf.add(train)
    build = time.perf_counter() - start
    print(json.dumps({"tool": "faiss-ivf-build-l2", "nlist": args.nlist, "seconds": build}, sort_keys=True), flush=True)
    for nprobe in [int(p) for p in args.nprobe.split(",")]:
        ivf.nprobe = nprobe
        start = time.perf_counter()
        _, found = ivf.search(queries, args.k)
        seconds = time.perf_counter() - start
        print(json.dumps({"tool": "faiss-ivf-l2", "nlist": args.nlist, "nprobe": nprobe, "queries": len(queries),
                          "index": len(train), "k": args.k, "seconds": seconds,
                          "speedup_vs_exact": exact_seconds / seconds,
                          "recall_at_1": recall(found, exact, 1), "recall_at_10": recall(found, exact, 10),
                          "threads": faiss.omp_get_max_threads(), "faiss": faiss.__version__}, sort_keys=True), flush=True)


if __name__ == "__main__":
    main()
