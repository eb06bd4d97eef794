"""The streaming conv engine as Amaranth components, from the plan the direct writer prints
(`stream.plan_stream`): `ConvClassifier(plan)` is the whole stream for your own Amaranth designs,

    i  In(stream.Signature(pixel))    one pixel per transfer (or the plan's P neighbours of a row, the
                                      leftmost at the lowest bits), raster order, H * W / P per image: a raw
                                      pixel (when the netlist has an encoder) or its input channels' bits
    o  Out(stream.Signature(RESULT))  per image: payload.label, payload.scores[c] (amaranth_rtl's layout)

and `ConvEngine(plan)` the engine inside it (never stalls). Each part mirrors stream.py's Verilog module
of the same name, signal for signal: stream.py's docstring says how a stage sees its input, and tests
simulate both backends against the golden model.
"""

import operator
from functools import reduce

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from .amaranth_rtl import FlatPorts, PipelinedCore, flow_control, result_layout
from .stream import StreamPlan, _bits, _ok, _Stage


def _count_up(counter: Signal, limit: int):
    """counter + 1, back to 0 after limit - 1."""
    return Mux(counter == limit - 1, 0, counter + 1)


def _line(m: Module, name: str, length: int, width: int, enable, write_data, read_data):
    """A delay of `length` slots: a memory read before it is written, at an address counting up on
    `enable` (stream.py's line buffers and pooling row)."""
    m.submodules[name] = memory = Memory(shape=width, depth=length, init=[])
    at = Signal(_bits(length), name=f"{name}_at")
    write, read = memory.write_port(), memory.read_port(transparent_for=())
    m.d.comb += [write.addr.eq(at), write.data.eq(write_data), write.en.eq(enable),
                 read.addr.eq(at), read.en.eq(enable), read_data.eq(read.data)]
    with m.If(enable):
        m.d.sync += at.eq(_count_up(at, length))


class Window(wiring.Component):
    """Line buffers, window, anchor position and masks of one stage (stream.py's _window_module)."""

    def __init__(self, g: _Stage):
        self.g = g
        super().__init__({"in_valid": In(1), "in_pixel": In(g.lanes * g.c), "out_valid": Out(1),
                          "out_window": Out(g.lanes * g.k * g.k * g.c)})

    def elaborate(self, platform):
        m = Module()
        g = self.g
        k, c, h, s, n = g.k, g.c, g.h, g.s, g.lanes
        w, cols, owed_max = g.groups, g.left + 1 + g.right, g.anchor_delay
        slots = h * w
        taken, owed = Signal(_bits(slots)), Signal(_bits(owed_max + 1))
        at_start, owing = Signal(init=1), Signal()
        empty, advance = Signal(), Signal()
        m.d.comb += [empty.eq(owing & at_start & ~self.in_valid), advance.eq(self.in_valid | empty)]
        last_pixel = taken == slots - 1
        with m.If(self.in_valid):  # at_start (taken == 0) and owing (owed != 0) kept as flags
            m.d.sync += [taken.eq(_count_up(taken, slots)), at_start.eq(last_pixel)]
        with m.If(self.in_valid & last_pixel):
            m.d.sync += [owed.eq(owed_max), owing.eq(owed_max != 0)]
        with m.Elif(advance & owing):
            m.d.sync += [owed.eq(owed - 1), owing.eq(owed != 1)]

        depth = g.anchor_delay + 1
        pixel = Signal(depth)  # pixel[j]: the slot j behind the newest holds pixels (not an empty slot)
        with m.If(advance):
            m.d.sync += pixel.eq(Cat(self.in_valid, pixel[:-1]) if depth > 1 else self.in_valid)
        anchor_real = pixel[depth - 1]

        tap = {(dy, j): Signal(n * c, name=f"tap_{dy}_{j}", reset_less=True) for dy in range(k) for j in range(cols)}
        for j in range(1, k):  # line j: the slot j rows behind the newest
            source = self.in_pixel if j == 1 else tap[k - j, cols - 1]
            read = Signal(n * c, name=f"line{j}_out")
            _line(m, f"line{j}", w if j == 1 else w - 1, n * c, advance, source, read)
            m.d.comb += tap[k - 1 - j, cols - 1].eq(read)
        with m.If(advance):  # the rest of each row of the window shifts on every slot
            for dy in range(k):
                m.d.sync += [tap[dy, j].eq(tap[dy, j + 1]) for j in range(cols - 1)]
            m.d.sync += tap[k - 1, cols - 1].eq(self.in_pixel)

        y, x = Signal(_bits(h), name="y"), Signal(_bits(w), name="x")
        x_last = Signal(init=w == 1)  # x at the row's last slot, kept as a flag
        step = advance & anchor_real
        with m.If(step):
            m.d.sync += [x.eq(Mux(x_last, 0, x + 1)), x_last.eq(1 if w == 1 else x == w - 2)]
            with m.If(x_last):
                m.d.sync += y.eq(_count_up(y, h))
        flags = {}
        for axis, pos, out, size, at_end in (("y", y, g.oh, h, step & x_last), ("x", x, g.ow // n, w, step)):
            last = (out - 1) * s
            conds = [pos <= last] if last < size - 1 else []
            if s > 1:
                phase = Signal(_bits(s), name=f"{axis}_phase")
                wrap = (y == h - 1) if axis == "y" else x_last
                with m.If(at_end):
                    m.d.sync += phase.eq(Mux(wrap | (phase == s - 1), 0, phase + 1))
                conds.append(phase == 0)
            flags[f"{axis}_out"] = _all(conds)
            for lane in range(n if axis == "x" else 1):
                for d in range(k):
                    low, high = g.inside(axis, d, lane)
                    flags[_ok(axis, lane, d, n)] = _all(([pos >= low] if low > 0 else []) +
                                                        ([pos <= high] if high < size - 1 else []))
        fresh = Signal()  # a slot came in at the last clock: the window holds a new position
        m.d.sync += fresh.eq(advance)
        m.d.comb += self.out_valid.eq(fresh & anchor_real & flags["y_out"] & flags["x_out"])
        taps = []
        for lane in range(n):
            for dy in range(k):
                for dx in range(k):
                    my, mx = g.masked(dy, dx, lane)
                    keep = _all([flags[f"y_ok{dy}"]] * my + [flags[_ok("x", lane, dx, n)]] * mx)
                    at, pixel = g.tap_at(dx, lane)
                    taps.append(tap[dy, at].word_select(pixel, c) & keep.replicate(c))
        m.d.comb += self.out_window.eq(Cat(*taps))
        return m


def _all(conditions: list):
    """The AND of conditions (1 where there are none)."""
    value = Const(1, 1)
    for condition in conditions:
        value = value & condition
    return value


class Pool(wiring.Component):
    """OR pooling over q x q blocks, the remainders dropped (stream.py's _pool_module)."""

    def __init__(self, g: _Stage, channels: int):
        self.g = g
        super().__init__({"in_valid": In(1), "in_pixel": In(channels), "out_valid": Out(1),
                          "out_pixel": Out(channels)})

    def elaborate(self, platform):
        m = Module()
        g, channels = self.g, len(self.in_pixel)
        q, oh, ow, pw = g.q, g.oh, g.ow, g.pw
        y, x = Signal(_bits(oh), name="y"), Signal(_bits(ow), name="x")
        y_phase, x_phase = Signal(_bits(q), name="y_phase"), Signal(_bits(q), name="x_phase")
        segment = Signal(channels, name="segment", reset_less=True)  # the OR of this block's row so far
        above = Signal(channels, name="above", reset_less=True)  # the OR of this block's rows above
        joined = Mux(x_phase == 0, self.in_pixel, segment | self.in_pixel)
        block_end = Signal()
        m.d.comb += block_end.eq(self.in_valid & (y < g.ph * q) & (x < pw * q) & (x_phase == q - 1))
        block = Signal(channels)
        m.d.comb += block.eq(Mux(y_phase == 0, joined, above | joined))
        m.d.sync += self.out_valid.eq(block_end & (y_phase == q - 1))
        with m.If(self.in_valid):
            m.d.sync += [x.eq(_count_up(x, ow)), segment.eq(joined),
                         x_phase.eq(Mux((x == ow - 1) | (x_phase == q - 1), 0, x_phase + 1))]
            with m.If(x == ow - 1):
                m.d.sync += [y.eq(_count_up(y, oh)),
                             y_phase.eq(Mux((y == oh - 1) | (y_phase == q - 1), 0, y_phase + 1))]
        _hold_blocks(m, self.out_pixel, block, block_end, above, pw)
        return m


def _hold_blocks(m: Module, out_pixel, block, block_end, above, row_slots: int):
    """A pooling's output register (each block as it ends) and its row buffer: `above` holds, after a
    row's slot j, what its slot j + 1 of the row above left (a memory of row_slots - 1 and `above`)."""
    held = Signal(len(block), name="out_pixel", reset_less=True)
    m.d.comb += out_pixel.eq(held)
    with m.If(block_end):
        m.d.sync += held.eq(block)
    if row_slots == 1:
        with m.If(block_end):
            m.d.sync += above.eq(block)
    else:
        _line(m, "row", row_slots - 1, len(block), block_end, block, above)


class PoolLanes(wiring.Component):
    """OR pooling of slots of several pixels, q dividing them (stream.py's _pool_lanes_module)."""

    def __init__(self, g: _Stage, channels: int):
        self.g = g
        super().__init__({"in_valid": In(1), "in_pixel": In(g.lanes * channels), "out_valid": Out(1),
                          "out_pixel": Out(g.out_lanes * channels)})

    def elaborate(self, platform):
        m = Module()
        g, channels = self.g, len(self.in_pixel) // self.g.lanes
        q, oh, row_slots = g.q, g.oh, g.ow // g.lanes
        y, x = Signal(_bits(oh), name="y"), Signal(_bits(row_slots), name="x")
        y_phase = Signal(_bits(q), name="y_phase")
        above = Signal(len(self.out_pixel), name="above", reset_less=True)  # the OR of these blocks' rows above
        pixels = [self.in_pixel.word_select(lane, channels) for lane in range(g.lanes)]
        # each block's row segment: q lanes OR'd
        joined = Cat(*(reduce(operator.or_, pixels[b * q:(b + 1) * q]) for b in range(g.out_lanes)))
        block_end = Signal()
        m.d.comb += block_end.eq(self.in_valid & (y < g.ph * q))
        block = Signal(len(self.out_pixel))
        m.d.comb += block.eq(Mux(y_phase == 0, joined, above | joined))
        m.d.sync += self.out_valid.eq(block_end & (y_phase == q - 1))
        with m.If(self.in_valid):
            m.d.sync += x.eq(_count_up(x, row_slots))
            with m.If(x == row_slots - 1):
                m.d.sync += [y.eq(_count_up(y, oh)),
                             y_phase.eq(Mux((y == oh - 1) | (y_phase == q - 1), 0, y_phase + 1))]
        _hold_blocks(m, self.out_pixel, block, block_end, above, row_slots)
        return m


class Collect(wiring.Component):
    """The last feature map of an image, pixel i at [i*C +: C], and a strobe when it is whole."""

    def __init__(self, shape: tuple, lanes: int):
        h, w, c = shape
        self.slots = h * w // lanes  # of `lanes` pixels each
        super().__init__({"in_valid": In(1), "in_pixel": In(lanes * c), "out_valid": Out(1), "map": Out(h * w * c)})

    def elaborate(self, platform):
        m = Module()
        count = Signal(_bits(self.slots))
        held = Signal(len(self.map), reset_less=True)  # data registers without a reset, as stream.py's
        m.d.sync += self.out_valid.eq(self.in_valid & (count == self.slots - 1))
        with m.If(self.in_valid):
            m.d.sync += [count.eq(_count_up(count, self.slots)),
                         held.word_select(count, len(self.in_pixel)).eq(self.in_pixel)]
        m.d.comb += self.map.eq(held)
        return m


class Encoder(wiring.Component):
    """A slot's input bits, registered: the thresholds' comparators on each raw pixel, or the bits as they come."""

    def __init__(self, plan: StreamPlan):
        self.plan = plan
        super().__init__({"in_valid": In(1), "in_pixel": In(plan.width), "out_valid": Out(1),
                          "out_pixel": Out(plan.lanes * plan.net.input_shape[2])})

    def elaborate(self, platform):
        m = Module()
        if self.plan.feature_bits is None:
            bits = self.in_pixel
        else:
            # a threshold at or below 0 is always met; one above the port's range never is
            fb, thresholds = self.plan.feature_bits, [int(t) for t in self.plan.net.encoder[0]]
            bits = Cat(*(Const(t <= 0, 1) if t <= 0 or t >= 1 << fb else self.in_pixel.word_select(lane, fb) >= t
                         for lane in range(self.plan.lanes) for t in thresholds))
        held = Signal(len(self.out_pixel), reset_less=True)
        m.d.sync += [self.out_valid.eq(self.in_valid), held.eq(bits)]
        m.d.comb += self.out_pixel.eq(held)
        return m


class ConvEngine(wiring.Component):
    """The engine: encoder, per conv stage window, kernel (a PipelinedCore) and pooling, the feature map's
    collection and the head; a pixel in every clock that in_valid is high, a result per image out."""

    def __init__(self, plan: StreamPlan):
        self.plan = plan
        super().__init__({"in_valid": In(1), plan.port: In(plan.width), "out_valid": Out(1),
                          "out_class": Out(plan.head.class_width), "out_scores": Out(plan.head.scores_width)})

    def elaborate(self, platform):
        m = Module()
        plan = self.plan
        m.submodules.encoder = encoder = Encoder(plan)
        m.d.comb += [encoder.in_valid.eq(self.in_valid), encoder.in_pixel.eq(getattr(self, plan.port))]
        valid, pixel = encoder.out_valid, encoder.out_pixel
        for j, (g, kernel_plan) in enumerate(plan.stages):
            m.submodules[f"window{j}"] = window = Window(g)
            m.d.comb += [window.in_valid.eq(valid), window.in_pixel.eq(pixel)]
            kernels, size = [], g.k * g.k * g.c
            for lane in range(g.lanes):  # the kernel once per lane; lane 0's valid stands for all
                kernel = PipelinedCore(plan.net.stages[j].kernel, plan=kernel_plan)
                m.submodules[f"kernel{j}" if g.lanes == 1 else f"kernel{j}_{lane}"] = kernel
                m.d.comb += [kernel.in_valid.eq(window.out_valid),
                             kernel.in_bits.eq(window.out_window.word_select(lane, size))]
                kernels.append(kernel)
            valid, pixel = kernels[0].out_valid, Cat(*(kernel.out_bits for kernel in kernels))
            if g.q > 1:
                m.submodules[f"pool{j}"] = pool = (Pool if g.lanes == 1 else PoolLanes)(g, plan.net.stages[j].channels)
                m.d.comb += [pool.in_valid.eq(valid), pool.in_pixel.eq(pixel)]
                valid, pixel = pool.out_valid, pool.out_pixel
        m.submodules.collect = collect = Collect(plan.net.shapes()[-1], plan.stages[-1][0].out_lanes)
        m.submodules.head = head = PipelinedCore(plan.net.head, plan=plan.head)
        m.d.comb += [collect.in_valid.eq(valid), collect.in_pixel.eq(pixel),
                     head.in_valid.eq(collect.out_valid), head.in_bits.eq(collect.map),
                     self.out_valid.eq(head.out_valid), self.out_class.eq(head.out_class),
                     self.out_scores.eq(head.out_scores)]
        return m


class ConvClassifier(wiring.Component):
    """The valid/ready stream around a ConvEngine: an image is admitted (its first pixel taken) only while
    the output FIFO is sure to have room for its result, then each of its pixels is taken as it comes
    (the flow control of rtl_templates/stream_top.v with per-image admission). With `core_module` set,
    the engine is an instance of that Verilog module instead."""

    def __init__(self, plan: StreamPlan, core_module: str | None = None):
        self.plan, self.core_module = plan, core_module
        super().__init__({"i": In(stream.Signature(plan.width)),
                          "o": Out(stream.Signature(result_layout(plan.head, plan.net.num_classes)))})

    def elaborate(self, platform):
        m = Module()
        plan = self.plan
        taken = Signal(_bits(plan.transfers))  # transfers of the current image taken so far
        busy = Signal()  # taken != 0, kept as a flag: i.ready is a LUT of registers
        take = flow_control(m, self.i, self.o, lambda: ConvEngine(plan), plan.port, plan.depth_bits, self.core_module,
                            busy=busy)
        with m.If(take):
            m.d.sync += [taken.eq(_count_up(taken, plan.transfers)), busy.eq(taken != plan.transfers - 1)]
        return m


def FlatConvClassifier(plan: StreamPlan, core_module: str | None = None):
    """A ConvClassifier with the emitted Verilog's flat ports (amaranth_rtl.FlatPorts)."""
    return FlatPorts(ConvClassifier(plan, core_module), plan.port)
