"""Amaranth components for a netlist, for use inside your own Amaranth designs (see examples/).

`Classifier(net, pipeline=2)` is the whole stream: a `wiring.Component` with the signature

    in_valid   In(1)       a sample is offered
    in_ready   Out(1)      it is taken at this clock edge (a register bit: no path from out_ready)
    in_data    In(F * B)   raw features, B bits each (when the netlist has an encoder), or
    in_bits    In(N)       the network's input bits (when it has none)
    out_valid  Out(1)      a result is offered
    out_ready  In(1)       it is taken at this clock edge
    out_class  Out(ceil(log2 C))  the predicted class (ties to the lowest)
    out_scores Out(C * W)  class c's score (its count of ones) in bits c*W .. c*W+W-1

in the `sync` domain, with `latency` clocks from taking a sample to offering its result and one sample
per clock sustained while out_ready stays high. `PipelinedCore` is the stall-free pipeline inside it.
Both are built from `pipeline.plan_core`, the same plan the direct Verilog writer prints.
"""

from amaranth.hdl import Cat, ClockSignal, Const, Instance, Module, Mux, ResetSignal, Signal
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from .. import ops
from ..netlist import Netlist
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
    later (with out_valid)."""

    def __init__(self, net: Netlist, pipeline: int = 2, plan: CorePlan | None = None):
        self.plan = plan or plan_core(net, pipeline)
        p = self.plan
        super().__init__({"in_valid": In(1), p.input_port: In(p.input_width), "out_valid": Out(1),
                          "out_class": Out(p.class_width), "out_scores": Out(p.scores_width)})

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
            kind, args = expr[0], expr[1:]
            if kind == "gate":
                return _gate(args[0], signals.get(args[1]), signals.get(args[2]))
            if kind == "const":
                return Const(args[0], width)
            if kind == "ge":
                x = signals[args[0]]
                chain = compare_chain(args[1], len(x))
                value = x[chain[0][0]]
                for bit, op in chain[1:]:
                    value = (x[bit] & value) if op == "&" else (x[bit] | value)
                return value
            if kind == "add":
                return sum((signals[name] for name in args[1:]), signals[args[0]])
            if kind == "gt":
                return signals[args[0]] > signals[args[1]]
            if kind == "mux":
                return Mux(signals[args[0]], signals[args[1]], signals[args[2]])
            if kind == "slice":
                return signals[args[0]][args[1]:args[1] + width]
            if kind == "cat":
                return Cat(*(signals[name] for name in args[0]))
            if kind == "lut":
                return Const(args[0], 1 << len(args[1])).bit_select(Cat(*(signals[x] for x in args[1])), 1)
            raise ValueError(f"unknown expression {kind}")

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
        m.d.comb += [self.out_valid.eq(valid[-1]), self.out_class.eq(signals[p.out_class]),
                     self.out_scores.eq(signals[p.out_scores])]
        return m


class Classifier(wiring.Component):
    """The valid/ready stream around a PipelinedCore: a credit counter and an output FIFO. With
    `core_module` set, the core is an instance of that Verilog module instead (how `hwgen emit` keeps
    NAME_core a module of its own)."""

    def __init__(self, net: Netlist, pipeline: int = 2, core_module: str | None = None,
                 plan: CorePlan | None = None):
        self.plan = plan or plan_core(net, pipeline)
        self.net, self.core_module = net, core_module
        p = self.plan
        self.latency = p.latency + 1
        super().__init__({
            "in_valid": In(1), "in_ready": Out(1), p.input_port: In(p.input_width),
            "out_valid": Out(1), "out_ready": In(1), "out_class": Out(p.class_width),
            "out_scores": Out(p.scores_width),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.plan
        depth_bits = fifo_depth_bits(p.latency)
        take, give, gave = Signal(), Signal(), Signal()
        # Samples taken and not yet given back, in the core or the FIFO. A given slot comes back a clock
        # later (gave), so out_ready and the FIFO pointers are not timed into the counter.
        credits = Signal(depth_bits + 1)
        m.d.comb += [self.in_ready.eq(~credits[-1]), take.eq(self.in_valid & self.in_ready),
                     give.eq(self.out_valid & self.out_ready)]
        m.d.sync += [gave.eq(give), credits.eq(credits + take - gave)]

        core_valid, core_class, core_scores = Signal(), Signal(p.class_width), Signal(p.scores_width)
        data_in = getattr(self, p.input_port)
        if self.core_module:
            m.submodules.core = Instance(
                self.core_module, i_clk=ClockSignal(), i_rst=ResetSignal(), i_in_valid=take,
                **{f"i_{p.input_port}": data_in}, o_out_valid=core_valid, o_out_class=core_class,
                o_out_scores=core_scores)
        else:
            m.submodules.core = core = PipelinedCore(self.net, plan=p)
            m.d.comb += [core.in_valid.eq(take), getattr(core, p.input_port).eq(data_in),
                         core_valid.eq(core.out_valid), core_class.eq(core.out_class),
                         core_scores.eq(core.out_scores)]

        m.submodules.fifo = fifo = Memory(shape=p.class_width + p.scores_width, depth=1 << depth_bits, init=[])
        write, read = fifo.write_port(), fifo.read_port(domain="comb")
        write_at, read_at = Signal(depth_bits + 1), Signal(depth_bits + 1)  # an extra bit tells full from empty
        m.d.comb += [write.en.eq(core_valid), write.addr.eq(write_at[:depth_bits]),
                     write.data.eq(Cat(core_class, core_scores)), read.addr.eq(read_at[:depth_bits]),
                     self.out_valid.eq(write_at != read_at),
                     Cat(self.out_class, self.out_scores).eq(read.data)]
        with m.If(core_valid):
            m.d.sync += write_at.eq(write_at + 1)
        with m.If(give):
            m.d.sync += read_at.eq(read_at + 1)
        return m
