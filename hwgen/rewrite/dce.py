"""Dead-gate removal: keep only gates that reach an output, renumbered in their original order."""

import numpy as np

from ..netlist import LUT, Netlist


def reached_nodes(net: Netlist, roots) -> np.ndarray:
    """Bool mask over nodes: the roots and every node they read, directly or not."""
    n = net.num_inputs
    live_list = np.isin(np.arange(net.num_nodes), roots).tolist()
    if not net.has_luts:
        a, b = net.a.tolist(), net.b.tolist()
        for g in range(net.num_gates - 1, -1, -1):
            if live_list[n + g]:
                live_list[a[g]] = live_list[b[g]] = True
    else:
        fanins = net.fanins().tolist()
        for g in range(net.num_gates - 1, -1, -1):
            if live_list[n + g]:
                for x in fanins[g]:
                    if x >= 0:
                        live_list[x] = True
    return np.array(live_list, dtype=bool)


def dce(net: Netlist) -> Netlist:
    n = net.num_inputs
    live = reached_nodes(net, net.outputs)
    live[:n] = True  # inputs keep their ids: the port stays the same
    new_id = np.cumsum(live) - 1
    keep = live[n:]
    lut_inputs = lut_tables = None
    if net.has_luts and (net.ops[keep] == LUT).any():
        lut_inputs = np.where(net.lut_inputs[keep] >= 0, new_id[net.lut_inputs[keep]], -1)
        lut_tables = net.lut_tables[keep]
    return net.with_gates(net.ops[keep], new_id[net.a[keep]], new_id[net.b[keep]], new_id[net.outputs],
                          lut_inputs, lut_tables)
