"""The convolutional netlist (netlist version 3, docs/netlist-format.md): conv stages that each hold one
small kernel netlist with its geometry, then a dense head, over an image of input bits.

The input bits are laid out position-major: bit (y * W + x) * C + c is channel c of pixel (y, x), which is
the thermometer encoder's order (feature f = y * W + x, threshold c). A conv stage's kernel reads one
window: its input (dy * window + dx) * in_channels + c is channel c of the pixel at (y * stride - padding
+ dy, x * stride - padding + dx), and 0 outside the image (zero padding); its output j is output channel
j. OR pooling then takes each pool x pool block of positions (the remainder dropped) to the OR of its
values, channel by channel. The feature map leaves a stage in the same position-major order, and the head
reads the last one flattened so. The meaning of a v3 netlist is its flattening (`flatten`): a plain v1/v2
netlist that every tool reads, and that the trained model in eval mode, the evaluator and the RTL agree
with bit for bit.
"""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import encoding, ops
from .errors import HwgenError
from .files import write_text
from .netlist import FORMAT, LUT, MAX_LUT_INPUTS, Netlist, from_json_dict, read_json

CONV_VERSION = 3


def positions(size: int, window: int, stride: int, padding: int) -> int:
    """Output positions of a convolution along one side of `size` pixels."""
    return (size + 2 * padding - window) // stride + 1


@dataclass
class ConvStage:
    kernel: Netlist   # window * window * in_channels inputs, one output (one class) per output channel
    window: int
    stride: int = 1
    padding: int = 0
    pool: int = 1     # OR pooling over pool x pool blocks (1: none)

    @property
    def in_channels(self) -> int:
        return self.kernel.num_inputs // (self.window * self.window)

    @property
    def channels(self) -> int:
        return len(self.kernel.outputs)

    def output_shape(self, shape: tuple) -> tuple:
        """(H, W, C) in -> (H, W, C) out, after the convolution and the pooling."""
        h, w, _ = shape
        out = [positions(n, self.window, self.stride, self.padding) for n in (h, w)]
        return out[0] // self.pool, out[1] // self.pool, self.channels

    def windows(self, maps: np.ndarray, fill) -> np.ndarray:
        """(N, H, W, C) feature maps (bits, or node ids) -> (N, OH, OW, window * window * C): each output
        position's window in the kernel's input order (tap by tap, channel within tap), `fill` outside the
        map (the zero padding)."""
        k, s, p = self.window, self.stride, self.padding
        padded = np.pad(maps, ((0, 0), (p, p), (p, p), (0, 0)), constant_values=fill)
        oh, ow = (positions(n, k, s, p) for n in maps.shape[1:3])
        windows = np.lib.stride_tricks.sliding_window_view(padded, (k, k), axis=(1, 2))[:, ::s, ::s][:, :oh, :ow]
        return windows.transpose(0, 1, 2, 4, 5, 3).reshape(len(maps), oh, ow, -1)  # (dy, dx) before channel

    def pool_blocks(self, out: np.ndarray) -> np.ndarray:
        """(N, OH, OW, C) kernel outputs -> (N, OH // pool, OW // pool, C, pool * pool): the values each
        pooled position ORs (the remainder at the bottom and right dropped)."""
        q = self.pool
        n, oh, ow, c = out.shape
        ph, pw = oh // q, ow // q
        return out[:, :ph * q, :pw * q].reshape(n, ph, q, pw, q, c).transpose(0, 1, 3, 5, 2, 4).reshape(
            n, ph, pw, c, q * q)


@dataclass
class ConvNetlist:
    input_shape: tuple        # (H, W, C): the image of input bits the first stage reads
    stages: list              # ConvStage, in order
    head: Netlist             # the dense head over the last feature map, flattened position-major
    encoder: np.ndarray | None = None  # (H * W, C) thermometer thresholds, or None

    @property
    def num_inputs(self) -> int:
        h, w, c = self.input_shape
        return h * w * c

    @property
    def num_classes(self) -> int:
        return self.head.num_classes

    @property
    def score_width(self) -> int:
        return self.head.score_width

    def shapes(self) -> list:
        """The feature map's (H, W, C) before each stage, then the head's input."""
        shapes = [tuple(self.input_shape)]
        for stage in self.stages:
            shapes.append(stage.output_shape(shapes[-1]))
        return shapes

    def validate(self, where: str = "netlist"):
        h, w, c = self.input_shape
        if min(h, w, c) < 1:
            raise HwgenError(f"{where}: input_shape must be three positive sizes (height, width, channels)")
        if not self.stages:
            raise HwgenError(f"{where}: a version 3 netlist needs at least one conv stage")
        shape = tuple(self.input_shape)
        for k, stage in enumerate(self.stages):
            at = f"{where}: stage {k}"
            if stage.window < 1 or stage.stride < 1 or stage.padding < 0 or stage.pool < 1:
                raise HwgenError(f"{at}: window, stride and pool must be at least 1 and padding at least 0")
            if stage.padding >= stage.window:
                raise HwgenError(f"{at}: padding {stage.padding} must be smaller than the window {stage.window}")
            stage.kernel.validate(f"{at} kernel")
            if stage.kernel.num_inputs != stage.window * stage.window * shape[2]:
                raise HwgenError(f"{at}: the kernel reads {stage.kernel.num_inputs} bits, not the window's "
                                 f"{stage.window} x {stage.window} x {shape[2]} channels")
            if stage.kernel.num_classes != stage.channels or stage.kernel.encoder is not None:
                raise HwgenError(f"{at}: a kernel has one class per output channel and no encoder")
            shape = stage.output_shape(shape)
            if min(shape[:2]) < 1:
                raise HwgenError(f"{at}: the feature map comes out empty ({shape[0]} x {shape[1]})")
        self.head.validate(f"{where}: head")
        if self.head.num_inputs != shape[0] * shape[1] * shape[2] or self.head.encoder is not None:
            raise HwgenError(f"{where}: the head reads {self.head.num_inputs} bits, not the last feature map's "
                             f"{shape[0]} x {shape[1]} x {shape[2]}, and has no encoder of its own")
        if self.encoder is not None and self.encoder.shape != (h * w, c):
            raise HwgenError(f"{where}: encoder thresholds of shape {self.encoder.shape} do not give the "
                             f"{h} x {w} x {c} input bits")

    def to_json_dict(self) -> dict:
        return {
            "format": FORMAT, "version": CONV_VERSION, "input_shape": list(map(int, self.input_shape)),
            "stages": [{"kind": "conv", "window": s.window, "stride": s.stride, "padding": s.padding, "pool": s.pool,
                        "kernel": s.kernel.to_json_dict()} for s in self.stages] + [{"kind": "dense",
                                                                                 "netlist": self.head.to_json_dict()}],
            "num_classes": int(self.num_classes),
            "encoder": None if self.encoder is None else encoding.to_dict(self.encoder),
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json_dict(), separators=(",", ":")) + "\n"

    def save(self, path):
        write_text(path, self.dumps())


def _int(d: dict, key: str, where: str, low: int) -> int:
    v = d.get(key)
    if isinstance(v, bool) or not isinstance(v, int) or v < low:
        raise HwgenError(f"{where}: \"{key}\" must be an integer of at least {low}, got {json.dumps(v)}")
    return v


def conv_from_json_dict(d: dict, where: str = "netlist") -> ConvNetlist:
    unknown = sorted(set(d) - {"format", "version", "input_shape", "stages", "num_classes", "encoder"})
    if unknown:
        raise HwgenError(f"{where}: unknown key \"{unknown[0]}\"")
    shape = d.get("input_shape")
    if not isinstance(shape, list) or len(shape) != 3 or not all(isinstance(v, int) and not isinstance(v, bool)
                                                                 and v >= 1 for v in shape):
        raise HwgenError(f"{where}: \"input_shape\" must be [height, width, channels], three positive integers")
    stages = d.get("stages")
    if not isinstance(stages, list) or len(stages) < 2 or not all(isinstance(s, dict) for s in stages):
        raise HwgenError(f"{where}: \"stages\" must list the conv stages, then the dense head")
    *convs, last = stages
    if any(s.get("kind") != "conv" for s in convs) or last.get("kind") != "dense":
        raise HwgenError(f"{where}: \"stages\" must be conv stages (\"kind\": \"conv\") and then one dense stage")
    parsed = []
    for k, s in enumerate(convs):
        at = f"{where}: stage {k}"
        extra = sorted(set(s) - {"kind", "window", "stride", "padding", "pool", "kernel"})
        if extra:
            raise HwgenError(f"{at}: unknown key \"{extra[0]}\"")
        parsed.append(ConvStage(from_json_dict(s.get("kernel"), f"{at} kernel"), _int(s, "window", at, 1),
                                _int(s, "stride", at, 1), _int(s, "padding", at, 0), _int(s, "pool", at, 1)))
    if set(last) != {"kind", "netlist"}:
        raise HwgenError(f"{where}: the dense stage has the keys \"kind\" and \"netlist\" only")
    head = from_json_dict(last["netlist"], f"{where}: head")
    h, w, c = shape
    enc = d.get("encoder")
    thresholds = None if enc is None else encoding.from_dict(enc, h * w * c)
    net = ConvNetlist(tuple(shape), parsed, head, thresholds)
    if d.get("num_classes") != head.num_classes:
        raise HwgenError(f"{where}: \"num_classes\" must be the head's ({head.num_classes})")
    net.validate(where)
    return net


def load_any(path):
    """A netlist file of any version: a Netlist (v1, v2) or a ConvNetlist (v3)."""
    path = Path(path)
    d = read_json(path)
    if isinstance(d, dict) and d.get("format") == FORMAT and d.get("version") == CONV_VERSION:
        return conv_from_json_dict(d, str(path))
    return from_json_dict(d, str(path))


def load_flat(path) -> Netlist:
    """A netlist file of any version as one plain netlist: a v3 (conv) netlist flattened."""
    return as_flat(load_any(path))


def as_flat(net) -> Netlist:
    """A Netlist as it is; a ConvNetlist flattened."""
    return flatten(net) if isinstance(net, ConvNetlist) else net


class _Flat:
    """A netlist being built from copies of smaller ones."""

    def __init__(self, num_inputs: int):
        self.num_inputs = num_inputs
        self.parts = []  # (ops, a, b, lut_inputs or None, lut_tables or None), each an array per gate
        self.count = 0

    @property
    def next_node(self) -> int:
        return self.num_inputs + self.count

    def add_copies(self, net: Netlist, inputs: np.ndarray) -> np.ndarray:
        """P copies of `net`, copy p reading node inputs[p, i] for its input i; returns (P, outputs) node ids
        of each copy's outputs."""
        copies, n, g = inputs.shape[0], net.num_inputs, net.num_gates
        base = self.next_node + np.arange(copies)[:, None] * g          # (P, 1): node id of each copy's gate 0

        def mapped(refs):  # (G,) or (G, K) node ids of `net` -> (P, G[, K]) ids in the flat netlist
            refs = np.asarray(refs)
            inside = np.where(refs < n, 0, refs - n)
            flat = np.where(refs < n, np.take(inputs, np.clip(refs, 0, n - 1), axis=1),
                            base.reshape((copies,) + (1,) * refs.ndim) + inside)
            return np.where(refs < 0, -1, flat)

        lut_inputs = mapped(net.lut_inputs) if net.has_luts else None
        self.parts.append((np.tile(net.ops, copies), mapped(net.a).ravel(), mapped(net.b).ravel(),
                           None if lut_inputs is None else lut_inputs.reshape(-1, MAX_LUT_INPUTS),
                           None if lut_inputs is None else np.tile(net.lut_tables, copies)))
        self.count += copies * g
        return mapped(net.outputs)

    def add_gates(self, op: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        a, b = np.asarray(a, np.int64).ravel(), np.asarray(b, np.int64).ravel()
        first = self.next_node
        self.parts.append((np.full(len(a), op, np.uint8), a, b, None, None))
        self.count += len(a)
        return first + np.arange(len(a))

    def finish(self, outputs, num_classes: int, encoder) -> Netlist:
        ops_ = np.concatenate([p[0] for p in self.parts]).astype(np.uint8) if self.parts else np.zeros(0, np.uint8)
        a = np.concatenate([p[1] for p in self.parts]) if self.parts else np.zeros(0, np.int64)
        b = np.concatenate([p[2] for p in self.parts]) if self.parts else np.zeros(0, np.int64)
        lut_inputs = lut_tables = None
        if any(p[3] is not None for p in self.parts):
            lut_inputs = np.concatenate([p[3] if p[3] is not None else np.full((len(p[0]), MAX_LUT_INPUTS), -1)
                                         for p in self.parts])
            lut_tables = np.concatenate([p[4] if p[4] is not None else np.zeros(len(p[0]), np.uint64)
                                         for p in self.parts]).astype(np.uint64)
            if not (ops_ == LUT).any():
                lut_inputs = lut_tables = None
        return Netlist(self.num_inputs, ops_, a.astype(np.int64), b.astype(np.int64),
                       np.asarray(outputs, np.int64).ravel(), num_classes, encoder, lut_inputs, lut_tables)


def flatten(net: ConvNetlist) -> Netlist:
    """The conv netlist unrolled into one v1/v2 netlist over the same input bits: every stage's kernel once
    per output position (zero padding as a FALSE gate), each pooling block as a tree of OR gates, then the
    head. Its meaning is the v3 netlist's (module docstring)."""
    net.validate("netlist to flatten")
    flat = _Flat(net.num_inputs)
    h, w, c = net.input_shape
    feature = np.arange(h * w * c).reshape(h, w, c)  # node id of every bit of the current feature map
    zero = None  # the FALSE gate the padding reads, made when a stage first pads
    for stage in net.stages:
        if stage.padding and zero is None:
            zero = int(flat.add_gates(ops.FALSE, [0], [0])[0])
        windows = stage.windows(feature[None], zero if stage.padding else 0)[0]
        oh, ow, reads = windows.shape
        out = flat.add_copies(stage.kernel, windows.reshape(oh * ow, reads)).reshape(1, oh, ow, stage.channels)
        if stage.pool > 1:
            blocks = stage.pool_blocks(out)[0]
            shape, blocks = blocks.shape[:3], blocks.reshape(-1, blocks.shape[-1])
            while blocks.shape[1] > 1:  # a balanced tree of ORs
                pairs = blocks.shape[1] // 2
                joined = flat.add_gates(ops.OR, blocks[:, 0:2 * pairs:2], blocks[:, 1:2 * pairs:2])
                blocks = np.concatenate([joined.reshape(-1, pairs), blocks[:, 2 * pairs:]], axis=1)
            out = blocks.reshape(1, *shape)
        feature = out[0]
    outputs = flat.add_copies(net.head, feature.reshape(1, -1))
    result = flat.finish(outputs, net.num_classes, net.encoder)
    result.validate("flattened netlist")
    return result
