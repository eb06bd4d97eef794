"""Rewriting passes, in a registry, and `run`, which applies a list of them in order.

A pass takes a Netlist and its parameters and returns the new Netlist with its own statistics (as
mockturtle's algorithms take a params struct and fill a stats struct). An exact pass keeps the function of
every output (class scores stay bit-exact); a lossy pass (data-aware folding) may change it, reads the data
it is given, and is guarded by test accuracy. A pass's parameters and their defaults are in config.DEFAULTS
("simplify" section): the one place a config, the CLI and the library read them from.
"""

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..errors import HwgenError
from ..flow.config import DEFAULTS
from ..netlist import Netlist
from .cut_rewrite import cut
from .data_aware import data_aware
from .dce import dce
from .decompose import decompose
from .fold import fold
from .strash import strash


@dataclass(frozen=True)
class Pass:
    function: Callable          # (net, **params) -> (net, stats); a lossy pass also takes data=
    doc: str
    exact: bool = True
    params: tuple = field(default=())  # the names of its parameters


def _no_stats(function):
    return lambda net: (function(net), {})


PASSES = {
    "fold": Pass(_no_stats(fold), "constant propagation, trivial gates, inverters absorbed into the gates that "
                                  "read them"),
    "strash": Pass(_no_stats(strash), "structural hashing: merge identical and inverted-twin gates (folds too)"),
    "dce": Pass(_no_stats(dce), "dead-gate removal: keep only what reaches an output"),
    "cut": Pass(cut, "cut rewriting: a cone over up to cut_size leaves becomes the smallest circuit for its "
                     "function", params=("cut_size", "cuts_per_node")),
    "decompose": Pass(_no_stats(decompose), "LUT nodes into two-input gates (Shannon expansion), for tools that "
                                            "take gates only"),
    "data_aware": Pass(data_aware, "fold gates that are (nearly) constant on the training inputs into constants, "
                                   "then the exact passes again (lossy, guarded by test accuracy)",
                       exact=False, params=("rare_fraction", "max_accuracy_drop")),
}
DEFAULT_PASSES = DEFAULTS["simplify"]["passes"]  # the exact passes a build runs, in order


def default_params(name: str) -> dict:
    """A pass's parameters as config.DEFAULTS gives them: simplify.NAME.KEY (cut), or simplify.KEY where the
    pass's settings sit in the section itself (data_aware: simplify.rare_fraction, ...)."""
    section = DEFAULTS["simplify"]
    own = section[name] if isinstance(section.get(name), dict) else section
    return {key: own[key] for key in PASSES[name].params}


def check_names(names, exact_only: bool = False):
    unknown = [n for n in names if n not in PASSES]
    if unknown:
        raise HwgenError(f"unknown pass \"{unknown[0]}\" (known: {', '.join(PASSES)})")
    if not names:
        raise HwgenError("the pass list is empty")
    lossy = [n for n in names if not PASSES[n].exact]
    if exact_only and lossy:
        raise HwgenError(f"pass \"{lossy[0]}\" is not exact: it runs only with data (simplify --data, or "
                         "simplify.data_aware in a config)")


def gates_per_level(net: Netlist) -> list:
    """Gates at logic level 1, 2, ... (a gate's level: 1 + the deeper of its inputs')."""
    levels = net.levels()[net.num_inputs:]
    return np.bincount(levels)[1:].tolist() if len(levels) else []


def run(net: Netlist, names, params: dict | None = None, data=None) -> tuple[Netlist, list[dict]]:
    """Apply the passes `names` in order. params: {pass: {key: value}} over the defaults; data: what a
    lossy pass reads (train_x, test_x, test_y). Returns the netlist and, per pass, gates and levels in
    and out, seconds, the parameters it ran with and its own statistics."""
    check_names(names, exact_only=data is None)
    net.validate("netlist to simplify")  # the cut kernel reads raw memory: every id must name a node
    stats, per_level, input_names = [], gates_per_level(net), net.input_names
    for name in names:
        chosen = {**default_params(name), **(params or {}).get(name, {})}
        extra = {} if PASSES[name].exact else {"data": data}
        start = time.perf_counter()
        before_gates, before_levels = net.num_gates, len(per_level)
        net, own = PASSES[name].function(net, **chosen, **extra)
        seconds = time.perf_counter() - start
        per_level = gates_per_level(net)
        stats.append({"pass": name, "gates_in": before_gates, "gates_out": net.num_gates,
                      "levels_in": before_levels, "levels_out": len(per_level), "gates_per_level": per_level,
                      "seconds": round(seconds, 4), "params": chosen, "stats": own})
    if input_names is not None:  # the passes keep the inputs as they are, so their names hold
        net = dataclasses.replace(net, input_names=input_names)
    return net, stats
