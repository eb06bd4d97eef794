"""Convolutions whose kernel is a small tree of learned logic nodes, shared by every position, then OR
pooling: LogicTreeConv (LogicTreeNet's logic-tree kernels, Petersen et al. 2024: two-input gates) and
LUTTreeConv (k-input LUT nodes, trained as the dense LUT layers are).

Each output channel reads taps of its window (fixed at random: a pixel offset and an input channel each;
or, for LUT nodes with `candidates` > 1, each tap learned among that many places of the window) and
reduces them through `depth` levels of nodes to one bit. The relaxed gates are the dense layers' (c0 +
c1*a + c2*b + c3*a*b from the softmax over the 16 ops; the one-hot argmax in eval mode, exact on bits);
LUT nodes compute their hardened tables in both modes (lut.py). Pooling is the max over each pool x pool
block, which on bits is their OR. Inputs and outputs are flat and position-major, as hwgen.convnet
defines them: feature (y * W + x) * C + c is channel c of pixel (y, x), so a stack of these feeds the
dense layers with no reshuffle.
"""

import torch
from torch import nn

from ...convnet import ConvStage, positions
from ...netlist import Netlist
from .logic import _coefficients, initial_gate_weights
from .lut import LUTLayer


class TreeConv(nn.Module):
    """What the tree kernels share: the geometry, each position's window, OR pooling."""

    def __init__(self, in_shape, channels: int, window: int, depth: int, stride: int, padding: int, pool: int):
        super().__init__()
        self.in_shape = tuple(in_shape)
        self.channels, self.window, self.depth = channels, window, depth
        self.stride, self.padding, self.pool = stride, padding, pool
        self.straight_through = False
        h, w, c = self.in_shape
        self.reads = window * window * c  # the kernel's inputs
        oh, ow = (positions(n, window, stride, padding) for n in (h, w))
        self.conv_shape = (oh, ow)
        self.out_shape = (oh // pool, ow // pool, channels)

    @property
    def out_dim(self) -> int:
        h, w, c = self.out_shape
        return h * w * c

    def draw_taps(self, count: int, generator: torch.Generator, rows: int | None = None) -> torch.Tensor:
        """(rows, count) kernel inputs, a row per channel unless told: distinct places of the window per row
        where it has enough."""
        return torch.stack([torch.randperm(self.reads, generator=generator)[:count] if count <= self.reads else
                            torch.randint(0, self.reads, (count,), generator=generator)
                            for _ in range(self.channels if rows is None else rows)])

    def unfolded(self, x: torch.Tensor) -> torch.Tensor:
        """(B, H*W*C) bits -> (B, C*k*k, positions): every position's window, in unfold's order (see rows)."""
        h, w, c = self.in_shape
        images = x.reshape(-1, h, w, c).permute(0, 3, 1, 2)
        return nn.functional.unfold(images, self.window, padding=self.padding, stride=self.stride)

    def rows(self, taps: torch.Tensor) -> torch.Tensor:
        """The rows of `unfolded` that hold the kernel inputs `taps`: kernel input (dy * k + dx) * C + ch is
        unfold's row ch * k * k + dy * k + dx."""
        c, k = self.in_shape[2], self.window
        return (taps % c) * (k * k) + taps // c

    def patches(self, x: torch.Tensor, taps: torch.Tensor) -> torch.Tensor:
        """(B, H*W*C) bits -> (B, taps.numel(), positions): the kernel inputs `taps` at every position."""
        return self.unfolded(x)[:, self.rows(taps).reshape(-1)]

    def pooled(self, values: torch.Tensor) -> torch.Tensor:
        """(B, channels, positions) kernel outputs -> (B, out_dim): OR pooled, position-major."""
        maps = values.reshape(len(values), self.channels, *self.conv_shape)
        if self.pool > 1:
            maps = nn.functional.max_pool2d(maps, self.pool)
        return maps.permute(0, 2, 3, 1).reshape(len(values), -1)

    def kernel(self) -> Netlist:
        raise NotImplementedError

    def to_stage(self) -> ConvStage:
        """The hardened kernel with the geometry."""
        return ConvStage(self.kernel(), self.window, self.stride, self.padding, self.pool)

    def extra_repr(self):
        return (f"{self.in_shape} -> {self.out_shape}, window {self.window}, depth {self.depth}, "
                f"stride {self.stride}, padding {self.padding}, pool {self.pool}")


class LogicTreeConv(TreeConv):
    """Each output channel a tree of two-input gates over 2**depth fixed taps of its window."""

    def __init__(self, in_shape, channels: int, window: int = 3, depth: int = 3, stride: int = 1,
                 padding: int = 1, pool: int = 2, init: str = "residual", residual_bias: float = 5.0,
                 generator: torch.Generator | None = None):
        super().__init__(in_shape, channels, window, depth, stride, padding, pool)
        generator = generator if generator is not None else torch.Generator().manual_seed(0)
        taps = 1 << depth
        self.register_buffer("taps", self.draw_taps(taps, generator))  # (channels, 2**depth) kernel inputs
        self.weights = nn.ParameterList(
            nn.Parameter(initial_gate_weights(channels * (taps >> (level + 1)), init, residual_bias, generator)
                         .reshape(channels, taps >> (level + 1), 16)) for level in range(depth))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        patches = self.patches(x, self.taps)
        values = patches.reshape(len(patches), self.channels, -1, patches.shape[-1])
        for weights in self.weights:
            coefficients = _coefficients(weights.reshape(-1, 16), self.training, self.straight_through)
            c0, c1, c2, c3 = coefficients.reshape(self.channels, -1, 4, 1).unbind(2)
            a, b = values[:, :, 0::2], values[:, :, 1::2]
            values = c0 + c1 * a + c2 * b + c3 * a * b
        return self.pooled(values.reshape(len(patches), self.channels, -1))

    def kernel(self) -> Netlist:
        """Each gate its op of largest weight."""
        gates, previous = [], self.taps.tolist()  # node ids each channel's next level reads
        for weights in self.weights:
            ops_ = weights.detach().argmax(-1).tolist()
            level = []
            for ch in range(self.channels):
                nodes = []
                for j, op in enumerate(ops_[ch]):
                    gates.append([op, previous[ch][2 * j], previous[ch][2 * j + 1]])
                    nodes.append(self.reads + len(gates) - 1)
                level.append(nodes)
            previous = level
        return Netlist.from_gates(self.reads, gates, [nodes[0] for nodes in previous], self.channels)


class LUTTreeConv(TreeConv):
    """Each output channel a tree of k-input LUT nodes over k**depth taps of its window: LUTLayers over
    every position at once (their batch is images x positions), the first reading the window, each next
    one the k nodes below each of its nodes. init residual: every node starts as the pass-through of its
    first input (a channel starts as one tap); random: DWN's tables. candidates > 1: each first-level
    input learns which of that many places of the window it reads (DWN's learned mapping)."""

    def __init__(self, in_shape, channels: int, window: int = 3, depth: int = 2, stride: int = 1,
                 padding: int = 1, pool: int = 2, init: str = "residual", k: int = 4, candidates: int = 1,
                 generator: torch.Generator | None = None):
        super().__init__(in_shape, channels, window, depth, stride, padding, pool)
        generator = generator if generator is not None else torch.Generator().manual_seed(0)
        self.k = k
        width = channels * k ** (depth - 1)  # first-level nodes, channel-major
        if candidates > 1:  # (k, width, candidates): the places of the window each input chooses from
            choices = min(candidates, self.reads)
            drawn = self.draw_taps(choices, generator, rows=k * width)
            wiring, learned = drawn.reshape(width, k, choices).transpose(0, 1), True
        else:  # (k, width): node i of a channel reads its taps i*k .. i*k+k-1
            wiring, learned = self.draw_taps(k ** depth, generator).reshape(width, k).t(), False
        levels = [LUTLayer(self.reads, width, k, wiring=wiring, learned=learned, generator=generator)]
        while width > channels:  # node o of the next level reads nodes o*k .. o*k+k-1 below it
            levels.append(LUTLayer(width, width // k, k, wiring=torch.arange(width).reshape(-1, k).t(),
                                   generator=generator))
            width //= k
        if init == "residual":
            with torch.no_grad():
                for level in levels:
                    level.tables.copy_(_pass_through_tables(k, level.out_dim, generator))
        self.levels = nn.ModuleList(levels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Feature-major from the window to the last level, a row per input and a column per (image, position):
        # the layout the LUT kernel reads, so the only copy is the window's.
        patches = self.unfolded(x)
        n, _, count = patches.shape
        values = patches.transpose(0, 1).reshape(self.reads, n * count)
        values = self.levels[0].features(values, self.rows(torch.arange(self.reads, device=x.device)))
        for level in self.levels[1:]:
            values = level.features(values)
        return self.pooled(values.reshape(self.channels, n, count).transpose(0, 1))

    def kernel(self) -> Netlist:
        """Each node its hardened table."""
        nodes, base = [], 0  # the level below's node ids start at base (the window's reads first)
        for level in self.levels:
            indices, tables = level.indices.tolist(), level.hard_tables()
            nodes += [("lut", tables[o], [base + indices[j][o] for j in range(self.k)]) for o in range(level.out_dim)]
            base = self.reads + len(nodes) - level.out_dim
        return Netlist.from_nodes(self.reads, nodes, list(range(base, base + self.channels)), self.channels)

    def extra_repr(self):
        return super().extra_repr() + f", LUT{self.k} nodes"


def _pass_through_tables(k: int, count: int, generator: torch.Generator) -> torch.Tensor:
    """(count, 2**k) tables whose node outputs its input 0, each entry 0.25 to 0.75 from the step."""
    sign = (torch.arange(1 << k) & 1).float() * 2 - 1
    return sign * (0.25 + 0.5 * torch.rand(count, 1 << k, generator=generator))
