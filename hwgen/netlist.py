"""The netlist: hwgen's central data structure, and its JSON form (docs/netlist-format.md).

Node ids 0..num_inputs-1 are input bits; gate i is node num_inputs+i and reads only smaller ids. A gate is
one of the 16 two-input ops, or (netlist v2) a k-input lookup table (op LUT, 1 <= k <= MAX_LUT_INPUTS): its inputs
i0..ik-1 are row i of `lut_inputs` and its value is bit sum_j i_j * 2**j of `lut_tables[i]`. A file with
no LUT node is written as version 1.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import encoding, ops, tables
from .errors import HwgenError
from .files import read_text, write_text

FORMAT, VERSION, LUT_VERSION = "hwgen-netlist", 1, 2
MAX_NODES = 1 << 31  # node ids are int32 in the evaluator and the rewriting passes
LUT = 16             # the op of a lookup-table node
MAX_LUT_INPUTS = 6


@dataclass
class Netlist:
    num_inputs: int
    ops: np.ndarray       # (G,) uint8, truth tables
    a: np.ndarray         # (G,) int64, first input node
    b: np.ndarray         # (G,) int64, second input node
    outputs: np.ndarray   # (O,) int64, nodes read by the group sum, class-major
    num_classes: int
    encoder: np.ndarray | None = field(default=None)  # (F, T) thermometer thresholds, or None
    # LUT nodes (op LUT): (G, MAX_LUT_INPUTS) int64 inputs, -1 past a node's k; (G,) uint64 tables. None
    # when the netlist has no LUT node. A LUT node's a and b are its first two inputs (b = a when k = 1).
    lut_inputs: np.ndarray | None = field(default=None)
    lut_tables: np.ndarray | None = field(default=None)
    # What each input bit is, where it is known (a BLIF's signal names, "age>=37" for a feature of a
    # user's data): read by explain; the passes keep it (rewrite.run), nothing else depends on it.
    input_names: list | None = field(default=None)

    @classmethod
    def from_gates(cls, num_inputs, gates, outputs, num_classes, encoder=None):
        gates = np.asarray(gates, dtype=np.int64).reshape(-1, 3)
        return cls(num_inputs, gates[:, 0].astype(np.uint8), gates[:, 1].copy(), gates[:, 2].copy(),
                   np.asarray(outputs, dtype=np.int64), num_classes, encoder)

    @classmethod
    def from_nodes(cls, num_inputs, nodes, outputs, num_classes, encoder=None):
        """Gates from a list whose items are (op, a, b) or ("lut", table, [i0, ..., ik-1])."""
        g = len(nodes)
        ops_, a, b = np.zeros(g, np.uint8), np.zeros(g, np.int64), np.zeros(g, np.int64)
        inputs, tables = np.full((g, MAX_LUT_INPUTS), -1, np.int64), np.zeros(g, np.uint64)
        for k, node in enumerate(nodes):
            if node[0] == "lut":
                _, table, fanin = node
                ops_[k], tables[k] = LUT, table
                inputs[k, :len(fanin)] = fanin
                a[k], b[k] = fanin[0], fanin[min(1, len(fanin) - 1)]
            else:
                ops_[k], a[k], b[k] = node
        luts = bool((ops_ == LUT).any())
        return cls(num_inputs, ops_, a, b, np.asarray(outputs, dtype=np.int64), num_classes, encoder,
                   inputs if luts else None, tables if luts else None)

    @property
    def has_luts(self) -> bool:
        return self.lut_inputs is not None

    def with_gates(self, ops_, a, b, outputs, lut_inputs=None, lut_tables=None) -> "Netlist":
        """The same interface (inputs, classes, encoder) over other gates."""
        return Netlist(self.num_inputs, ops_, a, b, outputs, self.num_classes, self.encoder, lut_inputs, lut_tables,
                       self.input_names)

    def fanins(self) -> np.ndarray:
        """(G, K) input nodes of every gate, -1 past its last (K = 2 without LUT nodes): what a gate reads
        structurally, whether or not its function depends on it."""
        pairs = np.stack([self.a, self.b], axis=1)
        if not self.has_luts:
            return pairs
        lut = self.ops == LUT
        fanins = np.full((self.num_gates, MAX_LUT_INPUTS), -1, np.int64)
        fanins[~lut, :2] = pairs[~lut]
        fanins[lut] = self.lut_inputs[lut]
        return fanins

    def reads(self) -> np.ndarray:
        """(G, K) bools beside fanins(): whether gate g's function depends on its input j."""
        depends = np.stack([np.array(ops.DEPENDS_ON_A)[np.minimum(self.ops, 15)],
                            np.array(ops.DEPENDS_ON_B)[np.minimum(self.ops, 15)]], axis=1)
        if not self.has_luts:
            return depends
        result = np.zeros((self.num_gates, MAX_LUT_INPUTS), dtype=bool)
        result[:, :2] = depends
        for g in np.flatnonzero(self.ops == LUT).tolist():
            _, table, fanin = self.node(g)
            result[g] = [j < len(fanin) and tables.depends_on(table, len(fanin), j) for j in range(MAX_LUT_INPUTS)]
        return result

    def reached(self, roots, functional: bool = False) -> np.ndarray:
        """Bool mask over nodes: the roots and every node they read, directly or not; with `functional`,
        only through the inputs each gate's function depends on (reads()), else every input it lists."""
        n = self.num_inputs
        live = np.isin(np.arange(self.num_nodes), roots).tolist()
        fanins = self.fanins()
        if functional:
            fanins = np.where(self.reads(), fanins, -1)
        fanin_list = fanins.tolist()
        for g in range(self.num_gates - 1, -1, -1):
            if live[n + g]:
                for x in fanin_list[g]:
                    if x >= 0:
                        live[x] = True
        return np.array(live, dtype=bool)

    def fanout_counts(self) -> np.ndarray:
        """(N,) int32: how many gate inputs and outputs read each node."""
        fanins = self.fanins()
        return np.bincount(np.concatenate([fanins[fanins >= 0].ravel(), self.outputs]),
                           minlength=self.num_nodes).astype(np.int32)

    def node(self, g: int):
        """Gate g as (op, a, b), or ("lut", table, [inputs])."""
        if self.has_luts and self.ops[g] == LUT:
            fanin = self.lut_inputs[g]
            return ("lut", int(self.lut_tables[g]), fanin[fanin >= 0].tolist())
        return (int(self.ops[g]), int(self.a[g]), int(self.b[g]))

    def require_gates(self, what: str):
        """For code that reads two-input gates only."""
        if self.has_luts:
            raise HwgenError(f"{what} takes two-input gates only; this netlist has LUT nodes "
                             "(hwgen simplify --passes decompose turns them into gates)")

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
        """Logic level of every node: inputs 0, a gate 1 + the deepest of its inputs."""
        level_list = [0] * self.num_nodes
        n = self.num_inputs
        if not self.has_luts:
            for i, (x, y) in enumerate(zip(self.a.tolist(), self.b.tolist())):
                level_list[n + i] = 1 + max(level_list[x], level_list[y])
        else:
            for i, fanin in enumerate(self.fanins().tolist()):
                level_list[n + i] = 1 + max(level_list[x] for x in fanin if x >= 0)
        return np.array(level_list, dtype=np.int64)

    def depth(self) -> int:
        return int(self.levels().max(initial=0))

    def validate(self, where: str = "netlist"):
        """Raise HwgenError naming the first thing that breaks the contract."""
        if self.num_inputs < 1:
            raise HwgenError(f"{where}: num_inputs must be at least 1, got {self.num_inputs}")
        if self.num_classes < 1:
            raise HwgenError(f"{where}: num_classes must be at least 1, got {self.num_classes}")
        if self.input_names is not None and len(self.input_names) != self.num_inputs:
            raise HwgenError(f"{where}: {len(self.input_names)} input names for {self.num_inputs} inputs")
        if self.num_nodes >= MAX_NODES:
            raise HwgenError(f"{where}: {self.num_nodes} nodes is more than the supported {MAX_NODES - 1}")
        node = self.num_inputs + np.arange(self.num_gates)
        if len(self.ops) != len(self.a) or len(self.a) != len(self.b):
            raise HwgenError(f"{where}: ops, a and b must have one entry per gate")
        bad = np.flatnonzero(self.ops > LUT)
        if len(bad):
            raise HwgenError(f"{where}: gate {int(bad[0])} has op {int(self.ops[bad[0]])}, neither a two-input op "
                             f"(0..15) nor a LUT node ({LUT})")
        if self.has_luts:
            self._validate_luts(where, node)
        elif (self.ops == LUT).any():
            raise HwgenError(f"{where}: gate {int(np.flatnonzero(self.ops == LUT)[0])} is a LUT node without a table")
        fanins = self.fanins()
        gate = self.ops != LUT  # a LUT node's unused inputs (-1) were checked in _validate_luts
        for j in range(fanins.shape[1]):
            refs = fanins[:, j]
            bad = np.flatnonzero(((refs < 0) & gate & (j < 2)) | (refs >= node))
            if len(bad):
                g = int(bad[0])
                name = "ab"[j] if not (self.has_luts and self.ops[g] == LUT) else f"i{j}"
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

    def _validate_luts(self, where: str, node: np.ndarray):
        if self.lut_inputs.shape != (self.num_gates, MAX_LUT_INPUTS) or self.lut_tables.shape != (self.num_gates,):
            raise HwgenError(f"{where}: lut_inputs and lut_tables must have one row per gate")
        luts = np.flatnonzero(self.ops == LUT)
        fanin = self.lut_inputs[luts]
        k = (fanin >= 0).sum(axis=1)
        listed_first = (fanin >= 0) == (np.arange(MAX_LUT_INPUTS) < k[:, None])
        bad = luts[(k < 1) | ~listed_first.all(axis=1)]
        if len(bad):
            g = int(bad[0])
            raise HwgenError(f"{where}: gate {g} (node {node[g]}) must read 1 to {MAX_LUT_INPUTS} nodes, listed first")
        narrow = k < 6
        wide = np.zeros(len(luts), dtype=bool)
        wide[narrow] = (self.lut_tables[luts[narrow]] >> (np.uint64(1) << k[narrow].astype(np.uint64))) != 0
        if wide.any():
            g = int(luts[wide][0])
            raise HwgenError(f"{where}: gate {g} (node {node[g]}) has a table wider than 2**{int(k[wide][0])} bits")
        rows = np.arange(len(luts))
        bad = luts[(self.a[luts] != fanin[:, 0]) | (self.b[luts] != fanin[rows, np.minimum(1, k - 1)])]
        if len(bad):
            g = int(bad[0])
            raise HwgenError(f"{where}: gate {g} (node {node[g]}): a and b must be its first two inputs")

    def to_json_dict(self) -> dict:
        if self.has_luts:
            gates = [self.node(g) for g in range(self.num_gates)]
            gates = [{"lut": g[2], "table": format(g[1], f"0{table_digits(len(g[2]))}x")} if g[0] == "lut" else list(g)
                     for g in gates]
        else:
            gates = np.stack([self.ops.astype(np.int64), self.a, self.b], axis=1).tolist() if self.num_gates else []
        return {
            "format": FORMAT, "version": LUT_VERSION if self.has_luts else VERSION,
            "num_inputs": int(self.num_inputs),
            "gates": gates,
            "outputs": self.outputs.tolist(),
            "num_classes": int(self.num_classes),
            "encoder": None if self.encoder is None else encoding.to_dict(self.encoder),
            **({} if self.input_names is None else {"input_names": list(self.input_names)}),
        }

    def dumps(self) -> str:
        d = self.to_json_dict()
        # One gate per line: diffable, and far smaller than indent=2 on every number.
        head = {k: v for k, v in d.items() if k not in ("gates", "outputs", "encoder", "input_names")}
        lines = ["{"] + [f"  {json.dumps(k)}: {json.dumps(v)}," for k, v in head.items()]
        lines.append('  "gates": [' + ",".join(f"\n    {json.dumps(g)}" for g in d["gates"]) + "\n  ],")
        lines.append(f'  "outputs": {json.dumps(d["outputs"])},')
        lines.append(f'  "encoder": {json.dumps(d["encoder"])}' + ("," if "input_names" in d else ""))
        if "input_names" in d:
            lines.append(f'  "input_names": {json.dumps(d["input_names"])}')
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
    if d.get("version") not in (VERSION, LUT_VERSION) or isinstance(d.get("version"), bool):
        raise HwgenError(f"{where}: unsupported version {json.dumps(d.get('version'))} (this hwgen reads "
                         f"{VERSION} and {LUT_VERSION})")
    missing = [k for k in ("num_inputs", "gates", "outputs", "num_classes") if k not in d]
    if missing:
        raise HwgenError(f"{where}: missing key \"{missing[0]}\"")
    unknown = sorted(set(d) - {"format", "version", "num_inputs", "gates", "outputs", "num_classes", "encoder",
                               "input_names"})
    if unknown:
        raise HwgenError(f"{where}: unknown key \"{unknown[0]}\"")
    num_inputs = _require_int(d, "num_inputs", where)
    num_classes = _require_int(d, "num_classes", where)
    if num_inputs < 1 or num_inputs >= MAX_NODES:
        raise HwgenError(f"{where}: num_inputs must be in 1..{MAX_NODES - 1}, got {num_inputs}")
    gates, outputs = d["gates"], d["outputs"]
    if not isinstance(gates, list):
        raise HwgenError(f"{where}: \"gates\" must be a list of [op, a, b] triples")
    if not isinstance(outputs, list) or any(isinstance(x, bool) or not isinstance(x, int) for x in outputs):
        raise HwgenError(f"{where}: \"outputs\" must be a list of integer node ids")
    nodes = [_read_gate(g, k, d["version"], where) for k, g in enumerate(gates)]
    try:
        o = np.array(outputs, dtype=np.int64)
    except OverflowError:
        raise HwgenError(f"{where}: outputs must hold node ids") from None
    enc = d.get("encoder")
    thresholds = None if enc is None else encoding.from_dict(enc, num_inputs)
    net = Netlist.from_nodes(num_inputs, nodes, o, num_classes, thresholds)
    names = d.get("input_names")
    if names is not None:
        if not isinstance(names, list) or len(names) != num_inputs or not all(isinstance(n, str) for n in names):
            raise HwgenError(f"{where}: \"input_names\" must be a list of {num_inputs} strings, one per input")
        net.input_names = names
    net.validate(where)
    return net


def table_digits(k: int) -> int:
    """Hex digits of a k-input LUT node's table in the JSON form: 2**k bits, at least one digit."""
    return max(1, (1 << k) // 4)


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and -(1 << 62) < x < 1 << 62


def _read_gate(gate, k: int, version: int, where: str):
    """One entry of "gates": [op, a, b], or in version 2 {"lut": [i0, ...], "table": "hex"}."""
    if isinstance(gate, dict) and version == LUT_VERSION:
        if set(gate) != {"lut", "table"}:
            raise HwgenError(f"{where}: gate {k}: a LUT node has the keys \"lut\" and \"table\" only")
        fanin, table = gate["lut"], gate["table"]
        if not isinstance(fanin, list) or not 1 <= len(fanin) <= MAX_LUT_INPUTS or not all(map(_is_int, fanin)):
            raise HwgenError(f"{where}: gate {k}: \"lut\" must list 1 to {MAX_LUT_INPUTS} input node ids")
        if min(fanin) < 0:
            raise HwgenError(f"{where}: gate {k}: an input reads node {min(fanin)}, which is not an earlier node")
        digits = table_digits(len(fanin))
        if not isinstance(table, str) or len(table) != digits or any(c not in "0123456789abcdef" for c in table):
            raise HwgenError(f"{where}: gate {k}: \"table\" must be {digits} lowercase hex digit(s) for "
                             f"{len(fanin)} inputs, got {json.dumps(table)}")
        value = int(table, 16)
        if value >> (1 << len(fanin)):
            raise HwgenError(f"{where}: gate {k}: \"table\" {table} has more than 2**{len(fanin)} bits")
        return ("lut", value, fanin)
    if not isinstance(gate, list) or len(gate) != 3:
        raise HwgenError(f"{where}: \"gates\" must be a list of [op, a, b] triples"
                         + (" or LUT nodes" if version == LUT_VERSION else ""))
    if not all(map(_is_int, gate)):
        raise HwgenError(f"{where}: gates and outputs must hold integers only")
    if not 0 <= gate[0] <= 15:
        raise HwgenError(f"{where}: gate {k} has op {gate[0]}, outside 0..15")
    return tuple(gate)


def read_json(path):
    """A netlist file's JSON value, or a one-line error naming the file and where it stops being JSON."""
    try:
        return json.loads(read_text(path, "netlist"))
    except json.JSONDecodeError as e:
        raise HwgenError(f"{path}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None


def load(path) -> Netlist:
    return from_json_dict(read_json(Path(path)), where=str(path))
