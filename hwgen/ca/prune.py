"""Pruning a rule by what it has to do: each gate in turn is tried as a constant or as a wire from one
of its inputs, and kept so when the rule still does its job (`still_works`); repeated until nothing
changes, with the exact passes after each change. Lossy on the full truth table by design: it keeps
only the behaviour the task exercises."""

from .. import ops, rewrite
from ..netlist import Netlist


def prune(net: Netlist, still_works, passes) -> Netlist:
    net, _ = rewrite.run(net, passes)
    changed = True
    while changed:
        changed = False
        for g in range(net.num_gates - 1, -1, -1):
            for op in (ops.FALSE, ops.TRUE, ops.A, ops.B):  # a constant, or a wire from one input
                if net.ops[g] == op:
                    continue
                changed_ops = net.ops.copy()
                changed_ops[g] = op
                trial, _ = rewrite.run(Netlist(net.num_inputs, changed_ops, net.a, net.b, net.outputs, net.num_classes,
                                               net.encoder), passes)
                if trial.num_gates < net.num_gates and still_works(trial):
                    net, changed = trial, True
                    break
            if changed:
                break
    return net
