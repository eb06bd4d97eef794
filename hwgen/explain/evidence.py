"""Exact evidence maps: for each class and input bit, the mean change of the class score when that bit
turns on, over a set of samples, computed with the evaluator (no gradients, no sampling of the circuit).

For sample x and input i, the score is evaluated with bit i flipped; the change is oriented as "bit 0 -> 1"
(so a sample whose bit was 1 contributes the score it loses when the bit turns off). Summed over a
pixel's thermometer bits, the map says how much each pixel's brightness moves each class's score.
"""

import numpy as np

from ..golden import evaluate
from ..netlist import Netlist

FLIPS_PER_CALL = 16  # inputs flipped per evaluator call: one call of 16 x N samples


def evidence(net: Netlist, bits: np.ndarray) -> np.ndarray:
    """(classes, inputs) float64: mean over the samples of score(x, bit i = 1) - score(x, bit i = 0)."""
    bits = np.asarray(bits, dtype=bool)
    n = len(bits)
    result = np.zeros((net.num_classes, net.num_inputs))
    if n == 0:
        return result
    base = evaluate.scores(net, bits)
    for start in range(0, net.num_inputs, FLIPS_PER_CALL):
        chosen = range(start, min(start + FLIPS_PER_CALL, net.num_inputs))
        flipped = np.repeat(bits[None], len(chosen), axis=0)
        for t, i in enumerate(chosen):
            flipped[t, :, i] ^= True
        scores = evaluate.scores(net, flipped.reshape(-1, net.num_inputs)).reshape(len(chosen), n, -1)
        for t, i in enumerate(chosen):
            sign = np.where(bits[:, i], -1, 1)[:, None]  # a bit that was on: its score change is reversed
            result[:, i] = ((scores[t] - base) * sign).mean(axis=0)
    return result


def per_pixel(maps: np.ndarray, image_shape) -> np.ndarray:
    """(classes, inputs) -> (classes, h, w): each pixel's bits summed."""
    h, w = image_shape
    return maps.reshape(maps.shape[0], h * w, -1).sum(axis=2).reshape(maps.shape[0], h, w)
