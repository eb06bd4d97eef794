"""Dead-gate removal: keep only gates that reach an output, renumbered in their original order."""

import numpy as np

from ..netlist import Netlist


def reached_nodes(net: Netlist, roots) -> np.ndarray:
    """Bool mask over nodes: the roots and every node they read, directly or not."""
    n = net.num_inputs
    live_list = np.isin(np.arange(net.num_nodes), roots).tolist()
    a, b = net.a.tolist(), net.b.tolist()
    for g in range(net.num_gates - 1, -1, -1):
        if live_list[n + g]:
            live_list[a[g]] = live_list[b[g]] = True
    return np.array(live_list, dtype=bool)


def dce(net: Netlist) -> Netlist:
    n = net.num_inputs
    live = reached_nodes(net, net.outputs)
    live[:n] = True  # inputs keep their ids: the port stays the same
    new_id = np.cumsum(live) - 1
    keep = live[n:]
    return Netlist(n, net.ops[keep], new_id[net.a[keep]], new_id[net.b[keep]], new_id[net.outputs],
                   net.num_classes, net.encoder)
