"""The golden model of a conv netlist (v3), run directly: each stage's kernel evaluated once per window by
the compiled evaluator (all windows of a chunk of samples at once), zero padding, OR pooling, then the
head. tests/test_conv.py checks it bit for bit against the flattened netlist and the trained model."""

import numpy as np

from ..convnet import ConvNetlist

CHUNK = 512  # samples per pass: the windows of a chunk are (CHUNK * positions, window bits)


def conv_scores(net: ConvNetlist, bits: np.ndarray, threads: int = 0) -> np.ndarray:
    """(N, H * W * C) input bits, position-major -> (N, num_classes) class scores."""
    from .evaluate import scores

    h, w, c = net.input_shape
    results = []
    for start in range(0, max(len(bits), 1), CHUNK):
        maps = np.asarray(bits[start:start + CHUNK], dtype=bool).reshape(-1, h, w, c)
        n = len(maps)
        for stage in net.stages:
            k, s, p, q = stage.window, stage.stride, stage.padding, stage.pool
            padded = np.pad(maps, ((0, 0), (p, p), (p, p), (0, 0)))
            oh, ow = (padded.shape[1] - k) // s + 1, (padded.shape[2] - k) // s + 1
            windows = np.lib.stride_tricks.sliding_window_view(padded, (k, k), axis=(1, 2))[:, ::s, ::s][:, :oh, :ow]
            # (n, oh, ow, channels, dy, dx) -> the kernel's order: tap by tap (dy, dx), channel within tap
            windows = windows.transpose(0, 1, 2, 4, 5, 3).reshape(n * oh * ow, k * k * maps.shape[3])
            out = scores(stage.kernel, windows, threads=threads).astype(bool).reshape(n, oh, ow, stage.channels)
            if q > 1:
                ph, pw = oh // q, ow // q
                out = out[:, :ph * q, :pw * q].reshape(n, ph, q, pw, q, stage.channels).any(axis=(2, 4))
            maps = out
        results.append(scores(net.head, maps.reshape(n, -1), threads=threads))
    return np.concatenate(results)[:len(bits)] if len(bits) else np.zeros((0, net.num_classes), np.int64)
