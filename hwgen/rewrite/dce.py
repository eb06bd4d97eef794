"""Dead-gate removal: keep only gates that reach an output, renumbered in their original order."""

import numpy as np

from ..netlist import Netlist


def dce(net: Netlist) -> Netlist:
    n = net.num_inputs
    live = np.zeros(net.num_nodes, dtype=bool)
    live[net.outputs] = True
    live_list = live.tolist()
    a, b = net.a.tolist(), net.b.tolist()
    for g in range(net.num_gates - 1, -1, -1):
        if live_list[n + g]:
            live_list[a[g]] = live_list[b[g]] = True
    live = np.array(live_list, dtype=bool)
    live[:n] = True  # inputs keep their ids: the port stays the same
    new_id = np.cumsum(live) - 1
    keep = live[n:]
    return Netlist(n, net.ops[keep], new_id[net.a[keep]], new_id[net.b[keep]], new_id[net.outputs],
                   net.num_classes, net.encoder)
