"""What a bench found, against the golden model: written to HWGEN_SIM_RESULTS as JSON, and the test's verdict."""

import json
import os

import numpy as np


def class_scores(value: int, width: int, num_classes: int) -> list:
    """out_scores as each class's score (class c at [c*width +: width])."""
    return [(value >> (c * width)) & ((1 << width) - 1) for c in range(num_classes)]


def report(want_class, want_scores, got_class, got_scores, cycles: int, seconds: float, min_latency, limit: int):
    """Compares the results that arrived (in order) with the expected ones, writes the results file, and
    fails the test where a result differs or is missing."""
    n, num_classes = len(want_class), want_scores.shape[1]
    got_class, got_scores = np.array(got_class, dtype=np.int64), np.array(got_scores, dtype=np.int64)
    k = len(got_class)
    bad = (got_class != want_class[:k]) | (got_scores.reshape(k, num_classes) != want_scores[:k]).any(axis=1)
    mismatches = int(bad.sum()) + (n - k)
    results = {"vectors": n, "received": k, "mismatches": mismatches, "cycles": cycles, "seconds": seconds,
               "first_mismatches": np.flatnonzero(bad)[:10].tolist(), "classes": got_class.tolist(),
               "min_latency_cycles": min_latency}
    with open(os.environ["HWGEN_SIM_RESULTS"], "w") as f:
        json.dump(results, f)
    assert k == n, f"only {k} of {n} outputs arrived within {limit} cycles"
    assert mismatches == 0, f"{mismatches} of {n} vectors differ from the golden model, first at {results['first_mismatches']}"
