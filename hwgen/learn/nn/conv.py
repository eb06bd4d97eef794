"""LogicTreeConv: a convolution whose kernel is a small tree of learned two-input gates (LogicTreeNet's
logic-tree kernels, Petersen et al. 2024), shared by every position, then OR pooling.

Each output channel reads 2**depth taps of its window (fixed at random: a pixel offset and an input
channel each) and reduces them pairwise through `depth` levels of gates to one bit. The relaxed gates are
the dense layers' (c0 + c1*a + c2*b + c3*a*b from the softmax over the 16 ops; the one-hot argmax in
eval mode, exact on bits). Pooling is the max over each pool x pool block, which on bits is their OR.
Inputs and outputs are flat and position-major, as hwgen.convnet defines them: feature (y * W + x) * C +
c is channel c of pixel (y, x), so a stack of these feeds the dense layers with no reshuffle.
"""

import torch
from torch import nn

from ...convnet import ConvStage, positions
from ...netlist import Netlist
from .logic import _coefficients, initial_gate_weights


class LogicTreeConv(nn.Module):
    def __init__(self, in_shape, channels: int, window: int = 3, depth: int = 3, stride: int = 1,
                 padding: int = 1, pool: int = 2, init: str = "residual", residual_bias: float = 5.0,
                 generator: torch.Generator | None = None):
        super().__init__()
        generator = generator if generator is not None else torch.Generator().manual_seed(0)
        self.in_shape = tuple(in_shape)
        self.channels, self.window, self.depth = channels, window, depth
        self.stride, self.padding, self.pool = stride, padding, pool
        self.straight_through = False
        h, w, c = self.in_shape
        reads, taps = window * window * c, 1 << depth
        # Each channel's taps: distinct places of its window where the window has enough of them.
        chosen = [torch.randperm(reads, generator=generator)[:taps] if taps <= reads else
                  torch.randint(0, reads, (taps,), generator=generator) for _ in range(channels)]
        self.register_buffer("taps", torch.stack(chosen))  # (channels, 2**depth) kernel input indices
        self.weights = nn.ParameterList(
            nn.Parameter(initial_gate_weights(channels * (taps >> (level + 1)), init, residual_bias, generator)
                         .reshape(channels, taps >> (level + 1), 16)) for level in range(depth))
        oh, ow = (positions(n, window, stride, padding) for n in (h, w))
        self.conv_shape = (oh, ow)
        self.out_shape = (oh // pool, ow // pool, channels)

    @property
    def out_dim(self) -> int:
        h, w, c = self.out_shape
        return h * w * c

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w, c = self.in_shape
        k = self.window
        images = x.reshape(-1, h, w, c).permute(0, 3, 1, 2)
        patches = nn.functional.unfold(images, k, padding=self.padding, stride=self.stride)  # (B, c*k*k, L)
        # kernel input (dy * k + dx) * c + ch is unfold's row ch * k * k + dy * k + dx
        rows = (self.taps % c) * (k * k) + self.taps // c
        values = patches[:, rows.reshape(-1)].reshape(len(patches), self.channels, -1, patches.shape[-1])
        for weights in self.weights:
            coefficients = _coefficients(weights.reshape(-1, 16), self.training, self.straight_through)
            c0, c1, c2, c3 = coefficients.reshape(self.channels, -1, 4, 1).unbind(2)
            a, b = values[:, :, 0::2], values[:, :, 1::2]
            values = c0 + c1 * a + c2 * b + c3 * a * b
        maps = values.reshape(len(patches), self.channels, *self.conv_shape)
        if self.pool > 1:
            maps = nn.functional.max_pool2d(maps, self.pool)
        return maps.permute(0, 2, 3, 1).reshape(len(patches), -1)

    def to_stage(self) -> ConvStage:
        """The hardened kernel (each gate its op of largest weight) with the geometry."""
        reads = self.window * self.window * self.in_shape[2]
        gates, previous = [], self.taps.tolist()  # node ids each channel's next level reads
        for weights in self.weights:
            ops_ = weights.detach().argmax(-1).tolist()
            level = []
            for ch in range(self.channels):
                nodes = []
                for j, op in enumerate(ops_[ch]):
                    gates.append([op, previous[ch][2 * j], previous[ch][2 * j + 1]])
                    nodes.append(reads + len(gates) - 1)
                level.append(nodes)
            previous = level
        kernel = Netlist.from_gates(reads, gates, [nodes[0] for nodes in previous], self.channels)
        return ConvStage(kernel, self.window, self.stride, self.padding, self.pool)

    def extra_repr(self):
        return (f"{self.in_shape} -> {self.out_shape}, window {self.window}, depth {self.depth}, "
                f"stride {self.stride}, padding {self.padding}, pool {self.pool}")
