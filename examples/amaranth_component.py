"""Use an hwgen classifier as a component inside your own Amaranth design, and simulate it there.

    .venv/bin/python examples/amaranth_component.py NET.netlist.json [--vectors 200] [--pipeline 2]

`hwgen.emit.amaranth_rtl.Classifier(net, pipeline)` is a `wiring.Component` with two `lib.stream` ports,
`i` (the inputs) and `o` (each result: `payload.label` and `payload.scores`): connect them like any other
stream. Here a design feeds it from its own stream port and connects its results to a `Histogram` that
counts the predicted classes, with `wiring.connect`; Amaranth's own simulator streams random inputs
through it, and every class that comes out is checked against hwgen's evaluator.
"""

import argparse
import sys
from pathlib import Path

from amaranth.hdl import Array, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out
from amaranth.sim import Simulator

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hwgen.emit.amaranth_rtl import Classifier  # noqa: E402
from hwgen.golden import evaluate  # noqa: E402
from hwgen.netlist import load  # noqa: E402
from hwgen.simulation import port_and_input_bits, random_inputs  # noqa: E402


class Histogram(wiring.Component):
    """Takes every result offered on its stream port and counts how often each class was predicted."""

    def __init__(self, result: stream.Signature, num_classes: int):
        self.num_classes = num_classes
        label = result.members["payload"].shape["label"].shape
        super().__init__({"i": In(result), "seen": Out(16), "last_class": Out(label)})

    def elaborate(self, platform):
        m = Module()
        counts = Array(Signal(16, name=f"count{k}") for k in range(self.num_classes))
        m.d.comb += self.i.ready.eq(1)
        with m.If(self.i.valid):
            label = self.i.payload.label
            m.d.sync += [counts[label].eq(counts[label] + 1), self.seen.eq(self.seen + 1), self.last_class.eq(label)]
        return m


class Design(wiring.Component):
    """A stream of samples in, through the classifier, into the histogram."""

    def __init__(self, classifier: Classifier, num_classes: int):
        self.classifier, self.histogram = classifier, Histogram(classifier.o.signature, num_classes)
        super().__init__({"samples": In(stream.Signature(classifier.plan.input_width)), "seen": Out(16),
                          "last_class": Out(classifier.plan.class_width)})

    def elaborate(self, platform):
        m = Module()
        m.submodules.classifier, m.submodules.histogram = self.classifier, self.histogram
        wiring.connect(m, wiring.flipped(self.samples), self.classifier.i)
        wiring.connect(m, self.classifier.o, self.histogram.i)
        m.d.comb += [self.seen.eq(self.histogram.seen), self.last_class.eq(self.histogram.last_class)]
        return m


def run(net_path, vectors: int, pipeline: int) -> int:
    """Simulate; return how many predicted classes differ from the evaluator's."""
    net = load(net_path)
    design = Design(Classifier(net, pipeline), net.num_classes)
    inputs = random_inputs(net, vectors, seed=1)
    port_bits, input_bits = port_and_input_bits(net, inputs)
    words = [int("".join("1" if bit else "0" for bit in row[::-1]), 2) for row in port_bits]
    want = evaluate.predict_from_scores(evaluate.scores(net, input_bits)).tolist()
    got = []

    async def bench(ctx):
        sent = 0
        while len(got) < vectors:
            ctx.set(design.samples.valid, sent < vectors)
            if sent < vectors:
                ctx.set(design.samples.payload, words[sent])
            seen_before = ctx.get(design.seen)
            if sent < vectors and ctx.get(design.samples.ready):
                sent += 1
            await ctx.tick()
            if ctx.get(design.seen) != seen_before:
                got.append(ctx.get(design.last_class))

    sim = Simulator(design)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return sum(g != w for g, w in zip(got, want))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("netlist")
    p.add_argument("--vectors", type=int, default=200)
    p.add_argument("--pipeline", type=int, default=2)
    args = p.parse_args()
    mismatches = run(args.netlist, args.vectors, args.pipeline)
    print(f"{args.vectors} vectors through Histogram(Classifier) in Amaranth's simulator: {mismatches} mismatches")
    sys.exit(1 if mismatches else 0)


if __name__ == "__main__":
    main()
