"""Amaranth components for a netlist, for use inside your own Amaranth designs (see examples/).

`Classifier(net, pipeline=2)` is the whole stream: a `wiring.Component` with two `lib.stream` ports,

    i  In(stream.Signature(F * B or N))    payload: raw features, B bits each (when the netlist has an
                                           encoder), or the network's input bits (when it has none);
                                           i.ready is a register bit (no path from o.ready)
    o  Out(stream.Signature(RESULT))       payload.label: the predicted class (ties to the lowest);
                                           payload.scores[c]: class c's score (its count of ones)

so a design connects it with `wiring.connect(m, producer.o, classifier.i)`. It runs in the `sync`
domain, `latency` clocks from taking a sample to offering its result, one sample per clock sustained
while o.ready stays high. `PipelinedCore` is the stall-free pipeline inside it. Both are built from
`pipeline.plan_core`, the same plan the direct Verilog writer prints. `FlatClassifier` (through `FlatPorts`) gives
the Classifier the flat ports of the emitted Verilog (in_valid, in_ready, in_data or in_bits, out_valid,
out_ready, out_class, out_scores: rtl_templates/stream_top.v's), for `hwgen emit --backend amaranth`.
"""

from amaranth.hdl import Cat, ClockSignal, Const, Instance, Module, Mux, ResetSignal, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from .. import ops
from ..netlist import Netlist
from . import expressions as plan_expr
from .pipeline import CorePlan, compare_chain, fifo_depth_bits, plan_core


def _gate(op: int, a, b):
    """op over Amaranth values a and b, as ops.FORMS writes it."""
    form = ops.FORMS[op]
    if form[0] == "const":
        return Const(form[1], 1)
    if form[0] == "wire":
        x = a if form[1] == "a" else b
        return ~x if form[2] else x
    conn, inv_a, inv_b, inv_out = form
    x, y = (~a if inv_a else a), (~b if inv_b else b)
    value = x & y if conn == "&" else x | y if conn == "|" else x ^ y
    return ~value if inv_out else value


class PipelinedCore(wiring.Component):
    """The stall-free pipeline: a sample in every clock (with in_valid), its result `plan.latency` clocks
    later (with out_valid): out_class and out_scores, or out_bits for a plan without classification."""

    def __init__(self, net: Netlist, pipeline: int = 2, plan: CorePlan | None = None):
        self.plan = plan or plan_core(net, pipeline)
        p = self.plan
        super().__init__({"in_valid": In(1), p.input_port: In(p.input_width), "out_valid": Out(1),
                          **{port: Out(p.widths[x]) for port, x in p.outputs.items()}})

    def elaborate(self, platform):
        m = Module()
        p = self.plan
        signals = {p.input_port: getattr(self, p.input_port)}
        registered = {target for target, _ in p.sync}
        for target, width in p.widths.items():
            # Data registers have no reset: only `valid` needs one, and a reset on thousands of
            # flip-flops costs routing.
            signals[target] = Signal(width, name=target, reset_less=target in registered)

        def build(expr, width):
            match expr:
                case plan_expr.Gate(op, a, b):
                    return _gate(op, signals.get(a), signals.get(b))
                case plan_expr.Const(value):
                    return Const(value, width)
                case plan_expr.Ge(src, threshold):
                    x = signals[src]
                    chain = compare_chain(threshold, len(x))
                    value = x[chain[0][0]]
                    for bit, op in chain[1:]:
                        value = (x[bit] & value) if op == "&" else (x[bit] | value)
                    return value
                case plan_expr.Add(terms):
                    return sum((signals[name] for name in terms[1:]), signals[terms[0]])
                case plan_expr.Gt(a, b):
                    return signals[a] > signals[b]
                case plan_expr.Mux(sel, a, b):
                    return Mux(signals[sel], signals[a], signals[b])
                case plan_expr.Slice(src, lo):
                    return signals[src][lo:lo + width]
                case plan_expr.Cat(parts):
                    return Cat(*(signals[name] for name in parts))
                case plan_expr.Lut(table, inputs):
                    return Const(table, 1 << len(inputs)).bit_select(Cat(*(signals[x] for x in inputs)), 1)
            raise ValueError(f"unknown expression {expr!r}")

        # One submodule per part of the plan (input, encoder, gates, popcount, argmax), as the direct
        # writer's NAME_core_PART modules, so that synthesis counts each part apart for both backends.
        parts = {part: Module() for part in dict.fromkeys(p.part_of[t] for t, _ in p.comb + p.sync)}
        for target, expr in p.comb:
            parts[p.part_of[target]].d.comb += signals[target].eq(build(expr, p.widths[target]))
        for target, source in p.sync:
            parts[p.part_of[target]].d.sync += signals[target].eq(signals[source])
        for part, module in parts.items():
            m.submodules[part] = module
        valid = Signal(p.latency, name="valid")  # valid[k]: the sample that entered k + 1 clocks ago is real
        m.d.sync += valid.eq(Cat(self.in_valid, valid[:-1]) if p.latency > 1 else self.in_valid)
        m.d.comb += self.out_valid.eq(valid[-1])
        m.d.comb += [getattr(self, port).eq(signals[x]) for port, x in p.outputs.items()]
        return m


def result_layout(plan: CorePlan, num_classes: int) -> data.StructLayout:
    """A result: the class in the low bits, then each class's score (out_scores' order)."""
    return data.StructLayout({"label": plan.class_width,
                              "scores": data.ArrayLayout(plan.scores_width // num_classes, num_classes)})


class Classifier(wiring.Component):
    """The valid/ready stream around a PipelinedCore: a credit counter and an output FIFO, the same flow
    control as rtl_templates/stream_top.v (the two must agree: a test simulates both). With `core_module`
    set, the core is an instance of that Verilog module instead (how `hwgen emit` keeps NAME_core a
    module of its own)."""

    def __init__(self, net: Netlist, pipeline: int = 2, core_module: str | None = None,
                 plan: CorePlan | None = None):
        self.plan = plan or plan_core(net, pipeline)
        self.net, self.core_module = net, core_module
        p = self.plan
        self.latency = p.latency + 1
        super().__init__({"i": In(stream.Signature(p.input_width)),
                          "o": Out(stream.Signature(result_layout(p, net.num_classes)))})

    def elaborate(self, platform):
        m = Module()
        p = self.plan
        flow_control(m, self.i, self.o, lambda: PipelinedCore(self.net, plan=p), p.input_port,
                     fifo_depth_bits(p.latency), self.core_module)
        return m


def flow_control(m: Module, i, o, make_core, input_port: str, depth_bits: int, core_module: str | None = None,
                 busy=None):
    """The flow control of rtl_templates/stream_top.v around the core `make_core()` builds (ports in_valid,
    INPUT_PORT, out_valid, out_class, out_scores; with `core_module`, an instance of that Verilog module in
    its place, the ports as wide as o's payload's fields): a credit per result owed and an output FIFO of
    2**depth_bits results. `busy`: a sample is admitted only where it is low (an image's first pixel), and
    taken whatever the credits while it is high. Returns `take`."""
    take, give, gave = Signal(), Signal(), Signal()
    # Results owed, in the core or the FIFO. A given slot comes back a clock later (gave), so o.ready
    # and the FIFO pointers are not timed into the counter.
    credits = Signal(depth_bits + 1)
    admit = take if busy is None else take & ~busy
    m.d.comb += [i.ready.eq(~credits[-1] if busy is None else busy | ~credits[-1]), take.eq(i.valid & i.ready),
                 give.eq(o.valid & o.ready)]
    m.d.sync += [gave.eq(give), credits.eq(credits + admit - gave)]

    core_valid = Signal()
    core_class, core_scores = Signal(len(o.payload.label)), Signal(len(o.payload.scores.as_value()))
    if core_module:
        m.submodules.core = Instance(
            core_module, i_clk=ClockSignal(), i_rst=ResetSignal(), i_in_valid=take,
            **{f"i_{input_port}": i.payload}, o_out_valid=core_valid, o_out_class=core_class,
            o_out_scores=core_scores)
    else:
        m.submodules.core = core = make_core()
        m.d.comb += [core.in_valid.eq(take), getattr(core, input_port).eq(i.payload),
                     core_valid.eq(core.out_valid), core_class.eq(core.out_class), core_scores.eq(core.out_scores)]

    m.submodules.fifo = fifo = Memory(shape=len(core_class) + len(core_scores), depth=1 << depth_bits, init=[])
    write, read = fifo.write_port(), fifo.read_port(domain="comb")
    write_at, read_at = Signal(depth_bits + 1), Signal(depth_bits + 1)  # an extra bit tells full from empty
    m.d.comb += [write.en.eq(core_valid), write.addr.eq(write_at[:depth_bits]),
                 write.data.eq(Cat(core_class, core_scores)), read.addr.eq(read_at[:depth_bits]),
                 o.valid.eq(write_at != read_at), o.payload.eq(read.data)]
    with m.If(core_valid):
        m.d.sync += write_at.eq(write_at + 1)
    with m.If(give):
        m.d.sync += read_at.eq(read_at + 1)
    return take


class FlatPorts(wiring.Component):
    """`classifier` (a component with streams i and o, as Classifier) with the emitted Verilog's flat ports
    (in_valid, in_ready, INPUT_PORT, out_valid, out_ready, out_class, out_scores), the ports
    rtl_templates/stream_top.v declares."""

    def __init__(self, classifier, input_port: str):
        self.classifier, self.input_port = classifier, input_port
        super().__init__({"in_valid": In(1), "in_ready": Out(1), input_port: In(len(classifier.i.payload)),
                          "out_valid": Out(1), "out_ready": In(1), "out_class": Out(len(classifier.o.payload.label)),
                          "out_scores": Out(len(classifier.o.payload.scores.as_value()))})

    def elaborate(self, platform):
        m = Module()
        m.submodules.classifier = c = self.classifier
        m.d.comb += [c.i.valid.eq(self.in_valid), self.in_ready.eq(c.i.ready),
                     c.i.payload.eq(getattr(self, self.input_port)),
                     self.out_valid.eq(c.o.valid), c.o.ready.eq(self.out_ready),
                     self.out_class.eq(c.o.payload.label), self.out_scores.eq(c.o.payload.scores)]
        return m


def FlatClassifier(net: Netlist, pipeline: int = 2, core_module: str | None = None, plan: CorePlan | None = None):
    """A Classifier with the emitted Verilog's flat ports (FlatPorts)."""
    classifier = Classifier(net, pipeline, core_module, plan)
    return FlatPorts(classifier, classifier.plan.input_port)
