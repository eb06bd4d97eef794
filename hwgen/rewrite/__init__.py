"""Rewriting passes and the pipeline that runs them in a chosen order.

Each pass is a function Netlist -> Netlist that keeps the function of every output (class scores
stay bit-exact); `run` records gates and levels before and after, and the seconds each pass took.
"""

import time

import numpy as np

from ..errors import HwgenError
from ..flow.config import DEFAULTS
from ..netlist import Netlist
from .cut_rewrite import cut
from .dce import dce
from .decompose import decompose
from .fold import fold
from .strash import strash

PASSES = {
    "fold": (fold, "constant propagation, trivial gates, inverters absorbed into the gates that read them"),
    "strash": (strash, "structural hashing: merge identical and inverted-twin gates (folds too)"),
    "dce": (dce, "dead-gate removal: keep only what reaches an output"),
    "cut": (cut, "cut rewriting: a cone over up to 4 leaves becomes the smallest circuit for its function"),
    "decompose": (decompose, "LUT nodes into two-input gates (Shannon expansion), for tools that take gates only"),
}
DEFAULT_PASSES = DEFAULTS["simplify"]["passes"]  # the exact passes a build runs, in order


def check_names(names):
    unknown = [n for n in names if n not in PASSES]
    if unknown:
        raise HwgenError(f"unknown pass \"{unknown[0]}\" (known: {', '.join(PASSES)})")
    if not names:
        raise HwgenError("the pass list is empty")


def gates_per_level(net: Netlist) -> list:
    """Gates at logic level 1, 2, ... (a gate's level: 1 + the deeper of its inputs')."""
    levels = net.levels()[net.num_inputs:]
    return np.bincount(levels)[1:].tolist() if len(levels) else []


def run(net: Netlist, names) -> tuple[Netlist, list[dict]]:
    check_names(names)
    net.validate("netlist to simplify")  # the cut kernel reads raw memory: every id must name a node
    stats, per_level = [], gates_per_level(net)
    for name in names:
        start = time.perf_counter()
        before_gates, before_levels = net.num_gates, len(per_level)
        net = PASSES[name][0](net)
        seconds = time.perf_counter() - start
        per_level = gates_per_level(net)
        stats.append({"pass": name, "gates_in": before_gates, "gates_out": net.num_gates,
                      "levels_in": before_levels, "levels_out": len(per_level), "gates_per_level": per_level,
                      "seconds": round(seconds, 4)})
    return net, stats
