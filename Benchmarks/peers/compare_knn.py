#!/usr/bin/env python3
"""Agreement between two neighbour-index files (int32, N×k) from percept-bench and faiss_knn.py.

    python3 compare_knn.py A.i32 B.i32 --k 20 [--tool NAME]

Prints one JSON line: the share of queries whose whole ordered list agrees, whose nearest
neighbour agrees, and of neighbours shared as sets (order and ties aside). Files may hold
different numbers of queries; the shorter decides.
"""
import argparse, json
import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("a")
parser.add_argument("b")
parser.add_argument("--k", type=int, default=20)
parser.add_argument("--tool", default="knn-agreement")
args = parser.parse_args()
a = np.fromfile(args.a, dtype=np.int32).reshape(-1, args.k)
b = np.fromfile(args.b, dtype=np.int32).reshape(-1, args.k)
n = min(len(a), len(b))
a, b = a[:n], b[:n]
exact = float(np.mean(np.all(a == b, axis=1)))
first = float(np.mean(a[:, 0] == b[:, 0]))
shared = float(np.mean([len(set(x) & set(y)) / args.k for x, y in zip(a, b)]))
print(json.dumps({"tool": args.tool, "queries": n, "k": args.k, "same_ordered_list": exact,
                  "same_nearest": first, "shared_neighbors": shared}, sort_keys=True))
