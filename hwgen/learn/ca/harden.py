"""A trained rule -> netlist v1: 9 * state_bits inputs (the neighbourhood), state_bits outputs (the new
state), one output per class so that the evaluator's class scores are the new state bits."""

import numpy as np

from ...netlist import Netlist
from .model import Rule


def harden_rule(rule: Rule) -> Netlist:
    in_dim = 9 * rule.state_bits
    ops, a, b = [], [], []

    def add_layers(layers, sources):
        """Append the layers' gates; `sources` maps the first layer's input index to a node id."""
        for layer in layers:
            ia, ib = (t.cpu().numpy() for t in layer.indices)
            first = in_dim + len(ops)
            ops.extend(layer.weights.detach().argmax(-1).cpu().numpy().tolist())
            a.extend(sources[ia].tolist())
            b.extend(sources[ib].tolist())
            sources = np.arange(first, first + len(ia))
        return sources

    perception = add_layers(rule.perception, np.arange(in_dim))
    update_in = np.concatenate([rule.own_state.cpu().numpy(), perception])
    outputs = add_layers(rule.update, update_in)
    net = Netlist.from_gates(in_dim, list(zip(ops, a, b)), outputs.tolist(), rule.state_bits)
    net.validate("hardened rule")
    return net
