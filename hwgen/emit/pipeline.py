"""The pipelined classifier core as a small register-transfer plan, shared by both backends.

`plan_core(net, pipeline)` decides every register and every piece of logic once; `direct.py` prints the
plan as Verilog and `amaranth_rtl.py` builds it as an Amaranth component, so the two backends cannot
disagree on behaviour or latency. The core never stalls: a sample enters every clock and leaves
`latency` clocks later; flow control lives in the top level (a credit counter and an output FIFO).

The core is one graph of logic (typed expressions, expressions.py), in four parts: the thermometer encoder
(comparators on the registered raw features, or the registered input bits), the gates, the popcount of each
class, and the argmax. Every piece of logic has a delay in LUT levels (the delay model, targets.DELAYS); the
pipeline cuts the graph into stages of at most `levels` LUT levels, as soon as possible, across the parts'
borders, and registers every signal that a later stage reads. A signal read k stages after its own travels
through delay registers (`x_d1` .. `x_dk`); a constant is never registered. `pipeline="auto"` takes
`levels` from the clock: `targets.levels_for(freq_mhz)`. The input port is registered on entry and the results on exit.
"""

import math
from dataclasses import dataclass, field

import numpy as np

from .. import ops, tables
from ..errors import HwgenError
from ..flow.config import DEFAULTS
from ..netlist import LUT, Netlist
from ..targets import DELAYS, LUT_DELAY, family_of, levels_for
from .expressions import Add, Cat, Const, Gate, Ge, Gt, Lut, Mux, Slice

# Whether op depends on a, and on b (the netlist contract's order).
READS_A = np.array(ops.DEPENDS_ON_A)
READS_B = np.array(ops.DEPENDS_ON_B)

PARTS = ("encoder", "gates", "popcount", "argmax")
XOR3, MAJ3, XOR2, AND2 = 0x96, 0xE8, 0x6, 0x8  # a full adder's sum and carry, a half adder's


def compare_chain(t: int, width: int) -> list:
    """x >= t, for a `width`-bit x and 0 < t < 2**width, as bit operations from x's lowest bit that matters
    up: [(b0, None), (b1, op1), ...] means x[b0], then x[b1] op1 (that), and so on. At a set bit of t, x
    needs that bit and the rest (&); at a clear one, either (|). Written out so, rather than as a
    subtraction on a carry chain, a comparator is the few LUT inputs it reads, and synthesis merges it
    into the gates that read it (x >= 128 is the wire x[7])."""
    low = (t & -t).bit_length() - 1
    return [(low, None)] + [(b, "&" if (t >> b) & 1 else "|") for b in range(low + 1, width)]


def compare_delay(t: int, width: int) -> float:
    """Delay of x >= t for a `width`-bit x: it reads x's bits from the top down to t's lowest set bit, so a
    threshold with few set low bits (128, or 64 and 192 for 8-bit pixels) is a wire or one small LUT."""
    if t <= 0 or t >= 1 << width:
        return 0.0
    reads = width - ((t & -t).bit_length() - 1)
    return 0.0 if reads <= 1 else 0.5 * math.ceil(math.log2(reads))


@dataclass
class CorePlan:
    input_port: str                 # "in_data" (raw features through the encoder) or "in_bits"
    input_width: int
    feature_bits: int               # bits per raw feature on in_data (0 without an encoder)
    class_width: int
    scores_width: int
    latency: int                    # clocks from in_valid to out_valid
    widths: dict = field(default_factory=dict)      # every signal but the ports: name -> width
    comb: list = field(default_factory=list)        # (name, expression), in dependency order
    sync: list = field(default_factory=list)        # (name, source name): name <= source each clock
    sections: list = field(default_factory=list)    # (index into comb, index into sync, comment)
    part_of: dict = field(default_factory=dict)     # signal -> the part it belongs to (PARTS, or "input")
    stage_of: dict = field(default_factory=dict)    # logic signal -> the stage that computes it
    outputs: dict = field(default_factory=dict)     # output port -> the signal driving it
    unused_input_bits: int = 0
    stats: dict = field(default_factory=dict)


def feature_bits(thresholds: np.ndarray) -> int:
    """Width of one raw feature on in_data: enough for the largest threshold. Features above 2**B - 1
    give the same bits as 2**B - 1, so a wider value saturates at the port without changing a result."""
    return max(1, max(int(thresholds.max(initial=1)), 0).bit_length())  # thresholds <= 0 are constant bits


def fifo_depth_bits(core_latency: int) -> int:
    """The output FIFO holds 2**bits >= latency + 3 results: a sample holds its credit for latency + 2
    clocks (its slot is returned a clock after it leaves), so this many credits keep one sample per clock
    flowing."""
    return max(1, (core_latency + 2).bit_length())


def input_positions(net: Netlist) -> np.ndarray:
    """A 2-D position for every input bit: its feature on a square image when the feature count is a
    square (28 x 28 for MNIST), else along a line."""
    features = net.encoder.shape[0] if net.encoder is not None else net.num_inputs
    feature = np.arange(net.num_inputs) * features // net.num_inputs
    side = int(round(features ** 0.5))
    if side * side == features:
        return np.stack([feature // side, feature % side], axis=1).astype(float)
    return np.stack([np.zeros(net.num_inputs), feature], axis=1).astype(float)


def local_output_order(net: Netlist) -> list[np.ndarray]:
    """Per class, an order of its outputs in which neighbours read nearby inputs. Every node is placed
    at the mean position of its operands; the outputs are then ordered by recursive halving along the
    wider spread (a k-d order). Counting the ones of neighbours first keeps the popcount's first stages
    short wires instead of wires across the whole chip (a locally wired network has outputs everywhere)."""
    position = np.zeros((net.num_nodes, 2))
    position[:net.num_inputs] = input_positions(net)
    n = net.num_inputs
    pos = position.tolist()
    for g, fanin in enumerate(net.fanins().tolist()):
        points = [pos[x] for x in fanin if x >= 0]
        pos[n + g] = [sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points)]
    position = np.array(pos)
    m = net.outputs_per_class

    def kd_order(points: np.ndarray, index: np.ndarray) -> list:
        if len(index) <= 2:
            return index.tolist()
        spread = points[index].max(axis=0) - points[index].min(axis=0)
        axis = int(np.argmax(spread))
        ordered = index[np.argsort(points[index, axis], kind="stable")]
        half = len(ordered) // 2
        return kd_order(points, ordered[:half]) + kd_order(points, ordered[half:])

    return [np.array(kd_order(position[net.outputs[k * m:(k + 1) * m]], np.arange(m)), dtype=np.int64)
            for k in range(net.num_classes)]


class _Graph:
    """The core's logic before pipelining: signals in dependency order, each with its part and delay."""

    def __init__(self):
        self.nodes = []      # (name, width, expr, delay, part)
        self.widths = {}

    def add(self, name: str, width: int, expr, part: str, delay: float | None = None) -> str:
        self.widths[name] = width
        self.nodes.append((name, width, expr, DELAYS[expr.kind] if delay is None else delay, part))
        return name


def _popcount(g: _Graph, rows: list) -> list:
    """Each class's outputs -> its score: a tree of full adders (a LUT each for sum and carry, one LUT
    level per round) takes every column of equal-weight bits down to two, then one carry-chain adder."""
    scores = []
    for k, row in enumerate(rows):
        w = len(row).bit_length()  # the count fits w bits, so a carry out of the top column is always 0
        columns = [[signal for signal, _ in row]] + [[] for _ in range(w - 1)]
        level = 0
        while any(len(col) > 2 for col in columns):
            nxt = [[] for _ in columns]
            for j, col in enumerate(columns):
                i = 0
                while len(col) - i >= 3:
                    name = f"pc{k}_l{level}_c{j}_{i // 3}"
                    nxt[j].append(g.add(name + "_s", 1, Lut(XOR3, tuple(col[i:i + 3])), "popcount"))
                    if j + 1 < len(columns):
                        nxt[j + 1].append(g.add(name + "_c", 1, Lut(MAJ3, tuple(col[i:i + 3])), "popcount"))
                    i += 3
                nxt[j] += col[i:]
            columns, level = nxt, level + 1
        rows_left = max(len(col) for col in columns)  # two, or one where no carry was left over
        if any(len(col) < rows_left for col in columns):
            zero = g.add(f"pc{k}_zero", 1, Const(0), "popcount")
            columns = [col + [zero] * (rows_left - len(col)) for col in columns]
        x = g.add(f"pc{k}_x", w, Cat(tuple(col[0] for col in columns)), "popcount")
        if rows_left == 1:
            scores.append(x)
            continue
        y = g.add(f"pc{k}_y", w, Cat(tuple(col[1] for col in columns)), "popcount")
        scores.append(g.add(f"score{k}", w, Add((x, y)), "popcount"))
    return scores


def _argmax(g: _Graph, scores: list, w: int, cw: int) -> tuple[str, str]:
    """(class, all scores): a tree of compare-and-select levels; the right side wins only when strictly
    greater, so ties go to the lowest class. The last level selects the class only: out_scores has them all."""
    candidates = [(score, g.add(f"class{k}", cw, Const(k), "argmax")) for k, score in enumerate(scores)]
    all_scores = g.add("scores", len(scores) * w, Cat(tuple(scores)), "argmax")
    level = 0
    while len(candidates) > 1:
        last = len(candidates) == 2
        nxt = []
        for j in range(0, len(candidates), 2):
            pair = candidates[j:j + 2]
            if len(pair) == 1:
                nxt.append(pair[0])
                continue
            name = f"best_l{level}_{j // 2}"
            (ls, lc), (rs, rc) = pair
            right = g.add(name + "_right", 1, Gt(rs, ls), "argmax")
            cls = g.add(name + "_class", cw, Mux(right, rc, lc), "argmax")
            score = None if last else g.add(name + "_score", w, Mux(right, rs, ls), "argmax")
            nxt.append((score, cls))
        candidates, level = nxt, level + 1
    return candidates[0][1], all_scores


def _schedule(graph: _Graph, levels: float) -> dict:
    """Stage of every signal, as soon as possible: a signal starts where its last operand is ready and
    moves to the next stage when it would not fit in the rest of this one (levels 0: one stage)."""
    stage, ready = {}, {}
    for name, _, expr, delay, _ in graph.nodes:
        if isinstance(expr, Const):
            continue
        start = max((ready[x] for x in expr.operands() if x in ready), default=0.0)
        if levels:
            s = math.floor(start / levels + 1e-9)
            if start - s * levels + min(delay, levels) > levels + 1e-9:
                s += 1
                start = s * levels
            stage[name] = s
        else:
            stage[name] = 0
        ready[name] = start + delay
    return stage


def pipeline_levels(pipeline, freq_mhz: float, family: str) -> int:
    """LUT levels per stage: `pipeline` as it is, or for "auto" as many as meet freq_mhz."""
    if pipeline == "auto":
        pipeline = levels_for(freq_mhz, family)
    if isinstance(pipeline, bool) or not isinstance(pipeline, int) or pipeline < 0:
        raise HwgenError(f"pipeline must be auto or 0 or more LUT levels per stage, got {pipeline!r}")
    return pipeline


def describe_levels(levels: int) -> str:
    """`levels` LUT levels per stage, in words for a message."""
    return "1 LUT level" if levels == 1 else f"{levels} LUT levels"


def plan_core(net: Netlist, pipeline=DEFAULTS["emit"]["pipeline"], freq_mhz: float = DEFAULTS["synth"]["freq_mhz"],
              family: str = family_of(DEFAULTS["synth"]["target"]), classify: bool = True,
              register_input: bool = True) -> CorePlan:
    """Every register and operation of NAME_core for `net`: stages of `pipeline` LUT levels (0: the logic
    in one stage between the input and output registers; "auto": as many as meet freq_mhz). classify:
    the outputs' popcount and argmax (ports out_class, out_scores); else the output bits themselves
    (port out_bits, output j in bit j: a conv kernel's channels). register_input: False where the port is
    a register already that holds its value for the clock after in_valid (the streaming engine's
    feature map), which saves the entry register and its clock."""
    pipeline = pipeline_levels(pipeline, freq_mhz, family)
    n, c = net.num_inputs, net.num_classes
    w, cw, per_class = net.score_width, net.class_width, net.outputs_per_class
    fanins, reads = net.fanins(), net.reads()
    live = net.reached(net.outputs, functional=True)[net.num_inputs:]  # only they are built
    read = np.zeros(net.num_nodes, dtype=bool)
    read[net.outputs] = True
    read[fanins[live[:, None] & reads]] = True
    used_inputs = np.flatnonzero(read[:n]).tolist()

    if net.encoder is not None:
        fb = feature_bits(net.encoder)
        port, port_width = "in_data", net.encoder.shape[0] * fb
    else:
        fb, port, port_width = 0, "in_bits", n
    plan = CorePlan(port, port_width, fb, cw, c * w, latency=0)
    graph = _Graph()
    entry = []  # (register, width, port slice): the input port, registered on entry

    def node(u: int) -> str:
        return f"i{u}" if u < n else f"n{u}"

    if net.encoder is not None:
        # Feature f enters as its bits low..B-1 only: x >= t reads none below t's lowest set bit, and
        # there x >= t is (x >> low) >= (t >> low).
        per_feature = net.encoder.shape[1]
        thresholds = {i: int(net.encoder[i // per_feature, i % per_feature]) for i in used_inputs}
        low = {}
        for i, t in thresholds.items():
            if 0 < t < 1 << fb:
                low[i // per_feature] = min(low.get(i // per_feature, fb), (t & -t).bit_length() - 1)
        entry = [(f"f{f}", fb - lo, f * fb + lo) for f, lo in sorted(low.items())]
        for i, t in thresholds.items():
            f = i // per_feature
            expr = Const(1) if t <= 0 else Ge(f"f{f}", t >> low[f]) if t < 1 << fb else Const(0)
            graph.add(node(i), 1, expr, "encoder", compare_delay(t, fb))
        plan.unused_input_bits = port_width - sum(width for _, width, _ in entry)
    else:
        entry = [(node(i), 1, i) for i in used_inputs]
        plan.unused_input_bits = n - len(used_inputs)

    ops_, a_in, b_in = net.ops.tolist(), net.a.tolist(), net.b.tolist()
    for g in np.flatnonzero(live).tolist():
        op = ops_[g]
        if op == LUT:
            table, fanin = tables.drop_unread(*net.node(g)[1:])  # read only what the function depends on
            expr = Lut(table, tuple(node(x) for x in fanin)) if fanin else Const(table & 1)
            graph.add(node(n + g), 1, expr, "gates", LUT_DELAY[max(1, len(fanin))])
            continue
        graph.add(node(n + g), 1, Gate(op, node(a_in[g]) if READS_A[op] else None,
                                       node(b_in[g]) if READS_B[op] else None), "gates")

    outputs = net.outputs.tolist()
    if classify:
        rows = [[(node(u), 1) for u in outputs[k * per_class:(k + 1) * per_class]] for k in range(c)]
        for k, order in enumerate(local_output_order(net)):
            rows[k] = [rows[k][j] for j in order]
        scores = _popcount(graph, rows)
        out_class, out_scores = _argmax(graph, scores, w, cw)
        ports = {"out_class": out_class, "out_scores": out_scores}
    else:
        plan.class_width = plan.scores_width = 0
        ports = {"out_bits": graph.add("out_bits_cat", len(outputs), Cat(tuple(node(u) for u in outputs)), "gates")}

    stage = _schedule(graph, pipeline)
    for name, width, _ in entry:
        stage[name] = 0  # the entry registers: read in stage 0 as they are
    last = max(stage.values(), default=0)
    skip_registers = _lay_out(plan, graph, entry, stage, last, ports, register_input)
    plan.stage_of = stage
    plan.latency = last + 1 + register_input  # the entry register, the stages 0..last, each ending in a register
    spans = {}
    for name, _, expr, _, part in graph.nodes:
        if name in stage and not isinstance(expr, (Cat, Slice)):
            lo, hi = spans.get(part, (stage[name], stage[name]))
            spans[part] = (min(lo, stage[name]), max(hi, stage[name]))
    plan.stats = {"pipeline_levels": pipeline, "stages": last + 1,
                  "stages_by_part": {p: list(spans[p]) for p in PARTS if p in spans},
                  "registers": sum(plan.widths[name] for name, _ in plan.sync) + plan.latency,
                  "skip_registers": skip_registers}
    return plan


def _lay_out(plan: CorePlan, graph: _Graph, entry: list, stage: dict, last: int, ports: dict,
             register_input: bool) -> int:
    """The scheduled graph as the plan's lists: per stage its logic (part by part), then the registers
    that close it. Operands name the delayed copy their reader's stage needs; the outputs are registered
    after the last stage. Returns the flip-flops of second and later copies (values held for more than
    one stage: skip connections, and scores waiting for the argmax)."""
    need = {}  # signal -> the most stages after its own that a reader takes it

    def read_at(x: str, s: int) -> str:
        if x not in stage:  # a constant
            return x
        k = s - stage[x]
        need[x] = max(need.get(x, 0), k)
        return x if k == 0 else f"{x}_d{k}"

    by_stage = {}
    constants = []
    for name, width, expr, _, part in graph.nodes:
        plan.part_of[name] = part
        if name not in stage:
            constants.append((name, expr))
        else:
            read = expr.renamed(lambda x, s=stage[name]: read_at(x, s))
            by_stage.setdefault(stage[name], []).append((name, part, read))
    plan.outputs = {port: read_at(signal, last + 1) for port, signal in ports.items()}

    def section(comment: str):
        plan.sections.append((len(plan.comb), len(plan.sync), comment))

    widths = dict(graph.widths)
    skip_registers = 0
    section("input port, registered on entry" if register_input else "input port")
    for name, width, lo in entry:
        plan.part_of[name] = "input"
        widths[name] = width
        if not register_input:
            plan.comb.append((name, Slice(plan.input_port, lo)))
            continue
        plan.part_of[name + "_in"] = "input"
        widths[name + "_in"] = width
        plan.comb.append((name + "_in", Slice(plan.input_port, lo)))
        plan.sync.append((name, name + "_in"))
    if constants:
        section("constants")
        plan.comb += constants
    for s in range(last + 1):
        items = by_stage.get(s, [])
        for part in ("input",) + PARTS:
            mine = [(name, expr) for name, p, expr in items if p == part]
            if mine:
                section(f"stage {s}: {part}")
                plan.comb += mine
        regs = [(x, k) for x, k in sorted(need.items()) if stage[x] <= s < stage[x] + k]
        if regs:
            section(f"stage {s}: registers")
            for x, k in regs:
                d = s - stage[x] + 1
                widths[f"{x}_d{d}"] = widths[x]
                plan.part_of[f"{x}_d{d}"] = plan.part_of[x]
                plan.sync.append((f"{x}_d{d}", x if d == 1 else f"{x}_d{d - 1}"))
                skip_registers += widths[x] if d > 1 else 0
    plan.widths = widths
    return skip_registers
