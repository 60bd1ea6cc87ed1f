"""Checks `percept evaluate --json` against scikit-learn's classification_report.

Usage: python3 Benchmarks/peers/check_metrics_sklearn.py EVALUATION.json [...]
The predictions are rebuilt from Percept's confusion matrix (one (true, predicted) pair per count),
scikit-learn computes accuracy, per-class precision/recall/F1/support and the macro and weighted
averages, and every number must agree to 1e-9. Percept reports an undefined precision (a class never
predicted) as null; scikit-learn with zero_division=0 reports 0 — the script checks exactly that.
Exit status 0 when all files agree.
"""
import json
import sys

from sklearn.metrics import accuracy_score, classification_report


def check(path):
    with open(path) as handle:
        document = json.load(handle)
    evaluation = document.get("evaluation", document)
    confusion = evaluation["confusion"]
    names, counts = confusion["classNames"], confusion["counts"]
    truth, predicted = [], []
    for t, row in enumerate(counts):
        for p, count in enumerate(row):
            truth += [t] * count
            predicted += [p] * count
    labels = [i for i in range(len(names)) if any(counts[i]) or any(row[i] for row in counts)]
    ours = evaluation["report"]
    theirs = classification_report(truth, predicted, labels=labels, output_dict=True, zero_division=0)
    problems = []

    def compare(what, mine, reference):
        mine = 0.0 if mine is None else mine
        if abs(mine - reference) > 1e-9:
            problems.append(f"{what}: percept {mine} vs scikit-learn {reference}")

    compare("accuracy", ours["accuracy"], accuracy_score(truth, predicted))
    for index in labels:
        mine, reference = ours["classes"][index], theirs[str(index)]
        for key, their_key in [("precision", "precision"), ("recall", "recall"), ("f1", "f1-score")]:
            compare(f"{names[index]} {key}", mine.get(key), reference[their_key])
        compare(f"{names[index]} support", mine["support"], reference["support"])
    for ours_key, their_key in [("macroAverage", "macro avg"), ("weightedAverage", "weighted avg")]:
        for key, reference_key in [("precision", "precision"), ("recall", "recall"), ("f1", "f1-score")]:
            compare(f"{their_key} {key}", ours[ours_key][key], theirs[their_key][reference_key])
    never_predicted = [names[i] for i in labels if ours["classes"][i].get("precision") is None]
    status = "agree" if not problems else "DISAGREE"
    print(f"{path}: {len(truth)} predictions, {len(labels)} classes, never predicted: {never_predicted or 'none'} — {status}")
    for problem in problems:
        print("  " + problem)
    return not problems


if __name__ == "__main__":
    results = [check(path) for path in sys.argv[1:]]
    sys.exit(0 if results and all(results) else 1)
