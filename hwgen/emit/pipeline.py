"""The pipelined classifier core as a small register-transfer plan, shared by both backends.

`plan_core(net, pipeline)` decides every register and every piece of logic once; `direct.py` prints the
plan as Verilog and `amaranth_rtl.py` builds it as an Amaranth component, so the two backends cannot
disagree on behaviour or latency. The core never stalls: a sample enters every clock and leaves
`latency` clocks later; flow control lives in the top level (a credit counter and an output FIFO).

Stages, each ending in a register:
  [encoder: raw feature register] -> input bits (thermometer comparators, or in_bits) ->
  gates, `pipeline` logic levels per stage -> popcount: ones counted in threes, then an adder tree ->
  argmax compare tree, each level a compare stage and a select stage.
A node read by a later stage than its own travels through a chain of delay registers (`n17_d1`,
`n17_d2`, ...): skip connections and long edges cost `skip_registers` flip-flops, reported in NAME.json.
"""

from dataclasses import dataclass, field

import numpy as np

from ..netlist import Netlist

# Expressions (tuples, first item the kind); operands are signal names.
#   ("gate", op, a, b)     1-bit gate, op as in the netlist contract; None for an operand op ignores
#   ("ge", src, t)         src >= t (unsigned constant)
#   ("add", a, b, ...)     zero-extended sum, truncated to the destination's width
#   ("gt", a, b)           a > b
#   ("mux", sel, a, b)     sel ? a : b
#   ("slice", src, lo)     src[lo +: width of the destination]
#   ("cat", [names])       concatenation, first name in the lowest bits
#   ("const", value)


# Whether op (f(a, b) = op >> (3 - 2a - b) & 1) depends on a, and on b.
READS_A = np.array([((op >> 2) & 3) != (op & 3) for op in range(16)])
READS_B = np.array([((op >> 3) & 1, (op >> 1) & 1) != ((op >> 2) & 1, op & 1) for op in range(16)])


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
    out_class: str = ""             # the signals driving the output ports
    out_scores: str = ""
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
    a, b = net.a.tolist(), net.b.tolist()
    pos = position.tolist()
    for g in range(net.num_gates):
        pa, pb = pos[a[g]], pos[b[g]]
        pos[n + g] = [(pa[0] + pb[0]) / 2, (pa[1] + pb[1]) / 2]
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


class _Builder:
    def __init__(self, plan: CorePlan):
        self.plan = plan

    def section(self, comment: str):
        self.plan.sections.append((len(self.plan.comb), len(self.plan.sync), comment))

    def wire(self, name: str, width: int, expr) -> str:
        self.plan.widths[name] = width
        self.plan.comb.append((name, expr))
        return name

    def reg(self, name: str, width: int, source: str) -> str:
        self.plan.widths[name] = width
        self.plan.sync.append((name, source))
        return name


def gate_stages(net: Netlist, pipeline: int) -> tuple[np.ndarray, int]:
    """Stage of every node (inputs -1) and the number of gate stages; pipeline 0 puts all gates in one."""
    levels = net.levels()
    stage = np.full(net.num_nodes, -1, dtype=np.int64)
    if net.num_gates:
        gate_levels = levels[net.num_inputs:]
        stage[net.num_inputs:] = 0 if pipeline == 0 else (gate_levels - 1) // pipeline
        return stage, int(stage.max()) + 1
    return stage, 0


def _holding_times(net: Netlist, stage: np.ndarray, num_stages: int) -> tuple[np.ndarray, np.ndarray]:
    """Which gates are built, and how many clocks each node must be held for its latest reader (an
    output is read at stage num_stages). Only what an output depends on is built (the rewriting passes
    leave nothing else; an input netlist may), so the Verilog has no unused signal."""
    n = net.num_inputs
    reads_a, reads_b = READS_A[net.ops], READS_B[net.ops]
    live_list = np.isin(np.arange(net.num_nodes), net.outputs).tolist()
    for g, x, y, ra, rb in zip(range(net.num_gates - 1, -1, -1), net.a[::-1].tolist(), net.b[::-1].tolist(),
                               reads_a[::-1].tolist(), reads_b[::-1].tolist()):
        if live_list[n + g]:
            live_list[x] |= ra
            live_list[y] |= rb
    live = np.array(live_list[n:], dtype=bool)
    need = np.zeros(net.num_nodes, dtype=np.int64)
    gate_stage = stage[n:]
    for operand, reads in ((net.a, reads_a), (net.b, reads_b)):
        mask = live & reads
        np.maximum.at(need, operand[mask], (gate_stage - stage[operand])[mask])
    np.maximum.at(need, net.outputs, num_stages - stage[net.outputs])
    return live, need


def _popcount(b: _Builder, rows: list) -> tuple[list, int]:
    """Each class's row of (signal, how many outputs it counts) -> its score signal, and the stages
    taken. The first stage counts the ones in groups of three (each result bit is one LUT of three
    inputs); each later stage adds pairs. (Two adder levels in one stage were the slowest path at
    150 MHz on ECP5.)"""
    stages = 0
    while len(rows[0]) > 1:
        group = 3 if stages == 0 else 2
        b.section(f"popcount stage {stages}")
        for k, row in enumerate(rows):
            nxt = []
            for j in range(0, len(row), group):
                name = f"score{k}_s{stages}_{j // group}"
                items = row[j:j + group]
                count = sum(counted for _, counted in items)
                x = b.wire(name + "_sum", count.bit_length(), ("add", *(signal for signal, _ in items))) \
                    if len(items) > 1 else items[0][0]
                nxt.append((b.reg(name, count.bit_length(), x), count))
            rows[k] = nxt
        stages += 1
    return [row[0][0] for row in rows], stages


def _argmax(b: _Builder, scores: list, w: int, cw: int) -> tuple[str, str, int]:
    """(class, all scores, stages taken). A tree of two-stage levels, compare then select: a compare is a
    carry chain, and its result steers every bit of the select; both in one stage were the slowest path
    at 150 MHz. The right side wins only when strictly greater, so ties go to the lowest class."""
    b.section("argmax")
    candidates = [(score, b.wire(f"class{k}", cw, ("const", k))) for k, score in enumerate(scores)]
    all_scores = b.wire("scores_s0", len(scores) * w, ("cat", scores))
    level = stages = 0
    while len(candidates) > 1:
        last = len(candidates) == 2  # its winning score is not needed: out_scores has them all
        b.section(f"argmax level {level}: compare")
        held = []
        for j in range(0, len(candidates), 2):
            name = f"best_l{level}_{j // 2}"
            pair = candidates[j:j + 2]
            right = None
            if len(pair) == 2:
                right = b.reg(name + "_right", 1, b.wire(name + "_right_next", 1, ("gt", pair[1][0], pair[0][0])))
            held.append((name, right, [(None if last else b.reg(f"{name}_{side}_score", w, score),
                                        b.reg(f"{name}_{side}_class", cw, cls))
                                       for side, (score, cls) in zip(("left", "right"), pair)]))
        b.section(f"argmax level {level}: select")
        nxt = []
        for name, right, pair in held:
            if right is None:
                (score, cls), = pair
                nxt.append((None if last else b.reg(name + "_score", w, score), b.reg(name + "_class", cw, cls)))
                continue
            (ls, lc), (rs, rc) = pair
            cls = b.reg(name + "_class", cw, b.wire(name + "_class_next", cw, ("mux", right, rc, lc)))
            score = None if last else b.reg(name + "_score", w, b.wire(name + "_score_next", w, ("mux", right, rs, ls)))
            nxt.append((score, cls))
        for _ in range(2):
            stages += 1
            all_scores = b.reg(f"scores_s{stages}", len(scores) * w, all_scores)
        candidates, level = nxt, level + 1
    return candidates[0][1], all_scores, stages


def plan_core(net: Netlist, pipeline: int) -> CorePlan:
    """Every register and operation of NAME_core for `net`, with `pipeline` gate levels per stage."""
    n, c = net.num_inputs, net.num_classes
    w, cw, per_class = net.score_width, net.class_width, net.outputs_per_class
    stage, num_stages = gate_stages(net, pipeline)

    live, need = _holding_times(net, stage, num_stages)
    used_inputs = np.flatnonzero(need[:n] > 0).tolist()

    if net.encoder is not None:
        fb = feature_bits(net.encoder)
        port, port_width = "in_data", net.encoder.shape[0] * fb
    else:
        fb, port, port_width = 0, "in_bits", n
    plan = CorePlan(port, port_width, fb, cw, c * w, latency=0)
    b = _Builder(plan)
    clocks = 0

    def node(u: int, delay: int) -> str:
        if u < n:
            return f"i{u}_d{delay}"
        return f"n{u}" if delay == 0 else f"n{u}_d{delay}"

    # Input bits, registered once: i<k>_d1.
    if net.encoder is not None:
        per_feature = net.encoder.shape[1]
        features = sorted({i // per_feature for i in used_inputs})
        b.section(f"raw features: {len(features)} of {net.encoder.shape[0]} are read, {fb} bits each")
        for f in features:
            b.wire(f"f{f}_in", fb, ("slice", port, f * fb))
            b.reg(f"f{f}", fb, f"f{f}_in")
        b.section("thermometer encoder: input bit f*T+k is feature f >= threshold[f][k]")
        for i in used_inputs:
            t = int(net.encoder[i // per_feature, i % per_feature])
            expr = ("const", 1) if t <= 0 else ("ge", f"f{i // per_feature}", t) if t < 1 << fb else ("const", 0)
            b.reg(node(i, 1), 1, b.wire(f"i{i}_bit", 1, expr))
        clocks += 1
        plan.unused_input_bits = port_width - len(features) * fb
    else:
        b.section(f"input bits: {len(used_inputs)} of {n} are read")
        for i in used_inputs:
            b.reg(node(i, 1), 1, b.wire(f"i{i}_bit", 1, ("slice", port, i)))
        plan.unused_input_bits = n - len(used_inputs)
    clocks += 1

    # Gate stages. A node needed `need` clocks after its own stage gets delay registers d1..d<need>;
    # register d<k> closes stage (own stage + k - 1). Inputs already have d1 (the input register).
    ops, a_in, b_in = net.ops.tolist(), net.a.tolist(), net.b.tolist()
    stage_list, need_list = stage.tolist(), need.tolist()
    closing = [[] for _ in range(num_stages)]
    for u in np.flatnonzero(need > 0).tolist():
        for delay in range(2 if u < n else 1, need_list[u] + 1):
            closing[stage_list[u] + delay - 1].append((u, delay))
    gates_by_stage = [[] for _ in range(num_stages)]
    for g in np.flatnonzero(live).tolist():
        gates_by_stage[stage_list[n + g]].append(g)
    for s in range(num_stages):
        b.section(f"gate stage {s}: {len(gates_by_stage[s])} gates")
        for g in gates_by_stage[s]:
            x, y = a_in[g], b_in[g]
            b.wire(node(n + g, 0), 1, ("gate", ops[g], node(x, s - stage_list[x]) if READS_A[ops[g]] else None,
                                       node(y, s - stage_list[y]) if READS_B[ops[g]] else None))
        for u, delay in sorted(closing[s]):
            b.reg(node(u, delay), 1, node(u, delay - 1))
        clocks += 1
    skip_registers = sum(len(regs) for regs in closing) - sum(1 for u in range(n, net.num_nodes) if need_list[u])

    # Popcount per class, over the class's outputs in an order that keeps neighbours on the chip together.
    outputs = net.outputs.tolist()
    rows = [[(node(u, num_stages - stage_list[u]), 1) for u in outputs[k * per_class:(k + 1) * per_class]]
            for k in range(c)]  # (signal, how many outputs it counts)
    for k, order in enumerate(local_output_order(net)):
        rows[k] = [rows[k][j] for j in order]
    scores, popcount_stages = _popcount(b, rows)
    plan.out_class, plan.out_scores, argmax_stages = _argmax(b, scores, w, cw)
    clocks += popcount_stages + argmax_stages

    plan.latency = clocks
    plan.stats = {"pipeline_levels": pipeline, "gate_stages": num_stages, "popcount_stages": popcount_stages,
                  "argmax_stages": argmax_stages, "skip_registers": skip_registers,
                  "registers": sum(plan.widths[name] for name, _ in plan.sync) + clocks}
    return plan
