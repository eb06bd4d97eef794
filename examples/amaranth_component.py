"""Use an hwgen classifier as a component inside your own Amaranth design, and simulate it there.

    .venv/bin/python examples/amaranth_component.py NET.netlist.json [--vectors 200] [--pipeline 2]

`hwgen.emit.amaranth_rtl.Classifier(net, pipeline)` is a `wiring.Component` (its signature is in that
module's docstring): connect its stream ports like any other. Here a design puts it behind a
`Histogram` that counts the predicted classes; Amaranth's own simulator streams random inputs through
it, and every class that comes out is checked against hwgen's evaluator.
"""

import argparse
import sys
from pathlib import Path

from amaranth.hdl import Array, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.sim import Simulator

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hwgen.emit.amaranth_rtl import Classifier  # noqa: E402
from hwgen.golden import evaluate  # noqa: E402
from hwgen.netlist import load  # noqa: E402
from hwgen.simulation import port_and_input_bits, random_inputs  # noqa: E402


class Histogram(wiring.Component):
    """Takes every result the classifier offers and counts how often each class was predicted."""

    def __init__(self, classifier: Classifier, num_classes: int):
        self.classifier, self.num_classes = classifier, num_classes
        port = classifier.plan.input_port
        super().__init__({"in_valid": In(1), "in_ready": Out(1), port: In(classifier.plan.input_width),
                          "seen": Out(16), "last_class": Out(classifier.plan.class_width)})

    def elaborate(self, platform):
        m = Module()
        m.submodules.classifier = c = self.classifier
        port = c.plan.input_port
        counts = Array(Signal(16, name=f"count{k}") for k in range(self.num_classes))
        m.d.comb += [c.in_valid.eq(self.in_valid), self.in_ready.eq(c.in_ready),
                     getattr(c, port).eq(getattr(self, port)), c.out_ready.eq(1)]
        with m.If(c.out_valid):
            m.d.sync += [counts[c.out_class].eq(counts[c.out_class] + 1), self.seen.eq(self.seen + 1),
                         self.last_class.eq(c.out_class)]
        return m


def run(net_path, vectors: int, pipeline: int) -> int:
    """Simulate; return how many predicted classes differ from the evaluator's."""
    net = load(net_path)
    design = Histogram(Classifier(net, pipeline), net.num_classes)
    port = design.classifier.plan.input_port
    inputs = random_inputs(net, vectors, seed=1)
    port_bits, input_bits = port_and_input_bits(net, inputs)
    words = [int("".join("1" if bit else "0" for bit in row[::-1]), 2) for row in port_bits]
    want = evaluate.predict_from_scores(evaluate.scores(net, input_bits)).tolist()
    got = []

    async def bench(ctx):
        sent = 0
        while len(got) < vectors:
            ctx.set(design.in_valid, sent < vectors)
            if sent < vectors:
                ctx.set(getattr(design, port), words[sent])
            seen_before = ctx.get(design.seen)
            if sent < vectors and ctx.get(design.in_ready):
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
