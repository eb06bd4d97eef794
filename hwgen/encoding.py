"""Thermometer input encoding: raw integer features -> input bits.

Feature f with thresholds t[f][0..T-1] gives bits f*T .. f*T+T-1, bit f*T+k = (x[f] >= t[f][k]).
One threshold per feature is plain binarisation. The thresholds travel inside the netlist, so any
tool can go from raw features to the circuit's input bits without hwgen.
"""

import numpy as np

from .errors import HwgenError


def uniform_thresholds(num_features: int, bits: int, max_value: int) -> np.ndarray:
    """Thresholds splitting 0..max_value into bits+1 equal bands, the same for every feature."""
    steps = np.array([round((k + 1) * (max_value + 1) / (bits + 1)) for k in range(bits)], dtype=np.int64)
    return np.tile(steps, (num_features, 1))


def bit_names(thresholds: np.ndarray, features=None) -> list:
    """Each input bit by what it tests: "age>=37" (its feature's name, else f3, and its threshold)."""
    features = features or [f"f{f}" for f in range(len(thresholds))]
    return [f"{name}>={t}" for name, row in zip(features, np.asarray(thresholds).tolist()) for t in row]


def quantile_thresholds(train_x: np.ndarray, bits: int) -> np.ndarray:
    """Per feature, `bits` thresholds at its training values' quantiles k / (bits + 1): each the smallest
    value above that quantile, so that x >= t splits the data there (a feature with fewer distinct values
    repeats a threshold, or gets one above its range: a constant bit)."""
    x = np.asarray(train_x, dtype=np.int64)
    out = np.empty((x.shape[1], bits), dtype=np.int64)
    for f in range(x.shape[1]):
        values = np.unique(x[:, f])
        for k in range(bits):
            q = np.quantile(x[:, f], (k + 1) / (bits + 1))
            above = values[values > q]
            out[f, k] = int(above[0]) if len(above) else int(values[-1]) + 1
    return np.maximum(out, 1)


def encode(features: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """(N, F) integer features -> (N, F*T) bool input bits."""
    features = np.asarray(features)
    if features.ndim != 2 or features.shape[1] != thresholds.shape[0]:
        raise HwgenError(
            f"encoder expects features of shape (N, {thresholds.shape[0]}), got {tuple(features.shape)}")
    # The RTL takes each feature as an unsigned number: a negative or fractional one has no such form.
    if features.size and not (np.issubdtype(features.dtype, np.integer) or np.issubdtype(features.dtype, np.bool_)):
        raise HwgenError(f"raw features must be integers (the RTL takes unsigned numbers), got {features.dtype}")
    if features.size and features.min() < 0:
        row, col = np.unravel_index(int(np.argmin(features)), features.shape)
        raise HwgenError(f"raw features must be 0 or more (the RTL takes unsigned numbers): feature {col} of "
                         f"sample {row} is {int(features[row, col])}")
    bits = features[:, :, None] >= thresholds[None, :, :]
    return bits.reshape(features.shape[0], -1)


def to_dict(thresholds: np.ndarray) -> dict:
    return {"kind": "thermometer", "num_features": int(thresholds.shape[0]),
            "thresholds": thresholds.astype(int).tolist()}


def from_dict(d: dict, num_inputs: int) -> np.ndarray:
    """Validate a netlist's `encoder` entry; return its thresholds as an (F, T) int array."""
    if not isinstance(d, dict) or d.get("kind") != "thermometer":
        raise HwgenError("netlist encoder: expected an object with \"kind\": \"thermometer\"")
    thresholds = d.get("thresholds")
    try:
        t = np.array(thresholds, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        raise HwgenError("netlist encoder: thresholds must be a list of equal-length integer lists") from None
    if t.ndim != 2 or t.shape[0] != d.get("num_features") or t.shape[0] * t.shape[1] != num_inputs:
        raise HwgenError(f"netlist encoder: thresholds of shape {t.shape} do not give num_inputs={num_inputs} "
                         f"bits from num_features={d.get('num_features')}")
    return t
