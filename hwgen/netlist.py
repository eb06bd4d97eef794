"""The netlist: hwgen's central data structure, and its JSON form (contract v1, docs/netlist-format.md).

Node ids 0..num_inputs-1 are input bits; gate i is node num_inputs+i and reads only smaller ids.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import encoding
from .errors import HwgenError
from .files import read_text, write_text

FORMAT, VERSION = "hwgen-netlist", 1
MAX_NODES = 1 << 31  # node ids are int32 in the evaluator and the rewriting passes


@dataclass
class Netlist:
    num_inputs: int
    ops: np.ndarray       # (G,) uint8, truth tables
    a: np.ndarray         # (G,) int64, first input node
    b: np.ndarray         # (G,) int64, second input node
    outputs: np.ndarray   # (O,) int64, nodes read by the group sum, class-major
    num_classes: int
    encoder: np.ndarray | None = field(default=None)  # (F, T) thermometer thresholds, or None

    @classmethod
    def from_gates(cls, num_inputs, gates, outputs, num_classes, encoder=None):
        gates = np.asarray(gates, dtype=np.int64).reshape(-1, 3)
        return cls(num_inputs, gates[:, 0].astype(np.uint8), gates[:, 1].copy(), gates[:, 2].copy(),
                   np.asarray(outputs, dtype=np.int64), num_classes, encoder)

    @property
    def num_gates(self) -> int:
        return len(self.ops)

    @property
    def num_nodes(self) -> int:
        return self.num_inputs + self.num_gates

    @property
    def outputs_per_class(self) -> int:
        return len(self.outputs) // self.num_classes

    @property
    def score_width(self) -> int:
        """Bits needed for a class score in 0..m."""
        return max(1, int(self.outputs_per_class).bit_length())

    @property
    def class_width(self) -> int:
        return max(1, (self.num_classes - 1).bit_length())

    def levels(self) -> np.ndarray:
        """Logic level of every node: inputs 0, a gate 1 + the deeper of its inputs."""
        level = np.zeros(self.num_nodes, dtype=np.int64)
        level_list = level.tolist()
        n = self.num_inputs
        for i, (x, y) in enumerate(zip(self.a.tolist(), self.b.tolist())):
            level_list[n + i] = 1 + max(level_list[x], level_list[y])
        return np.array(level_list, dtype=np.int64)

    def depth(self) -> int:
        return int(self.levels().max(initial=0))

    def validate(self, where: str = "netlist"):
        """Raise HwgenError naming the first thing that breaks the contract."""
        if self.num_inputs < 1:
            raise HwgenError(f"{where}: num_inputs must be at least 1, got {self.num_inputs}")
        if self.num_classes < 1:
            raise HwgenError(f"{where}: num_classes must be at least 1, got {self.num_classes}")
        if self.num_nodes >= MAX_NODES:
            raise HwgenError(f"{where}: {self.num_nodes} nodes is more than the supported {MAX_NODES - 1}")
        node = self.num_inputs + np.arange(self.num_gates)
        for name, refs in (("a", self.a), ("b", self.b)):
            bad = np.flatnonzero((refs < 0) | (refs >= node))
            if len(bad):
                g = int(bad[0])
                raise HwgenError(f"{where}: gate {g} (node {node[g]}) input {name} reads node {int(refs[g])}, "
                                 f"which is not an earlier node")
        if len(self.outputs) == 0:
            raise HwgenError(f"{where}: outputs is empty")
        if len(self.outputs) % self.num_classes:
            raise HwgenError(f"{where}: {len(self.outputs)} outputs do not split into {self.num_classes} classes")
        bad = np.flatnonzero((self.outputs < 0) | (self.outputs >= self.num_nodes))
        if len(bad):
            raise HwgenError(f"{where}: outputs[{int(bad[0])}] = {int(self.outputs[bad[0]])} is not a node "
                             f"(0..{self.num_nodes - 1})")

    def to_json_dict(self) -> dict:
        gates = np.stack([self.ops.astype(np.int64), self.a, self.b], axis=1).tolist() if self.num_gates else []
        return {
            "format": FORMAT, "version": VERSION,
            "num_inputs": int(self.num_inputs),
            "gates": gates,
            "outputs": self.outputs.tolist(),
            "num_classes": int(self.num_classes),
            "encoder": None if self.encoder is None else encoding.to_dict(self.encoder),
        }

    def dumps(self) -> str:
        d = self.to_json_dict()
        # One gate per line: diffable, and far smaller than indent=2 on every number.
        head = {k: v for k, v in d.items() if k not in ("gates", "outputs", "encoder")}
        lines = ["{"] + [f"  {json.dumps(k)}: {json.dumps(v)}," for k, v in head.items()]
        lines.append('  "gates": [' + ",".join(f"\n    {json.dumps(g)}" for g in d["gates"]) + "\n  ],")
        lines.append(f'  "outputs": {json.dumps(d["outputs"])},')
        lines.append(f'  "encoder": {json.dumps(d["encoder"])}')
        lines.append("}")
        return "\n".join(lines) + "\n"

    def save(self, path):
        write_text(path, self.dumps())


def _require_int(d, key, where):
    v = d.get(key)
    if isinstance(v, bool) or not isinstance(v, int):
        raise HwgenError(f"{where}: \"{key}\" must be an integer, got {json.dumps(v)}")
    return v


def from_json_dict(d, where: str = "netlist") -> Netlist:
    if not isinstance(d, dict):
        raise HwgenError(f"{where}: expected a JSON object at the top level")
    if d.get("format") != FORMAT:
        raise HwgenError(f"{where}: \"format\" must be \"{FORMAT}\", got {json.dumps(d.get('format'))}")
    if d.get("version") != VERSION:
        raise HwgenError(f"{where}: unsupported version {json.dumps(d.get('version'))} (this hwgen reads {VERSION})")
    missing = [k for k in ("num_inputs", "gates", "outputs", "num_classes") if k not in d]
    if missing:
        raise HwgenError(f"{where}: missing key \"{missing[0]}\"")
    unknown = sorted(set(d) - {"format", "version", "num_inputs", "gates", "outputs", "num_classes", "encoder"})
    if unknown:
        raise HwgenError(f"{where}: unknown key \"{unknown[0]}\"")
    num_inputs = _require_int(d, "num_inputs", where)
    num_classes = _require_int(d, "num_classes", where)
    if num_inputs < 1 or num_inputs >= MAX_NODES:
        raise HwgenError(f"{where}: num_inputs must be in 1..{MAX_NODES - 1}, got {num_inputs}")
    gates, outputs = d["gates"], d["outputs"]
    if not isinstance(gates, list) or not all(isinstance(g, list) and len(g) == 3 for g in gates):
        raise HwgenError(f"{where}: \"gates\" must be a list of [op, a, b] triples")
    if not isinstance(outputs, list):
        raise HwgenError(f"{where}: \"outputs\" must be a list of node ids")
    try:
        g = np.array(gates, dtype=np.int64).reshape(-1, 3)
        o = np.array(outputs, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        raise HwgenError(f"{where}: gates and outputs must hold integers only") from None
    if any(isinstance(x, bool) or not isinstance(x, int) for row in gates for x in row) or \
            any(isinstance(x, bool) or not isinstance(x, int) for x in outputs):
        raise HwgenError(f"{where}: gates and outputs must hold integers only")
    bad = np.flatnonzero((g[:, 0] < 0) | (g[:, 0] > 15)) if len(g) else []
    if len(bad):
        raise HwgenError(f"{where}: gate {int(bad[0])} has op {int(g[bad[0], 0])}, outside 0..15")
    enc = d.get("encoder")
    thresholds = None if enc is None else encoding.from_dict(enc, num_inputs)
    net = Netlist.from_gates(num_inputs, g, o, num_classes, thresholds)
    net.validate(where)
    return net


def load(path) -> Netlist:
    path = Path(path)
    text = read_text(path, "netlist")
    try:
        d = json.loads(text)
    except json.JSONDecodeError as e:
        raise HwgenError(f"{path}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    return from_json_dict(d, where=str(path))
