"""The one simplify flow, for `hwgen simplify`, `hwgen build` and the cellular-automaton build: the exact
passes; the proof (ABC cec) that their result is equivalent, when asked for; then, given data, the lossy
data-aware pass (guarded by test accuracy) and the exact passes again."""

import time
from dataclasses import dataclass, field

from ..errors import HwgenError
from ..flow.config import DEFAULTS
from ..netlist import Netlist


@dataclass
class Simplified:
    exact: Netlist                  # the result of the exact passes, equivalent to the input
    final: Netlist                  # the same, or after data-aware folding
    passes: list                    # each pass's statistics
    equivalence: str                # "proven", or "not checked"
    data_aware: dict | None = None  # data-aware folding's figures
    seconds: dict = field(default_factory=dict)


def simplify(net: Netlist, passes=DEFAULTS["simplify"]["passes"], verify: bool = DEFAULTS["simplify"]["verify"],
             data=None, rare_fraction: float = DEFAULTS["simplify"]["rare_fraction"],
             max_accuracy_drop: float = DEFAULTS["simplify"]["max_accuracy_drop"],
             params: dict | None = None) -> Simplified:
    """The exact `passes`; with `verify`, ABC's proof that their result is equivalent to `net`; then, given
    `data` (an object with train_x, test_x and test_y: raw features, or input bits without an encoder), the
    lossy data-aware pass and the exact passes again after it. params: {pass: {key: value}} over the
    defaults."""
    from . import run

    start = time.perf_counter()
    exact, stats = run(net, passes, params)
    seconds = {"simplify": round(time.perf_counter() - start, 2)}
    equivalence = "not checked"
    if verify:
        from ..interop.abc import prove_equivalent

        start = time.perf_counter()
        if not prove_equivalent(net, exact):
            raise HwgenError("the simplified netlist is NOT equivalent to its input (ABC cec); nothing written")
        equivalence, seconds["verify"] = "proven", round(time.perf_counter() - start, 2)
    result = Simplified(exact, exact, stats, equivalence, seconds=seconds)
    if data is not None:
        start = time.perf_counter()
        lossy = {"rare_fraction": rare_fraction, "max_accuracy_drop": max_accuracy_drop}
        result.final, lossy_stats = run(exact, ["data_aware", *passes], {**(params or {}), "data_aware": lossy}, data)
        folded = lossy_stats[0]["stats"]
        result.data_aware = {"rare_fraction": rare_fraction, "near_constant": folded["near_constant"],
                             "unobserved": folded["unobserved"], "gates_exact": exact.num_gates,
                             "gates": result.final.num_gates, "test_accuracy_exact": folded["test_accuracy_exact"],
                             "test_accuracy": folded["test_accuracy"], "drop_points": folded["drop_points"],
                             "max_accuracy_drop": max_accuracy_drop}
        seconds["data_aware"] = round(time.perf_counter() - start, 2)
    return result


def simplify_conv(net, passes=DEFAULTS["simplify"]["passes"], verify: bool = DEFAULTS["simplify"]["verify"],
                  params: dict | None = None):
    """A conv netlist (v3) simplified where it is shared: each stage's kernel and the head run the exact
    passes and are proven once, not once per position. Returns the netlist and, per stage, its statistics
    ({"stage": "conv 0" or "head", "passes": [...], "equivalence": ...})."""
    import dataclasses

    names = [f"conv {k}" for k in range(len(net.stages))] + ["head"]
    results = [simplify(part, passes, verify, params=params) for part in [s.kernel for s in net.stages] + [net.head]]
    stats = [{"stage": name, "passes": r.passes, "equivalence": r.equivalence} for name, r in zip(names, results)]
    stages = [dataclasses.replace(stage, kernel=r.exact) for stage, r in zip(net.stages, results)]
    return dataclasses.replace(net, stages=stages, head=results[-1].exact), stats
