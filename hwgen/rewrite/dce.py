"""Dead-gate removal: keep only gates that reach an output, renumbered in their original order."""

import numpy as np

from ..netlist import LUT, Netlist


def dce(net: Netlist) -> Netlist:
    n = net.num_inputs
    live = net.reached(net.outputs)
    live[:n] = True  # inputs keep their ids: the port stays the same
    new_id = np.cumsum(live) - 1
    keep = live[n:]
    lut_inputs = lut_tables = None
    if net.has_luts and (net.ops[keep] == LUT).any():
        lut_inputs = np.where(net.lut_inputs[keep] >= 0, new_id[net.lut_inputs[keep]], -1)
        lut_tables = net.lut_tables[keep]
    return net.with_gates(net.ops[keep], new_id[net.a[keep]], new_id[net.b[keep]], new_id[net.outputs],
                          lut_inputs, lut_tables)
