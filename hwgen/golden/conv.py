"""The golden model of a conv netlist (v3), run directly: each stage's kernel evaluated once per window by
the compiled evaluator (all windows of a chunk of samples at once), zero padding, OR pooling, then the
head. tests/test_conv.py checks it bit for bit against the flattened netlist and the trained model."""

import numpy as np

from ..convnet import ConvNetlist

CHUNK = 512  # samples per pass: the windows of a chunk are (CHUNK * positions, window bits)


def conv_features(net: ConvNetlist, bits: np.ndarray, threads: int = 0) -> np.ndarray:
    """(N, H * W * C) input bits, position-major -> (N, head inputs) bool: the last feature map, position-major
    (row, column, channel), as the head reads it."""
    from .evaluate import scores

    h, w, c = net.input_shape
    results = []
    for start in range(0, max(len(bits), 1), CHUNK):
        maps = np.asarray(bits[start:start + CHUNK], dtype=bool).reshape(-1, h, w, c)
        n = len(maps)
        for stage in net.stages:
            windows = stage.windows(maps, False)
            out = scores(stage.kernel, windows.reshape(-1, windows.shape[-1]), threads=threads).astype(bool)
            maps = out.reshape(*windows.shape[:3], stage.channels)
            if stage.pool > 1:
                maps = stage.pool_blocks(maps).any(axis=-1)
        results.append(maps.reshape(n, -1))
    return np.concatenate(results)[:len(bits)] if len(bits) else np.zeros((0, net.head.num_inputs), bool)


def conv_scores(net: ConvNetlist, bits: np.ndarray, threads: int = 0) -> np.ndarray:
    """(N, H * W * C) input bits, position-major -> (N, num_classes) class scores."""
    from .evaluate import scores

    if not len(bits):
        return np.zeros((0, net.num_classes), np.int64)
    return scores(net.head, conv_features(net, bits, threads), threads=threads)
